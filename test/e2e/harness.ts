// End-to-end harness: DPO Studio inside a real VS Code (code-server) driven by a real browser
// (Debian chromium through playwright-core). See shared/REAL-VSCODE.md.
//
//   test('problems show up', async (t) => {
//     await withVSCode(t, { files: { 'data/a.jsonl': '...' } }, async (vs) => {
//       await vs.openFile('data/a.jsonl');
//       const problems = await vs.waitFor('3 problems', async () => {
//         const p = await vs.readProblems();
//         return p.length === 3 && p;
//       });
//     });
//   });
//
// Every session gets a fresh workspace, user-data dir and extensions dir. When the test body
// fails, a screenshot, code-server's log, VS Code's own logs and the browser console are saved
// under .test-artifacts/<test name>/ and the error names them. Server and browser always stop.

import { chromium, type Browser, type Page } from 'playwright-core';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkChromium, repoRoot } from '../../scripts/vscode/prepare.mjs';
import { startServer, type VSCodeServer } from '../../scripts/vscode/server.mjs';

/** The machine is slow and shared (2 cores): every wait is generous. */
export const TIMEOUTS = {
  serverStart: 180_000,
  workbench: 180_000,
  ui: 30_000,
  default: 60_000,
};

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const EXTENSION_ID = 'dpo-studio.dpo-studio';

export interface SessionOptions {
  /** Files to create in the workspace: relative path -> content. */
  files?: Record<string, string>;
  /** Folders to copy into the workspace: relative target -> absolute source. */
  copy?: Record<string, string>;
  /** More VS Code user settings. */
  settings?: Record<string, unknown>;
  /** Workspace trust (default off, so the extension runs without the trust prompt). */
  workspaceTrust?: boolean;
}

export interface Problem {
  severity: 'error' | 'warning' | 'info' | 'unknown';
  message: string;
  source: string;
  code: string;
  line: number;
  column: number;
  /** Absolute path of the file the problem belongs to. */
  file: string;
}

/** What `waitFor` hands back: the probe's value, never a falsy one. */
export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export interface LogEntry {
  level: string;
  text: string;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name));
}

/**
 * Polls `probe` until it returns something truthy, and returns that. On timeout the error says
 * what was awaited and what the probe last returned or threw.
 */
export async function waitFor<T>(
  description: string,
  probe: () => T | Promise<T>,
  { timeoutMs = TIMEOUTS.default, intervalMs = 500 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Truthy<T>> {
  const started = Date.now();
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      lastError = undefined;
      if (last) return last as Truthy<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() - started > timeoutMs) {
      let shown: string;
      try {
        shown = JSON.stringify(last);
      } catch {
        shown = String(last);
      }
      throw new Error(
        `Timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${description}.` +
          ` Last value: ${shown?.slice(0, 2000)}` +
          (lastError ? `; last error: ${errorMessage(lastError)}` : ''),
      );
    }
    await sleep(intervalMs);
  }
}

export class VSCodeSession {
  readonly workspace: string;
  server?: VSCodeServer;
  browser?: Browser;
  private pageOrUndefined?: Page;
  readonly console: string[] = [];
  private closed = false;

  private readonly browserHome: string;

  constructor(readonly options: SessionOptions = {}) {
    this.workspace = mkdtempSync(path.join(os.tmpdir(), 'dpo-studio-e2e-ws-'));
    this.browserHome = mkdtempSync(path.join(os.tmpdir(), 'dpo-studio-e2e-browser-'));
  }

  get page(): Page {
    if (!this.pageOrUndefined) throw new Error('the browser page is not open yet');
    return this.pageOrUndefined;
  }

  /** Writes the workspace, starts code-server and the browser, waits for the workbench. */
  async start(): Promise<void> {
    const executablePath = checkChromium();
    const main = path.join(repoRoot, 'dist', 'extension.cjs');
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` before the e2e tests`);
    // Copies first, then files: a test's own file replaces the copied one of the same name.
    for (const [rel, source] of Object.entries(this.options.copy ?? {})) {
      cpSync(source, path.join(this.workspace, rel), { recursive: true });
    }
    for (const [rel, content] of Object.entries(this.options.files ?? {})) {
      this.writeFile(rel, content);
    }
    this.server = await startServer({
      workspace: this.workspace,
      workspaceTrust: this.options.workspaceTrust ?? false,
      settings: this.options.settings ?? {},
      timeoutMs: TIMEOUTS.serverStart,
      quiet: true,
    });
    // Chromium's own files (crashpad database, caches) go to a throwaway home, not ~/.config.
    this.browser = await chromium.launch({
      executablePath,
      args: CHROMIUM_ARGS,
      timeout: TIMEOUTS.serverStart,
      env: {
        ...process.env,
        XDG_CONFIG_HOME: path.join(this.browserHome, 'config'),
        XDG_CACHE_HOME: path.join(this.browserHome, 'cache'),
      },
    });
    const context = await this.browser.newContext({ viewport: { width: 1400, height: 900 } });
    // tsx (esbuild keepNames) may wrap functions handed to page.evaluate in __name(); make that
    // harmless in the page.
    await context.addInitScript('if (typeof globalThis.__name === "undefined") globalThis.__name = (f) => f;');
    const page = await context.newPage();
    this.pageOrUndefined = page;
    page.setDefaultTimeout(TIMEOUTS.ui);
    page.on('console', (m) => this.console.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => this.console.push(`[pageerror] ${e.message}`));
    await page.goto(this.server.workspaceUrl, { timeout: TIMEOUTS.workbench });
    await page.waitForSelector('.monaco-workbench', { timeout: TIMEOUTS.workbench });
    // The workbench is there once the explorer shows the folder and the extension host runs.
    await waitFor('the explorer to show the workspace folder', () => page.locator('.explorer-folders-view').count(), {
      timeoutMs: TIMEOUTS.workbench,
    });
    await waitFor('the extension host to start (remoteexthost.log)', () => this.exthostLog().length > 0, {
      timeoutMs: TIMEOUTS.workbench,
    });
  }

  /** Absolute path of a workspace file. */
  path(rel: string): string {
    return path.join(this.workspace, rel);
  }

  writeFile(rel: string, content: string): void {
    const file = this.path(rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }

  readFile(rel: string): string {
    return readFileSync(this.path(rel), 'utf8');
  }

  waitFor<T>(
    description: string,
    probe: () => T | Promise<T>,
    options?: { timeoutMs?: number; intervalMs?: number },
  ): Promise<Truthy<T>> {
    return waitFor(description, probe, options);
  }

  /** Closes whatever widget, quick input or notification has the focus. */
  async escape(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await sleep(150);
  }

  /** Closes the quick input if it is open and waits until it is gone. */
  async closeQuickInput({ timeoutMs = TIMEOUTS.ui } = {}): Promise<void> {
    await waitFor(
      'the quick input to close',
      async () => {
        if (!(await this.quickInput().isVisible())) return true;
        await this.page.keyboard.press('Escape');
        await sleep(300);
        return false;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Presses `key` (F1, Control+P) until the quick input shows, starting from a closed one. */
  private async openQuickInput(key: string, what: string, timeoutMs: number): Promise<void> {
    await this.closeQuickInput({ timeoutMs });
    await waitFor(
      what,
      async () => {
        if (!(await this.quickInput().locator('input').isVisible())) {
          await this.page.keyboard.press(key);
          await sleep(500);
        }
        return this.quickInput().locator('input').isVisible();
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  private quickInput() {
    return this.page.locator('.quick-input-widget');
  }

  /** Waits for a quick-input row labelled `label`; returns its index and whether it is focused. */
  async findQuickInputItem(label: string, { timeoutMs = TIMEOUTS.ui } = {}): Promise<{ index: number; focused: boolean }> {
    const rows = this.quickInput().locator('.quick-input-list .monaco-list-row');
    return waitFor(
      `a quick-input entry "${label}"`,
      async () => {
        const labels = await rows.evaluateAll((els) =>
          els.map((el) => ({
            aria: el.getAttribute('aria-label') ?? '',
            focused: el.classList.contains('focused'),
            text: el.querySelector('.label-name')?.textContent ?? '',
          })),
        );
        const index = labels.findIndex((l) => l.text === label || l.aria === label || l.aria.startsWith(`${label},`));
        if (index < 0) throw new Error(`entries: ${JSON.stringify(labels.map((l) => l.aria))}`);
        return { index, focused: labels[index]!.focused };
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** Waits for a quick-input row labelled `label` and picks it (Enter if focused, else click). */
  async pickQuickInputItem(label: string, { timeoutMs = TIMEOUTS.ui } = {}): Promise<void> {
    let { index, focused } = await this.findQuickInputItem(label, { timeoutMs });
    if (!focused) {
      // The list may still be settling (a stale row would vanish under the click).
      await sleep(500);
      ({ index, focused } = await this.findQuickInputItem(label, { timeoutMs }));
    }
    if (focused) await this.page.keyboard.press('Enter');
    else await this.quickInput().locator('.quick-input-list .monaco-list-row').nth(index).click();
  }

  /** Opens the command palette with `text` typed in (without the leading '>'). */
  async openCommandPalette(text: string, { timeoutMs = TIMEOUTS.ui } = {}): Promise<void> {
    await this.openQuickInput('F1', 'the command palette to open', timeoutMs);
    await this.quickInput().locator('input').fill(`>${text}`, { timeout: timeoutMs });
  }

  /** Whether the command palette lists a command titled `title` (then closes the palette). */
  async hasCommand(title: string, { timeoutMs = TIMEOUTS.ui } = {}): Promise<boolean> {
    await this.openCommandPalette(title, { timeoutMs });
    try {
      await this.findQuickInputItem(title, { timeoutMs });
      return true;
    } catch {
      return false;
    } finally {
      await this.closeQuickInput();
    }
  }

  /**
   * Runs a command as a person does: F1, type its title key by key, Enter. Enter runs whatever
   * the palette put first for those words, so for DPO Studio's own commands (the ones under
   * test) the command must be that first match: this fails, running nothing, when typing the
   * title would run another command. VS Code's own commands are not all first for their full
   * title ("File: Save" lists "File: Compare Active File with Saved" above it; a person presses
   * Ctrl+S): those are filled in at once and picked by name, as before.
   */
  async runCommand(title: string, { timeoutMs = TIMEOUTS.ui } = {}): Promise<void> {
    const ours = title.startsWith('DPO:');
    if (!ours) {
      await this.openCommandPalette(title, { timeoutMs });
      try {
        await this.pickQuickInputItem(title, { timeoutMs });
      } catch (err) {
        await this.closeQuickInput().catch(() => undefined);
        throw new Error(`Command "${title}" is not in the command palette: ${errorMessage(err)}`);
      }
      return;
    }
    await this.openQuickInput('F1', 'the command palette to open', timeoutMs);
    const input = this.quickInput().locator('input');
    await input.fill('>', { timeout: timeoutMs });
    await input.pressSequentially(title, { delay: 15, timeout: timeoutMs });
    let found: { index: number; focused: boolean };
    try {
      found = await this.findQuickInputItem(title, { timeoutMs });
    } catch (err) {
      await this.closeQuickInput().catch(() => undefined);
      throw new Error(`Command "${title}" is not in the command palette: ${errorMessage(err)}`);
    }
    if (!found.focused) {
      // The list may still be catching up with the last keystroke.
      await sleep(500);
      found = await this.findQuickInputItem(title, { timeoutMs });
    }
    if (!found.focused) {
      const first = await this.quickInput().locator('.quick-input-list .monaco-list-row.focused .label-name').first().textContent().catch(() => '?');
      await this.closeQuickInput().catch(() => undefined);
      throw new Error(`Typing "${title}" and pressing Enter would run "${first}", not "${title}" (it is entry ${found.index + 1} of the matches)`);
    }
    await this.page.keyboard.press('Enter');
  }

  /** Opens a workspace file with quick open (Ctrl+P) and waits for its editor tab. */
  async openFile(rel: string, { timeoutMs = TIMEOUTS.default } = {}): Promise<void> {
    const page = this.page;
    const base = path.basename(rel);
    await this.openQuickInput('Control+P', 'quick open to show', timeoutMs);
    await this.quickInput().locator('input').fill(rel, { timeout: timeoutMs });
    const rows = this.quickInput().locator('.quick-input-list .monaco-list-row');
    const find = () => waitFor(
      `quick open to list ${rel}`,
      async () => {
        const entries = await rows.evaluateAll((els) =>
          els.map((el) => ({
            name: el.querySelector('.label-name')?.textContent ?? '',
            description: el.querySelector('.label-description')?.textContent ?? '',
            focused: el.classList.contains('focused'),
          })),
        );
        const dir = path.dirname(rel) === '.' ? '' : path.dirname(rel);
        const i = entries.findIndex((e) => e.name === base && (dir === '' || e.description.replace(/\\/g, '/').endsWith(dir)));
        if (i < 0) throw new Error(`entries: ${JSON.stringify(entries)}`);
        return { i, focused: entries[i]!.focused };
      },
      { timeoutMs, intervalMs: 300 },
    );
    let index = await find();
    if (!index.focused) {
      // The list may still be settling after the text was typed (a stale row would vanish under the click).
      await sleep(500);
      index = await find();
    }
    if (index.focused) await page.keyboard.press('Enter');
    else await rows.nth(index.i).click();
    await waitFor(
      `an editor tab for ${rel}`,
      async () => {
        const active = page.locator('.tabs-container .tab.active').first();
        if ((await active.count()) === 0) return false;
        const name = (await active.getAttribute('data-resource-name')) ?? (await active.getAttribute('aria-label'));
        return name === base;
      },
      { timeoutMs },
    );
  }

  /** Opens the Problems panel and reads its rows (only rendered rows: keep the lists short). */
  async readProblems(): Promise<Problem[]> {
    const page = this.page;
    if (!(await page.locator('.markers-panel').isVisible().catch(() => false))) {
      await this.runCommand('Problems: Focus on Problems View');
      await page.locator('.markers-panel').waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    }
    return page.locator('.markers-panel .monaco-list-row').evaluateAll((rows) => {
      const out: Problem[] = [];
      let file = '';
      for (const row of rows) {
        const resource = row.querySelector('.resource-label-container .monaco-icon-label');
        if (resource) {
          file = resource.getAttribute('aria-label') ?? resource.textContent ?? '';
          continue;
        }
        // No named helper functions in here: tsx would wrap them in __name(), unknown in the page.
        const texts: Record<string, string> = {};
        for (const sel of ['.marker-line', '.marker-message', '.marker-source', '.marker-code']) {
          texts[sel] = Array.from(row.querySelectorAll(sel))
            .map((e) => e.textContent ?? '')
            .join('\n')
            .trim();
        }
        const icon = row.querySelector('.marker-icon');
        const severity = icon?.classList.contains('error')
          ? 'error'
          : icon?.classList.contains('warning')
            ? 'warning'
            : icon?.classList.contains('info')
              ? 'info'
              : 'unknown';
        const at = /Ln (\d+), Col (\d+)/.exec(texts['.marker-line'] ?? '');
        out.push({
          severity,
          message: texts['.marker-message'] ?? '',
          source: texts['.marker-source'] ?? '',
          code: texts['.marker-code'] ?? '',
          line: at ? Number(at[1]) : NaN,
          column: at ? Number(at[2]) : NaN,
          file,
        });
      }
      return out;
    });
  }

  /**
   * Shows an output channel in the Output panel and returns the text on screen (visual lines:
   * long lines may be wrapped; only what is rendered). `outputChannelLog` has the exact text.
   */
  async readOutputChannel(name: string): Promise<string> {
    const page = this.page;
    const select = page
      .locator('.part.panel select.monaco-select-box[aria-label="Switch Output"]')
      .filter({ visible: true })
      .first();
    if (!(await select.isVisible().catch(() => false))) {
      await this.runCommand('Output: Focus on Output View');
      await select.waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    }
    const options = await select.locator('option').allTextContents();
    if (!options.includes(name)) {
      throw new Error(`No output channel "${name}"; channels: ${JSON.stringify(options)}`);
    }
    await select.selectOption({ label: name });
    await waitFor(`the Output panel to show "${name}"`, async () => {
      const selected = await select.evaluate((el) => {
        const s = el as HTMLSelectElement;
        return s.options[s.selectedIndex]?.textContent ?? '';
      });
      return selected === name;
    });
    return page.locator('.part.panel .output-view .view-lines .view-line').evaluateAll((lines) =>
      lines
        .map((l) => ({ top: parseFloat((l as HTMLElement).style.top) || 0, text: l.textContent ?? '' }))
        .sort((a, b) => a.top - b.top)
        .map((l) => l.text.replace(/\u00a0/g, ' '))
        .join('\n')
        .trimEnd(),
    );
  }

  /** Exact text of an output channel, from the file the extension host writes it to. */
  outputChannelLog(name: string): string {
    if (!this.server) return '';
    return listFiles(this.server.vscodeLogsDir)
      .filter((f) => path.basename(path.dirname(f)).startsWith('output_logging_'))
      .filter((f) => path.basename(f).replace(/^\d+-/, '') === `${name}.log`)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
  }

  /** The extension host's log (code-server runs it next to the server: remoteexthost.log). */
  exthostLog(): string {
    if (!this.server) return '';
    return listFiles(this.server.vscodeLogsDir)
      .filter((f) => /exthost\.log$/i.test(path.basename(f)))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
  }

  /** Entries of the extension host log, a timestamped line plus its continuation lines. */
  exthostEntries(): LogEntry[] {
    const entries: LogEntry[] = [];
    for (const line of this.exthostLog().split('\n')) {
      const m = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \[(\w+)\]/.exec(line);
      if (m) entries.push({ level: m[1]!, text: line });
      else if (entries.length) entries[entries.length - 1]!.text += `\n${line}`;
    }
    return entries;
  }

  /** Errors in the extension host log that concern this extension (activation or later). */
  extensionErrors(id = EXTENSION_ID): LogEntry[] {
    return this.exthostEntries().filter(
      (e) =>
        (e.level === 'error' && e.text.includes(id)) ||
        e.text.includes(`Activating extension '${id}' failed`) ||
        e.text.includes(`Activating extension ${id} failed`),
    );
  }

  /** Waits until the extension host log says the extension was activated; returns that line. */
  async waitForActivation(id = EXTENSION_ID, { timeoutMs = TIMEOUTS.default } = {}): Promise<string> {
    return waitFor(
      `the extension host to activate ${id}`,
      () => this.exthostEntries().find((e) => e.text.includes(`_doActivateExtension ${id},`))?.text,
      { timeoutMs },
    );
  }

  async screenshot(file: string): Promise<void> {
    mkdirSync(path.dirname(file), { recursive: true });
    await this.page.screenshot({ path: file, timeout: TIMEOUTS.ui });
  }

  /** Saves screenshot, logs and browser console into `dir`; returns what it saved, by kind. */
  async saveArtifacts(dir: string): Promise<Record<string, string>> {
    mkdirSync(dir, { recursive: true });
    const saved: Record<string, string> = {};
    const attempt = async (kind: string, target: string, fn: () => unknown) => {
      try {
        await fn();
        saved[kind] = target;
      } catch (err) {
        saved[kind] = `(not saved: ${errorMessage(err).split('\n')[0]})`;
      }
    };
    if (this.pageOrUndefined) {
      const shot = path.join(dir, 'screenshot.png');
      await attempt('screenshot', shot, () => this.screenshot(shot));
    }
    if (this.server) {
      const server = this.server;
      const log = path.join(dir, 'code-server.log');
      await attempt('code-server log', log, () => cpSync(server.logPath, log));
      const logs = path.join(dir, 'vscode-logs');
      await attempt('VS Code logs (exthost: */exthost1/remoteexthost.log)', logs, () =>
        cpSync(server.vscodeLogsDir, logs, { recursive: true }),
      );
    }
    const consoleFile = path.join(dir, 'browser-console.log');
    await attempt('browser console', consoleFile, () => writeFileSync(consoleFile, this.console.join('\n') + '\n'));
    return saved;
  }

  /** Stops browser and server and removes the workspace. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.browser?.close().catch(() => undefined);
    await this.server?.stop().catch(() => undefined);
    rmSync(this.workspace, { recursive: true, force: true });
    rmSync(this.browserHome, { recursive: true, force: true });
  }
}

/** `.test-artifacts/<test name>/` */
export function artifactsDirFor(testName: string): string {
  const safe = testName.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100) || 'test';
  return path.join(repoRoot, '.test-artifacts', safe);
}

/**
 * Runs `body` against a fresh VS Code. On failure saves artifacts and rethrows with their paths
 * in the message; always stops server and browser.
 */
export async function withVSCode(
  t: { name: string },
  options: SessionOptions,
  body: (vs: VSCodeSession) => Promise<void>,
): Promise<void> {
  const dir = artifactsDirFor(t.name);
  rmSync(dir, { recursive: true, force: true });
  const session = new VSCodeSession(options);
  try {
    await session.start();
    await body(session);
  } catch (err) {
    const saved = await session.saveArtifacts(dir).catch((e: unknown) => ({ error: errorMessage(e) }));
    const list = Object.entries(saved)
      .map(([kind, where]) => `  ${kind}: ${where}`)
      .join('\n');
    const wrapped = new Error(`${errorMessage(err)}\n\nArtifacts of "${t.name}" in ${dir}:\n${list}`, { cause: err });
    if (err instanceof Error && err.stack) {
      wrapped.stack = `${wrapped.message}\n${err.stack.split('\n').filter((l) => /^\s+at /.test(l)).join('\n')}`;
    }
    throw wrapped;
  } finally {
    await session.close();
  }
}

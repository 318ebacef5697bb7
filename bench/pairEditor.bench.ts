// The pair editor on a 100,000-record file, in a real VS Code (code-server) and a real browser.
// Prints the time to the first record and keypress-to-next-record times against the targets of
// issue 4 (first record within 1 s, next record within 50 ms), each beside a baseline taken in
// the same run. Run: npm run bench:editor
//
// The webview times itself (webview/editor/perf.ts): a key's time runs from its event timestamp
// to the animation frame after the record's DOM is in place. Opening is timed from VS Code
// handing the document to the extension (resolveCustomTextEditor) to the first record painted:
// what the editor controls. Before that, VS Code reads the file and sends it to the extension
// host, which no custom text editor can shorten; end to end is printed beside VS Code's own
// text editor opening the same file. The first webview of a browser session also pays for
// VS Code's webview machinery starting (service worker, outer frame), so the 100,000-record
// open is measured after one pair editor was opened and closed, and compared with a
// 1,000-record file opened the same way: windowing works when the two take about as long.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { withVSCode, type VSCodeSession } from '../test/e2e/harness.ts';
import { quantile } from './measure.ts';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const BASELINE_RECORDS = 1_000;
const NEXT_PRESSES = Number(process.env.BENCH_PRESSES ?? 200);
const LABEL_PRESSES = Number(process.env.BENCH_LABELS ?? 50);
const BASELINE_PRESSES = 50;
const PAUSE_MS = 60;
const TARGET_FIRST_MS = 1000;
const TARGET_NEXT_MS = 50;

const WORDS = (
  'model answer question data training loss gradient token prompt policy reference reward preference python ' +
  'function return value list error example result because however therefore first second finally explain'
).split(' ');

/** Deterministic text of about `length` characters; some answers carry Markdown (lists, code). */
function text(seed: number, length: number): string {
  let state = seed >>> 0;
  const words: string[] = [];
  let size = 0;
  while (size < length) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const word = WORDS[state % WORDS.length]!;
    words.push(word);
    size += word.length + 1;
  }
  return words.join(' ');
}

function answer(seed: number, length: number): string {
  const body = text(seed, length);
  if (seed % 5 === 0) return `${body.slice(0, length / 2)}\n\n\`\`\`python\ndef f(x):\n    return x * 2\n\`\`\``;
  if (seed % 7 === 0) return `- **${body.slice(0, 30)}**\n- ${body.slice(30, length)}`;
  return body;
}

/**
 * ~41 MB: VS Code hands documents over 50 MB to no extension at all, so a bigger file could not
 * be opened by any custom text editor; the record count is what the target is about.
 */
function dataset(records: number): string {
  const dir = path.join(process.cwd(), '.bench');
  const file = path.join(dir, `bench-${records}.pairs.jsonl`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const lines: string[] = [];
    for (let i = 0; i < records; i++) {
      lines.push(JSON.stringify({ id: `b${i}`, prompt: text(i * 3 + 1, 80), chosen: answer(i * 3 + 2, 160), rejected: answer(i * 3 + 3, 110) }));
    }
    writeFileSync(file, lines.join('\n') + '\n');
  }
  return file;
}

interface Perf {
  openedAt?: number;
  firstRecordMs?: number;
  firstRecordFrameMs?: number;
  phases: Record<string, number>;
  navigations: Array<{ key: string; domMs: number; frameMs?: number }>;
}

function editor(vs: VSCodeSession): FrameLocator {
  return vs.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

async function readPerf(vs: VSCodeSession): Promise<Perf & { timeOrigin: number }> {
  return editor(vs)
    .locator('body')
    .evaluate(() => ({ ...(globalThis as unknown as { dpoPairEditorPerf: Perf }).dpoPairEditorPerf, timeOrigin: performance.timeOrigin }));
}

/** Quick open, then Enter at a known time: returns that time (epoch ms). */
async function openWithQuickOpen(vs: VSCodeSession, rel: string): Promise<number> {
  const page = vs.page;
  const input = page.locator('.quick-input-widget input');
  await page.keyboard.press('Control+P');
  await input.waitFor({ state: 'visible' });
  await input.fill(rel);
  await page.locator('.quick-input-widget .monaco-list-row.focused .label-name', { hasText: path.basename(rel) }).waitFor();
  const pressedAt = Date.now();
  await page.keyboard.press('Enter');
  return pressedAt;
}

async function closeEditors(vs: VSCodeSession): Promise<void> {
  await vs.runCommand('View: Close All Editors');
  await vs.page.locator('iframe.webview').waitFor({ state: 'detached', timeout: 30_000 });
  await new Promise((r) => setTimeout(r, 1000));
}

const ms = (n: number | undefined) => (n === undefined ? 'n/a' : `${n.toFixed(0)} ms`);
const verdict = (value: number | undefined, target: number) => (value !== undefined && value <= target ? 'meets' : 'MISSES');
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? 'n/a' : `${(a / b).toFixed(2)}×`);

async function pressAndWait(vs: VSCodeSession, key: string, nextIndex: number): Promise<void> {
  await vs.page.keyboard.press(key);
  await editor(vs).locator(`article.record[data-index="${nextIndex}"]`).waitFor({ timeout: 30_000 });
  await new Promise((r) => setTimeout(r, PAUSE_MS));
}

interface OpenTiming {
  /** resolveCustomTextEditor → first record painted. */
  fromDocument?: number;
  /** The webview's own document start → first record painted. */
  webview?: number;
  /** Enter in quick open → first record painted. */
  endToEnd: number;
  phases: Record<string, number>;
}

async function measureOpen(vs: VSCodeSession, rel: string): Promise<OpenTiming> {
  const pressedAt = await openWithQuickOpen(vs, rel);
  await editor(vs).locator('article.record[data-index="0"]').waitFor({ timeout: 120_000 });
  // The frame time is set on the animation frame after the record went in.
  await new Promise((r) => setTimeout(r, 200));
  const perf = await readPerf(vs);
  const paintedAt = perf.timeOrigin + (perf.firstRecordFrameMs ?? perf.firstRecordMs ?? 0);
  return {
    fromDocument: perf.openedAt === undefined ? undefined : paintedAt - perf.openedAt,
    webview: perf.firstRecordFrameMs,
    endToEnd: paintedAt - pressedAt,
    phases: perf.phases,
  };
}

/** VS Code's text editor on the same file: Enter in quick open → the first line on screen. */
async function measureTextEditorOpen(vs: VSCodeSession, rel: string): Promise<number> {
  const pressedAt = await openWithQuickOpen(vs, rel);
  await vs.page.locator('.monaco-editor .view-lines .view-line', { hasText: '"id":"b0"' }).first().waitFor({ timeout: 120_000 });
  return Date.now() - pressedAt;
}

/**
 * The first webview of a fresh browser session, VS Code's own: the Markdown preview opened with
 * Ctrl+Shift+V. Most of what a first pair editor waits for is this start-up of VS Code's webview
 * machinery, which the preview pays as well.
 */
async function measureMarkdownPreviewCold(): Promise<number> {
  const files = { 'notes.md': '# Preview baseline\n\nSome text.\n' };
  let took = NaN;
  await withVSCode({ name: 'bench-pair-editor-markdown-preview' }, { files }, async (vs) => {
    await vs.openFile('notes.md');
    await new Promise((r) => setTimeout(r, 2000));
    const pressedAt = Date.now();
    await vs.page.keyboard.press('Control+Shift+V');
    await editor(vs).locator('h1', { hasText: 'Preview baseline' }).waitFor({ timeout: 60_000 });
    took = Date.now() - pressedAt;
  });
  return took;
}

async function main(): Promise<void> {
  const big = dataset(RECORDS);
  const baseline = dataset(BASELINE_RECORDS);
  const bigText = readFileSync(big, 'utf8');
  const size = statSync(big).size;
  console.log(`dataset: ${big} (${RECORDS.toLocaleString('en-US')} records, ${(size / 1024 / 1024).toFixed(1)} MiB)`);
  const files = {
    'data/warm-up.pairs.jsonl': readFileSync(baseline, 'utf8'),
    'data/baseline.pairs.jsonl': readFileSync(baseline, 'utf8'),
    'data/big.pairs.jsonl': bigText,
    // The same records under a name the pair editor is not the default for: VS Code's text editor.
    'data/big-as-text.jsonl': bigText,
  };
  // VS Code in the browser asks before showing a file over 10 MB in its text editor; the
  // baseline wants the file shown.
  const settings = { 'workbench.editorLargeFileConfirmation': 1024 };
  const markdownPreview = await measureMarkdownPreviewCold();
  await withVSCode({ name: 'bench-pair-editor' }, { files, settings }, async (vs) => {
    await vs.waitForActivation();
    const cold = await measureOpen(vs, 'data/warm-up.pairs.jsonl');
    await closeEditors(vs);
    const small = await measureOpen(vs, 'data/baseline.pairs.jsonl');
    await editor(vs).locator('.progress-text').waitFor({ timeout: 120_000 });
    await editor(vs).locator('.record-meta').click();
    for (let i = 1; i <= BASELINE_PRESSES; i++) await pressAndWait(vs, 'j', i);
    const smallNext = (await readPerf(vs)).navigations.filter((n) => n.key === 'j').map((n) => n.frameMs ?? n.domMs);
    await closeEditors(vs);
    const open = await measureOpen(vs, 'data/big.pairs.jsonl');

    // Let the first whole-file check finish (progress appears), as a labeler would see it.
    await editor(vs).locator('.progress-text').waitFor({ timeout: 120_000 });
    await editor(vs).locator('.record-meta').click();
    for (let i = 1; i <= NEXT_PRESSES; i++) await pressAndWait(vs, 'j', i);
    const afterNext = (await readPerf(vs)).navigations.length;
    for (let i = 0; i < LABEL_PRESSES; i++) await pressAndWait(vs, '1', NEXT_PRESSES + i + 1);
    const perf = await readPerf(vs);
    // Labeling left the file dirty: drop the changes, or closing would ask to save them.
    await vs.runCommand('File: Revert File');
    await closeEditors(vs);
    const textEditor = await measureTextEditorOpen(vs, 'data/big-as-text.jsonl');

    const phases = Object.entries(open.phases)
      .map(([name, at]) => `${name} ${at.toFixed(0)}`)
      .join(', ');
    console.log(`\nfirst record shown (target ≤ ${TARGET_FIRST_MS} ms), from VS Code handing the document over (resolveCustomTextEditor)`);
    console.log(`  ${RECORDS.toLocaleString('en-US')} records:  ${ms(open.fromDocument)}  ${verdict(open.fromDocument, TARGET_FIRST_MS)}   (inside the webview ${ms(open.webview)}: ${phases} ms)`);
    console.log(`  ${BASELINE_RECORDS.toLocaleString('en-US')} records (baseline, same run): ${ms(small.fromDocument)}   → ratio ${ratio(open.fromDocument, small.fromDocument)}`);
    console.log(`\nthe first webview of a browser session (VS Code's webview machinery starts), end to end`);
    console.log(`  pair editor, ${BASELINE_RECORDS.toLocaleString('en-US')} records, Enter in quick open → first record: ${ms(cold.endToEnd)} (${ms(cold.fromDocument)} after resolveCustomTextEditor)`);
    console.log(`  VS Code's Markdown preview, Ctrl+Shift+V → preview shown (baseline, same run): ${ms(markdownPreview)}   → ratio ${ratio(cold.endToEnd, markdownPreview)}`);
    console.log(`\nend to end, Enter in quick open → first record, ${RECORDS.toLocaleString('en-US')} records`);
    console.log(`  pair editor: ${ms(open.endToEnd)}   VS Code's text editor on the same file (baseline): ${ms(textEditor)}   → ratio ${ratio(open.endToEnd, textEditor)}`);
    console.log(`  (VS Code reads the file and sends it to the extension host before any editor can show it)`);

    const next = perf.navigations.slice(0, afterNext).filter((n) => n.key === 'j');
    const label = perf.navigations.slice(afterNext).filter((n) => n.key === '1');
    const painted = (timings: typeof next) => timings.map((n) => n.frameMs ?? n.domMs);
    for (const [name, timings] of [
      [`next record, J (${next.length} presses)`, next],
      [`label and advance, 1 (${label.length} presses)`, label],
    ] as const) {
      const frame = painted(timings);
      const dom = timings.map((n) => n.domMs);
      console.log(`\n${name} (target ≤ ${TARGET_NEXT_MS} ms), keypress → next record painted`);
      console.log(`  median ${ms(quantile(frame, 0.5))}  p95 ${ms(quantile(frame, 0.95))}  max ${ms(Math.max(...frame))}  ${verdict(quantile(frame, 0.95), TARGET_NEXT_MS)}   (record in the DOM: median ${ms(quantile(dom, 0.5))})`);
      if (timings === next) {
        console.log(
          `  baseline, J on the ${BASELINE_RECORDS.toLocaleString('en-US')}-record file (${smallNext.length} presses): median ${ms(quantile(smallNext, 0.5))}  p95 ${ms(quantile(smallNext, 0.95))}` +
            `   → ratio of medians ${ratio(quantile(frame, 0.5), quantile(smallNext, 0.5))}`,
        );
      }
    }
  });
}

await main();

import { existsSync } from 'node:fs';
import { sha256OfFiles } from '../../core/files/fileHash.ts';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { metricsCsv } from '../../core/training/metricsCsv.ts';
import { parseDashboardMessage, pngBytes, type DashboardToHost, type HostToDashboard, type TableChunk } from '../../protocol/dashboardMessages.ts';
import type { MetricTable } from '../../core/training/metricTable.ts';
import { webviewPageHtml } from '../webviewPage.ts';
import { runReview, type RunReview } from '../../core/review/runReview.ts';
import { runCheckpoints } from '../../core/review/scoredRun.ts';
import { REVIEW_COMMAND } from '../review/reviewCommand.ts';
import { runScoreProcess } from '../review/scoreProcess.ts';
import { readLintOptions } from '../settings.ts';
import type { RunRegistry } from './runRegistry.ts';

export const DASHBOARD_VIEW_TYPE = 'dpoStudio.trainingDashboard';

/** Host → webview updates are coalesced to this pace (a resumed run or a tail read brings bursts). */
const FLUSH_MS = 40;
/** While the dashboard shows, runs trained elsewhere are followed at this pace... */
const POLL_MS = 1000;
/** ...and new output folders looked for at this one. */
const DISCOVER_MS = 30_000;

export interface DashboardServices {
  extensionUri: vscode.Uri;
  registry: RunRegistry;
  stop(key: string): void;
  resume(key: string): Promise<void>;
  log(line: string): void;
  /** Where a scoring's output goes. */
  output: vscode.OutputChannel;
}

/** What the webview holds of a run: rows [0, length) of each table at that table version. */
interface Mirror {
  train: { length: number; version: number };
  eval: { length: number; version: number };
}

/**
 * The training dashboard panel (one per window). The webview keeps no data the host cannot
 * send again: whenever its page is (re)created (first open, shown again after being hidden,
 * restored after a reload by the serializer) it says `ready`, and gets the runs and their rows
 * anew. So it needs no retainContextWhenHidden, and a reload shows the runs from metrics.jsonl.
 */
export class TrainingDashboard implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly mirrors = new Map<string, Mirror>();
  private readonly rowsDirty = new Set<string>();
  private readonly infoDirty = new Set<string>();
  private listDirty = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private discoverTimer: ReturnType<typeof setTimeout> | undefined;
  private lastDiscover = 0;
  private focus: string | undefined;
  /** The review last sent per run: what `openReview` indices refer to. */
  private readonly reviews = new Map<string, RunReview>();
  private readonly scoring = new Set<string>();

  constructor(private readonly services: DashboardServices) {
    const { registry } = services;
    const runs = registry.onDidChangeRun.add(({ key, rows }) => {
      if (!this.panel) return;
      this.infoDirty.add(key);
      if (rows && this.mirrors.has(key)) this.rowsDirty.add(key);
      this.schedule();
    });
    const list = registry.onDidChangeList.add(() => {
      this.listDirty = true;
      this.schedule();
    });
    this.disposables.push({ dispose: () => runs.dispose() }, { dispose: () => list.dispose() });
    // New runs in the workspace (a terminal run, a copied folder) show up without waiting for the timer.
    // trainer_state.json: a run of a plain TRL script, which changes (it is rewritten at every save) as it trains.
    const watcher = vscode.workspace.createFileSystemWatcher('**/{metrics.jsonl,trainer_state.json}', false, false, false);
    const rediscover = () => this.panel && this.discoverSoon();
    this.disposables.push(watcher, watcher.onDidCreate(rediscover), watcher.onDidDelete(rediscover), watcher.onDidChange((uri) => uri.path.endsWith('trainer_state.json') && rediscover()));
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** Opens (or reveals) the dashboard; `focus`: the run to show in the header. */
  show(focus?: string): void {
    if (focus) this.focus = focus;
    if (this.panel) {
      this.panel.reveal(undefined, true);
      if (focus) this.post({ type: 'focus', run: focus });
      return;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, 'DPO Training', { viewColumn: vscode.ViewColumn.Active, preserveFocus: true }, this.webviewOptions());
    this.attach(panel);
  }

  /**
   * A trainer moved on from the run `from` to the run `to` (the DPO stage after the SFT stage of
   * a `stages` config): the dashboard follows when it was showing `from`, without taking the
   * editor area from whatever the user looks at.
   */
  follow(from: string, to: string): void {
    if (this.focus !== from) return;
    this.focus = to;
    if (this.panel) this.post({ type: 'focus', run: to });
  }

  /** A dashboard restored after a window reload. */
  revive(panel: vscode.WebviewPanel): void {
    if (this.panel) {
      // One dashboard per window: a second restored panel would fight over the same runs.
      panel.dispose();
      return;
    }
    panel.webview.options = this.webviewOptions();
    this.attach(panel);
  }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.services.extensionUri, 'dist', 'webview')] };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.services.extensionUri, 'media', 'icon.png');
    panel.webview.html = webviewPageHtml(panel.webview, this.services.extensionUri, { app: 'dashboard', title: 'DPO Training', loadingText: 'Loading runs…' });
    this.panelDisposables = [
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      panel.onDidChangeViewState(() => this.updatePolling()),
      panel.onDidDispose(() => this.detach()),
    ];
    this.discover();
    this.updatePolling();
  }

  private detach(): void {
    this.panelDisposables.forEach((d) => d.dispose());
    this.panelDisposables = [];
    this.panel = undefined;
    for (const key of this.mirrors.keys()) this.services.registry.releaseSeries(key);
    this.mirrors.clear();
    this.updatePolling();
  }

  private updatePolling(): void {
    const want = this.panel?.visible === true;
    if (want && !this.pollTimer) {
      this.pollTimer = setInterval(() => {
        if (Date.now() - this.lastDiscover > DISCOVER_MS) this.discover();
        else this.services.registry.poll();
      }, POLL_MS);
    } else if (!want && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private discover(): void {
    this.lastDiscover = Date.now();
    try {
      this.services.registry.discover();
    } catch (error) {
      this.services.log(`dashboard: looking for runs failed: ${(error as Error).message}`);
    }
  }

  private discoverSoon(): void {
    clearTimeout(this.discoverTimer);
    this.discoverTimer = setTimeout(() => this.discover(), 300);
  }

  private post(message: HostToDashboard): void {
    void this.panel?.webview.postMessage(message);
  }

  private schedule(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, FLUSH_MS);
  }

  private flush(): void {
    if (!this.panel) return;
    const { registry } = this.services;
    if (this.listDirty) {
      this.listDirty = false;
      this.infoDirty.clear();
      this.post(this.runsMessage());
    }
    for (const key of this.infoDirty) {
      const run = registry.info(key);
      if (run) this.post({ type: 'runInfo', run });
    }
    this.infoDirty.clear();
    for (const key of this.rowsDirty) this.sendRows(key, false);
    this.rowsDirty.clear();
  }

  /** The run list, with the run the user last asked to see (the webview follows a focus once per change of it). */
  private runsMessage(): HostToDashboard {
    const { registry } = this.services;
    const focus = this.focus && registry.has(this.focus) ? this.focus : undefined;
    return { type: 'runs', runs: registry.infos(), ...(focus ? { focus } : {}) };
  }

  /** Sends what the webview lacks of a run's rows: everything when `reset` or when rows were removed. */
  private sendRows(key: string, reset: boolean): void {
    const series = this.services.registry.series(key);
    const mirror = this.mirrors.get(key);
    if (!series || !mirror) return;
    const stale = mirror.train.version !== series.train.version || mirror.eval.version !== series.eval.version;
    const full = reset || stale;
    const chunk = (table: MetricTable, sent: { length: number }): TableChunk => {
      const start = full ? 0 : Math.min(sent.length, table.length);
      return { start, ...table.rowsFrom(start) };
    };
    const train = chunk(series.train, mirror.train);
    const evals = chunk(series.eval, mirror.eval);
    if (!full && train.steps.length === 0 && evals.steps.length === 0) return;
    this.post({ type: 'runData', run: key, reset: full, train, eval: evals });
    mirror.train = { length: series.train.length, version: series.train.version };
    mirror.eval = { length: series.eval.length, version: series.eval.version };
  }

  private async receive(raw: unknown): Promise<void> {
    const check = parseDashboardMessage(raw);
    if (!check.ok) {
      this.services.log(`dashboard: refused a message from the webview: ${check.reason}`);
      return;
    }
    try {
      await this.handle(check.message);
    } catch (error) {
      void vscode.window.showErrorMessage(`DPO dashboard: ${(error as Error).message}`);
    }
  }

  private async handle(message: DashboardToHost): Promise<void> {
    const { registry } = this.services;
    switch (message.type) {
      case 'ready': {
        // A fresh page holds nothing: everything it shows is sent again.
        this.mirrors.clear();
        this.listDirty = false;
        this.infoDirty.clear();
        this.rowsDirty.clear();
        this.post(this.runsMessage());
        return;
      }
      case 'load': {
        const wanted = new Set(message.runs.filter((key) => registry.has(key)));
        for (const key of [...this.mirrors.keys()]) {
          if (!wanted.has(key)) {
            this.mirrors.delete(key);
            registry.releaseSeries(key);
          }
        }
        for (const key of wanted) {
          this.mirrors.set(key, { train: { length: 0, version: -1 }, eval: { length: 0, version: -1 } });
          this.sendRows(key, true);
        }
        return;
      }
      case 'savePng':
        await this.savePng(message.chart, message.dataUrl);
        return;
      case 'openReview': {
        // The webview names a dataset by its place in what the host sent; the path is the host's own.
        const review = this.reviews.get(message.run);
        const dataset = review?.datasets[message.dataset];
        if (!review || !dataset) return;
        await vscode.commands.executeCommand(REVIEW_COMMAND, vscode.Uri.file(dataset.dataFile), { run: message.run, checkpoint: review.checkpoint, index: message.index, order: 'disagrees' });
        return;
      }
    }
    // Everything else names one run: it must be one the host knows, and the host acts on its own record of it.
    const info = registry.info(message.run);
    if (!info) {
      this.services.log(`dashboard: ${message.type} for a run that is not known here`);
      return;
    }
    switch (message.type) {
      case 'reviewData':
        await this.sendReview(info.key);
        return;
      case 'score':
        await this.scoreRun(info.key);
        return;
      case 'stop':
        if (info.canStop) this.services.stop(info.key);
        return;
      case 'resume':
        if (info.canResume) await this.services.resume(info.key);
        return;
      case 'openOutput':
        await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(info.key));
        return;
      case 'exportCsv': {
        const series = registry.series(info.key);
        if (!series) return;
        const target = await vscode.window.showSaveDialog({
          title: `Export the metrics of ${info.label} as CSV`,
          defaultUri: vscode.Uri.file(join(info.key, 'metrics.csv')),
          filters: { CSV: ['csv'] },
        });
        if (!target) return;
        await writeFile(target.fsPath, metricsCsv(series));
        void vscode.window.showInformationMessage(`Wrote ${vscode.workspace.asRelativePath(target)} (${series.train.length} training and ${series.eval.length} eval rows).`);
        return;
      }
    }
  }

  /** "Pairs to review" of a run: what its model's scores say, and whether it can score now. */
  private async sendReview(key: string): Promise<void> {
    let review: RunReview | undefined;
    const changed: boolean[] = [];
    try {
      review = runReview(key, { top: 20, roots: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath), lint: readLintOptions(vscode.Uri.file(key)) });
      for (const d of review?.datasets ?? []) changed.push(existsSync(d.dataFile) && (await sha256OfFiles([d.dataFile])) !== d.scoredSha256);
    } catch (error) {
      this.services.log(`dashboard: reading the scores of ${key} failed: ${(error as Error).message}`);
    }
    if (review) this.reviews.set(key, review);
    else this.reviews.delete(key);
    const canScore = vscode.workspace.isTrusted && runCheckpoints(key).length > 0 && existsSync(join(key, 'run.json'));
    this.post({
      type: 'reviewData',
      run: key,
      checkpoint: review?.checkpoint ?? null,
      canScore,
      scoring: this.scoring.has(key),
      datasets: (review?.datasets ?? []).map((d, i) => ({
        label: vscode.workspace.asRelativePath(d.dataFile),
        pairs: d.summary.pairs,
        agreeing: d.summary.agreeing,
        candidates: d.candidates,
        histogram: d.summary.histogram,
        top: d.summary.top.map((t) => ({ ...t, prompt: d.prompts[t.index] ?? '' })),
        openable: /\.(jsonl|json)$/i.test(d.dataFile),
        changed: changed[i] ?? false,
      })),
    });
  }

  /** Scores the run's own data with its newest weights (`dpo-studio score --run`), then shows the review. */
  private async scoreRun(key: string): Promise<void> {
    if (this.scoring.has(key)) return;
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Scoring runs the trained model, so it needs a trusted workspace.');
      return;
    }
    this.scoring.add(key);
    await this.sendReview(key);
    try {
      const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(key))?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      await runScoreProcess(this.services.extensionUri, this.services.output, ['--run', key], `Scoring the data of ${vscode.workspace.asRelativePath(key)} with its model`, folder, (code) => code === 0 || code === 1);
    } finally {
      this.scoring.delete(key);
      await this.sendReview(key);
    }
  }

  /** A chart as PNG: where to save it is the user's choice, the bytes must be a PNG. */
  private async savePng(chart: string, dataUrl: string): Promise<void> {
    const bytes = pngBytes(dataUrl);
    if (!bytes) {
      this.services.log('dashboard: refused a chart image that is not a PNG');
      return;
    }
    const base = this.focus ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const target = await vscode.window.showSaveDialog({
      title: `Save the ${chart} chart as PNG`,
      ...(base ? { defaultUri: vscode.Uri.file(join(base, `${chart}.png`)) } : {}),
      filters: { PNG: ['png'] },
    });
    if (!target) return;
    await writeFile(target.fsPath, bytes);
    void vscode.window.showInformationMessage(`Saved ${basename(target.fsPath)}.`);
  }

  dispose(): void {
    clearTimeout(this.flushTimer);
    clearTimeout(this.discoverTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.panel?.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}

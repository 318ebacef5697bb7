import * as vscode from 'vscode';
import { formatDuration } from '../../core/training/eta.ts';
import type { RunInfo } from '../../protocol/dashboardMessages.ts';
import type { RunRegistry } from './runRegistry.ts';
import type { TrainingSessions } from './trainingSessions.ts';

export const SHOW_DASHBOARD_COMMAND = 'dpoStudio.showTrainingDashboard';

/** "step 12/26 · loss 0.684 · ETA 14s": what a glance at the status bar should tell. */
export function statusText(info: RunInfo, loss: number | undefined): string {
  const parts = [`step ${info.step}${info.totalSteps ? `/${info.totalSteps}` : ''}`];
  if (loss !== undefined && Number.isFinite(loss)) parts.push(`loss ${loss.toFixed(4)}`);
  if (info.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(info.etaSeconds)}`);
  return parts.join(' · ');
}

/** Shown while this window trains: the step and loss of the run, a click opens the dashboard. */
export class TrainingStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('dpoStudio.training', vscode.StatusBarAlignment.Left, 90);
  private readonly disposables: vscode.Disposable[] = [this.item];
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly sessions: TrainingSessions,
    private readonly registry: RunRegistry,
  ) {
    this.item.name = 'DPO Training';
    this.item.command = SHOW_DASHBOARD_COMMAND;
    this.disposables.push(sessions.onDidChange(() => this.schedule()));
    const changes = registry.onDidChangeRun.add(({ key }) => {
      if (sessions.byKey(key)) this.schedule();
    });
    this.disposables.push({ dispose: () => changes.dispose() });
    this.update();
  }

  /** Coalesces bursts of events (a resumed run replays many) into one repaint. */
  private schedule(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.update();
    }, 100);
  }

  private update(): void {
    const live = this.sessions.all();
    if (live.length === 0) {
      this.item.hide();
      return;
    }
    const first = live.find((s) => s.key && this.registry.has(s.key));
    const info = first?.key ? this.registry.info(first.key) : undefined;
    const summary = first?.key ? this.registry.summary(first.key) : undefined;
    const more = live.length > 1 ? ` (+${live.length - 1})` : '';
    if (!info || info.status === 'waiting') {
      this.item.text = `$(loading~spin) DPO: starting${more}`;
      this.item.tooltip = 'DPO training is starting (loading the model and data). Click for the dashboard.';
    } else {
      this.item.text = `$(pulse) DPO ${statusText(info, summary?.lastMetrics.loss)}${more}`;
      const tooltip = new vscode.MarkdownString(undefined, true);
      tooltip.appendMarkdown(`**DPO training** — ${info.label}\n\n`);
      if (info.model) tooltip.appendMarkdown(`model \`${info.model}\` · backend ${info.backend ?? '?'}\n\n`);
      const acc = summary?.lastMetrics['rewards/accuracies'];
      if (acc !== undefined) tooltip.appendMarkdown(`accuracy ${acc.toFixed(2)} · margin ${(summary?.lastMetrics['rewards/margins'] ?? 0).toFixed(3)}\n\n`);
      tooltip.appendMarkdown('Click to open the training dashboard.');
      this.item.tooltip = tooltip;
    }
    this.item.show();
  }

  dispose(): void {
    clearTimeout(this.pending);
    this.disposables.forEach((d) => d.dispose());
  }
}

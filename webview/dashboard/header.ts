import { formatBytes } from '../../src/core/training/memoryPlan.ts';
import { formatDuration } from '../../src/core/training/eta.ts';
import type { RunInfo } from '../../src/protocol/dashboardMessages.ts';
import { h } from './dom.ts';

export type RunAction = 'stop' | 'resume' | 'exportCsv' | 'openOutput';

const STATUS_TEXT: Record<RunInfo['status'], string> = {
  running: 'running',
  completed: 'completed',
  stopped: 'stopped',
  failed: 'failed',
  interrupted: 'interrupted',
  waiting: 'starting',
};

/**
 * The header of the focused run: what it trains (model, dataset, backend, loss), how far it is
 * (step/total, progress, elapsed, ETA), and its controls. Everything from the run is set as text.
 */
export class RunHeader {
  readonly element: HTMLElement;
  private readonly title = h('h1', { class: 'run-title' });
  private readonly status = h('span', { class: 'run-status' });
  private readonly facts = h('div', { class: 'run-facts' });
  private readonly progressText = h('span', { class: 'run-progress-text' });
  private readonly progressFill = h('div', { class: 'progress-fill' });
  private readonly progress = h('div', { class: 'progress', role: 'progressbar', 'aria-label': 'Training progress', 'aria-valuemin': 0 }, this.progressFill);
  private readonly error = h('p', { class: 'run-error', role: 'alert' });
  private readonly buttons: Record<RunAction, HTMLElement & { disabled?: boolean }>;
  private run: RunInfo | undefined;

  constructor(onAction: (action: RunAction, run: RunInfo) => void) {
    const button = (action: RunAction, label: string, title: string, secondary = true) => {
      const b = h('vscode-button', { 'data-action': action, title, ...(secondary ? { secondary: true } : {}) }, label);
      b.addEventListener('click', () => {
        if (this.run && !b.hasAttribute('disabled')) onAction(action, this.run);
      });
      return b;
    };
    this.buttons = {
      stop: button('stop', 'Stop', 'Stop after the current step, writing a checkpoint', false),
      resume: button('resume', 'Resume', 'Go on from the last checkpoint', false),
      exportCsv: button('exportCsv', 'Export CSV', 'Save the metrics of this run as CSV'),
      openOutput: button('openOutput', 'Output folder', 'Show the output folder in the Explorer'),
    };
    this.error.hidden = true;
    this.element = h(
      'header',
      { class: 'run-header' },
      h('div', { class: 'run-title-row' }, this.title, this.status, h('span', { class: 'run-actions' }, ...Object.values(this.buttons))),
      this.facts,
      h('div', { class: 'run-progress-row' }, this.progressText, this.progress),
      this.error,
    );
  }

  show(run: RunInfo | undefined): void {
    this.run = run;
    this.element.hidden = !run;
    if (!run) return;
    this.title.textContent = run.label;
    this.title.title = run.key;
    this.status.textContent = STATUS_TEXT[run.status];
    this.status.className = `run-status status-${run.status}`;
    this.element.dataset.status = run.status;
    this.element.dataset.step = String(run.step);
    const facts = [
      run.model && `model ${run.model}`,
      run.dataset.length > 0 && `data ${run.dataset.join(', ')}`,
      run.engine && `engine ${run.engine}${run.external ? ' (a TRL run made outside DPO Studio)' : ''}`,
      run.backend && `backend ${run.backend}`,
      run.worldSize !== undefined && `${run.worldSize} process${run.worldSize === 1 ? '' : 'es'}${run.devices?.length ? ` on ${run.devices.join(', ')}` : ''}`,
      run.stage === 'sft' ? 'SFT' : run.lossType && `DPO, loss ${run.lossType}`,
      run.memory && `memory ≈ ${formatBytes(run.memory.estimateBytes)} of ${formatBytes(run.memory.limitBytes)} (${run.memory.limit})`,
    ].filter(Boolean) as string[];
    this.facts.replaceChildren(...facts.map((f) => h('span', {}, f)));
    const total = run.totalSteps;
    const percent = total ? Math.min(100, Math.round((100 * run.step) / total)) : 0;
    const time: string[] = [];
    if (run.elapsedSeconds !== undefined) time.push(`${formatDuration(run.elapsedSeconds)} elapsed`);
    if (run.etaSeconds !== undefined) time.push(`ETA ${formatDuration(run.etaSeconds)}`);
    this.progressText.textContent = `step ${run.step.toLocaleString('en-US')}${total ? ` / ${total.toLocaleString('en-US')} (${percent}%)` : ''}${time.length ? ` · ${time.join(' · ')}` : ''}`;
    this.progressFill.style.width = `${percent}%`;
    this.progress.setAttribute('aria-valuemax', String(total ?? 0));
    this.progress.setAttribute('aria-valuenow', String(run.step));
    this.error.hidden = !run.error;
    this.error.textContent = run.error ? `Error: ${run.error}` : '';
    this.setEnabled('stop', run.canStop);
    this.setEnabled('resume', run.canResume);
  }

  private setEnabled(action: RunAction, enabled: boolean): void {
    const b = this.buttons[action];
    if (enabled) b.removeAttribute('disabled');
    else b.setAttribute('disabled', '');
  }
}

interface RunRow {
  element: HTMLElement;
  box: HTMLElement & { checked: boolean };
  dash: HTMLElement;
  name: HTMLElement;
  status: HTMLElement;
  step: HTMLElement;
}

/**
 * The runs found: a checkbox to overlay each on the charts, a click on the name to focus it.
 * Rows are updated in place (a live run changes every step): a click or the keyboard focus is
 * never lost to a row being replaced under it.
 */
export class RunList {
  readonly element = h('div', { class: 'run-list', role: 'list', 'aria-label': 'Runs' });
  private readonly rows = new Map<string, RunRow>();

  constructor(
    private readonly onToggle: (key: string, plotted: boolean) => void,
    private readonly onFocus: (key: string) => void,
  ) {}

  /** `dashOf`: the border style that matches how the run's lines are dashed (undefined: not plotted). */
  show(runs: RunInfo[], plotted: readonly string[], focus: string | undefined, dashOf: (key: string) => string | undefined): void {
    const keep = new Set(runs.map((r) => r.key));
    for (const [key, row] of this.rows) {
      if (!keep.has(key)) {
        row.element.remove();
        this.rows.delete(key);
      }
    }
    runs.forEach((run, index) => {
      const row = this.rows.get(run.key) ?? this.createRow(run.key);
      row.box.checked = plotted.includes(run.key);
      row.box.setAttribute('aria-label', `Plot ${run.label}`);
      row.name.textContent = run.label;
      row.name.title = run.key;
      row.dash.style.borderTopStyle = dashOf(run.key) ?? 'none';
      row.status.textContent = STATUS_TEXT[run.status];
      row.status.className = `run-status status-${run.status}`;
      row.step.textContent = `${run.step}${run.totalSteps ? `/${run.totalSteps}` : ''}`;
      row.element.classList.toggle('focused', run.key === focus);
      row.element.dataset.status = run.status;
      if (this.element.children[index] !== row.element) this.element.insertBefore(row.element, this.element.children[index] ?? null);
    });
  }

  private createRow(key: string): RunRow {
    const box = h('vscode-checkbox', { title: 'Plot this run' }) as HTMLElement & { checked: boolean };
    box.addEventListener('change', () => this.onToggle(key, box.checked));
    const name = h('button', { class: 'run-name', type: 'button' });
    name.addEventListener('click', () => this.onFocus(key));
    const dash = h('span', { class: 'run-dash', 'aria-hidden': 'true' });
    const status = h('span', { class: 'run-status' });
    const step = h('span', { class: 'run-step' });
    const element = h('div', { class: 'run-row', role: 'listitem', 'data-run': key }, box, dash, name, status, step);
    const row = { element, box, dash, name, status, step };
    this.rows.set(key, row);
    return row;
  }
}

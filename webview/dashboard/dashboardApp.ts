import { clampSmoothing } from '../../src/core/training/emaSmoothing.ts';
import { MAX_LOADED_RUNS, type HostToDashboard, type RunInfo } from '../../src/protocol/dashboardMessages.ts';
import { CHARTS, RUN_DASHES } from './chartDefs.ts';
import { ChartView, type LineSpec } from './chartView.ts';
import { h } from './dom.ts';
import { RunHeader, RunList, type RunAction } from './header.ts';
import { HostBridge } from './hostBridge.ts';
import { UpdateTimings } from './perf.ts';
import { RunData } from './runStore.ts';
import { ReviewPanel } from './reviewPanel.ts';
import { readTheme, watchTheme, type Theme } from './theme.ts';

/** What VS Code keeps for the page while it is hidden or the window reloads (setState). */
interface ViewState {
  smoothing: number;
  log: Record<string, boolean>;
  /** Runs plotted, the focused one included. */
  plotted: string[];
  focus?: string;
  /** The last focus the host asked for: followed once, so the user's own choice then stands. */
  hostFocus?: string;
}

const DEFAULT_SMOOTHING = 0.6;

/**
 * The training dashboard: a header for the focused run, the runs to overlay, the smoothing
 * slider, and the charts. Rows arrive from the host (a whole run, then appended rows); the
 * charts redraw at most once a frame, and only those on screen.
 */
export class DashboardApp {
  private readonly bridge: HostBridge;
  private readonly runs = new Map<string, RunData>();
  private order: RunInfo[] = [];
  private state: ViewState;
  private theme: Theme;
  private readonly charts: ChartView[];
  private readonly header: RunHeader;
  private readonly runList: RunList;
  private readonly emptyNote: HTMLElement;
  private readonly smoothingValue: HTMLElement;
  /** Runs whose rows were asked for (what the host sends updates of). */
  private loaded: string[] = [];
  private frame = 0;
  private refreshFrame = 0;
  private readonly timings = new UpdateTimings();
  private readonly review: ReviewPanel;
  /** The focused run and its status when its review was last asked for (asked again when either changes). */
  private reviewAsked = '';

  constructor(root: HTMLElement) {
    this.bridge = new HostBridge((message) => this.receive(message));
    const saved = this.bridge.getState<Partial<ViewState>>();
    this.state = {
      smoothing: clampSmoothing(typeof saved?.smoothing === 'number' ? saved.smoothing : DEFAULT_SMOOTHING),
      log: saved?.log && typeof saved.log === 'object' ? { ...saved.log } : {},
      plotted: Array.isArray(saved?.plotted) ? saved.plotted.filter((k): k is string => typeof k === 'string') : [],
      ...(typeof saved?.focus === 'string' ? { focus: saved.focus } : {}),
      ...(typeof saved?.hostFocus === 'string' ? { hostFocus: saved.hostFocus } : {}),
    };
    this.theme = readTheme();

    this.header = new RunHeader((action, run) => this.act(action, run));
    this.runList = new RunList(
      (key, plotted) => this.setPlotted(key, plotted),
      (key) => this.setFocus(key),
    );
    const slider = h('input', { type: 'range', class: 'smoothing-slider', min: 0, max: 0.99, step: 0.01, 'aria-label': 'Smoothing' }) as HTMLInputElement;
    slider.value = String(this.state.smoothing);
    this.smoothingValue = h('span', { class: 'smoothing-value' }, this.state.smoothing.toFixed(2));
    slider.addEventListener('input', () => {
      this.state.smoothing = clampSmoothing(Number(slider.value));
      this.smoothingValue.textContent = this.state.smoothing.toFixed(2);
      this.saveState();
      // Dragging fires many input events: smooth again once per frame, not once per event.
      if (this.refreshFrame) return;
      this.refreshFrame = requestAnimationFrame(() => {
        this.refreshFrame = 0;
        this.refreshLines();
      });
    });
    this.charts = CHARTS.map(
      (def) =>
        new ChartView(def, this.theme, this.state.log[def.id] ?? false, {
          onLogScale: (id, on) => {
            this.state.log[id] = on;
            this.saveState();
            this.refreshLines();
          },
          onSavePng: (chart, dataUrl) => this.bridge.send({ type: 'savePng', chart, dataUrl }),
        }),
    );
    this.emptyNote = h(
      'p',
      { class: 'empty-note' },
      'No training runs in this workspace yet. "DPO: Train" starts one; any output folder with a metrics.jsonl (a run started in a terminal, too) shows here.',
    );
    const controls = h(
      'section',
      { class: 'controls', 'aria-label': 'Chart options' },
      h('label', { class: 'smoothing' }, 'Smoothing', slider, this.smoothingValue),
      h('span', { class: 'hint' }, 'Drag across a chart to zoom, double-click to zoom out.'),
    );
    const grid = h('main', { class: 'charts' }, ...this.charts.map((c) => c.element));
    this.review = new ReviewPanel(
      (run) => this.bridge.send({ type: 'score', run }),
      (run, dataset, index) => this.bridge.send({ type: 'openReview', run, dataset, index }),
    );
    root.replaceChildren(this.header.element, this.review.banner, controls, h('details', { class: 'runs', open: true }, h('summary', {}, 'Runs'), this.runList.element), this.emptyNote, grid, this.review.element);
    root.dataset.state = 'ready';
    this.header.show(undefined);

    // Only charts on screen are drawn; one scrolled into view catches up then.
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const chart = this.charts.find((c) => c.element === entry.target);
        if (!chart) continue;
        chart.visible = entry.isIntersecting;
        if (chart.visible && chart.isDirty) this.schedule();
      }
    });
    for (const chart of this.charts) observer.observe(chart.element);
    watchTheme(() => {
      this.theme = readTheme();
      for (const chart of this.charts) chart.setTheme(this.theme);
      this.refreshLines();
    });
    (window as unknown as { __dpoDashboard: unknown }).__dpoDashboard = {
      timings: this.timings,
      rows: (key?: string) => (key ? this.runs.get(key)?.rows : Math.max(0, ...[...this.runs.values()].map((r) => r.rows))),
      plotted: () => this.plottedKeys(),
    };
    this.bridge.send({ type: 'ready' });
  }

  private receive(message: HostToDashboard): void {
    const started = performance.now();
    switch (message.type) {
      case 'runs':
        this.applyRuns(message.runs, message.focus);
        break;
      case 'runInfo': {
        const run = this.runs.get(message.run.key);
        if (!run) return;
        run.info = message.run;
        this.order = this.order.map((r) => (r.key === message.run.key ? message.run : r));
        this.renderRunChrome();
        break;
      }
      case 'focus':
        if (this.runs.has(message.run)) {
          this.state.hostFocus = message.run;
          this.setFocus(message.run);
        }
        break;
      case 'reviewData':
        if (message.run === this.state.focus) this.review.show(message);
        break;
      case 'runData': {
        const run = this.runs.get(message.run);
        if (!run) return;
        if (!run.apply(message)) {
          // Rows missing in between (a message lost while the page was busy): ask for the whole runs again.
          this.bridge.send({ type: 'load', runs: this.loaded });
          return;
        }
        this.timings.received(performance.now() - started);
        this.refreshLines();
        break;
      }
    }
  }

  private applyRuns(infos: RunInfo[], focus: string | undefined): void {
    this.order = infos;
    const known = new Set(infos.map((r) => r.key));
    for (const key of [...this.runs.keys()]) if (!known.has(key)) this.runs.delete(key);
    for (const info of infos) {
      const run = this.runs.get(info.key);
      if (run) run.info = info;
      else this.runs.set(info.key, new RunData(info));
    }
    if (focus && focus !== this.state.hostFocus) {
      this.state.hostFocus = focus;
      this.state.focus = focus;
    }
    if (!this.state.focus || !known.has(this.state.focus)) {
      this.state.focus = (infos.find((r) => r.live) ?? infos.find((r) => r.status === 'running') ?? infos[0])?.key;
    }
    this.state.plotted = this.state.plotted.filter((k) => known.has(k));
    if (this.state.focus && !this.state.plotted.includes(this.state.focus)) this.state.plotted.unshift(this.state.focus);
    this.state.plotted = this.state.plotted.slice(0, MAX_LOADED_RUNS);
    this.saveState();
    this.syncLoaded();
    this.renderRunChrome();
    this.refreshLines();
  }

  private setFocus(key: string): void {
    if (!this.runs.has(key)) return;
    this.state.focus = key;
    if (!this.state.plotted.includes(key)) this.state.plotted.unshift(key);
    this.saveState();
    this.syncLoaded();
    this.renderRunChrome();
    this.refreshLines();
  }

  private setPlotted(key: string, plotted: boolean): void {
    const list = this.state.plotted.filter((k) => k !== key);
    if (plotted) list.push(key);
    this.state.plotted = list.slice(0, MAX_LOADED_RUNS);
    if (!plotted && this.state.focus === key) this.state.focus = list[0] ?? key;
    this.saveState();
    this.syncLoaded();
    this.renderRunChrome();
    this.refreshLines();
  }

  /** The focused run first, then the others in the order they were ticked. */
  private plottedKeys(): string[] {
    const focus = this.state.focus;
    const rest = this.state.plotted.filter((k) => k !== focus && this.runs.has(k));
    return focus && this.runs.has(focus) && this.state.plotted.includes(focus) ? [focus, ...rest] : rest;
  }

  /** Asks the host for the rows of newly plotted runs (and lets it forget the others). */
  private syncLoaded(): void {
    const wanted = this.plottedKeys();
    const same = wanted.length === this.loaded.length && wanted.every((k) => this.loaded.includes(k));
    if (same) return;
    const added = wanted.filter((k) => !this.loaded.includes(k));
    for (const key of added) {
      // The host sends these from scratch.
      const run = this.runs.get(key);
      if (run) {
        run.series.train.clear();
        run.series.eval.clear();
      }
    }
    this.loaded = wanted;
    this.bridge.send({ type: 'load', runs: wanted });
  }

  private renderRunChrome(): void {
    const focus = this.state.focus ? this.runs.get(this.state.focus)?.info : undefined;
    this.header.show(focus);
    const keys = this.plottedKeys();
    this.runList.show(this.order, keys, this.state.focus, (key) => {
      const i = keys.indexOf(key);
      return i < 0 ? undefined : ['solid', 'dashed', 'dotted', 'dashed', 'dotted'][i % RUN_DASHES.length];
    });
    this.emptyNote.hidden = this.order.length > 0;
    // A DPO run's review: asked for when the focus moves, and again when the run ends (score_after wrote scores).
    const asked = focus && (focus.stage ?? 'dpo') === 'dpo' && !focus.external ? `${focus.key}|${focus.status}` : '';
    if (asked !== this.reviewAsked) {
      this.reviewAsked = asked;
      this.review.show(undefined);
      if (focus && asked) this.bridge.send({ type: 'reviewData', run: focus.key });
    }
  }

  /** Rebuilds each chart's list of lines (cheap; a chart only redraws from scratch when its lines change). */
  private refreshLines(): void {
    const keys = this.plottedKeys();
    const weight = this.state.smoothing;
    const many = keys.length > 1;
    // The charts that fit the plotted runs: an SFT run has a token accuracy and no rewards.
    const stages = new Set(keys.map((key) => this.runs.get(key)!.info.stage ?? 'dpo'));
    if (stages.size === 0) stages.add('dpo');
    for (const chart of this.charts) {
      chart.element.hidden = !chart.def.stages.some((stage) => stages.has(stage));
      const specs: LineSpec[] = [];
      keys.forEach((key, r) => {
        const run = this.runs.get(key)!;
        const dash = RUN_DASHES[r % RUN_DASHES.length]!;
        for (const metric of chart.def.metrics) {
          const raw = run.line(metric.table, metric.name, 0);
          if (!raw) continue;
          const color = this.theme.color(metric.color);
          const label = many ? `${metric.label} · ${run.info.label}` : metric.label;
          const points = metric.table === 'eval';
          const id = `${key}|${metric.table}|${metric.name}`;
          if (weight > 0) {
            specs.push({ id: `${id}|raw`, line: raw, label, color, dash, width: 1, faint: true, points: false, listed: false });
            const smooth = run.line(metric.table, metric.name, weight)!;
            specs.push({ id: `${id}|smooth`, line: smooth, label, color, dash, width: 2, faint: false, points, raw, listed: true });
          } else {
            specs.push({ id, line: raw, label, color, dash, width: 1.5, faint: false, points, listed: true });
          }
        }
      });
      chart.setLines(specs);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => void this.render());
  }

  /** One frame: redraw the charts on screen that changed; the time it took goes to the timings. */
  private async render(): Promise<void> {
    this.frame = 0;
    const started = performance.now();
    let drawn = 0;
    let build = 0;
    let charts = 0;
    for (const chart of this.charts) {
      if (!chart.isDirty || !chart.visible) continue;
      const done = chart.render();
      drawn += done.drawn;
      build += done.buildMs;
      charts++;
    }
    if (charts === 0) return;
    // uPlot paints in a microtask after setData: wait for it, so the time includes the drawing.
    await Promise.resolve();
    this.timings.rendered(performance.now() - started, build, drawn, charts, Math.max(0, ...this.plottedKeys().map((k) => this.runs.get(k)!.rows)));
  }

  private act(action: RunAction, run: RunInfo): void {
    this.bridge.send({ type: action, run: run.key });
  }

  private saveState(): void {
    this.bridge.setState(this.state);
  }
}

import uPlot from 'uplot';
import { buildChartData, nearestPoint, type ChartLine } from './chartData.ts';
import type { ChartDef } from './chartDefs.ts';
import { formatValue, h } from './dom.ts';
import { withAlpha, type Theme } from './theme.ts';

/** One line as the chart draws it. */
export interface LineSpec {
  /** Stable across updates: same ids, same chart (no rebuild). */
  id: string;
  line: ChartLine;
  label: string;
  color: string;
  dash: number[];
  width: number;
  /** Faint: the raw values behind a smoothed line. */
  faint: boolean;
  /** Dots at each point (eval lines: few points, each one matters). */
  points: boolean;
  /** For the hover box: the raw line behind a smoothed one (shown next to it). */
  raw?: ChartLine;
  /** Listed in the hover box and the PNG's legend (the faint raw lines are not). */
  listed: boolean;
}

export interface ChartCallbacks {
  onLogScale(chart: string, on: boolean): void;
  onSavePng(chart: string, dataUrl: string): void;
}

const HEIGHT = 220;

/**
 * One chart card: a uPlot over the lines it is given, with a log-scale toggle, drag-to-zoom
 * (double-click zooms out), a hover box with the exact values at the step under the cursor,
 * and a PNG export. It draws at most about one point per pixel column per line (see
 * chartData.ts), so 100,000 steps cost what 1,000 do.
 */
export class ChartView {
  readonly element: HTMLElement;
  private readonly host: HTMLElement;
  private readonly hoverBox: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly logToggle: HTMLElement & { checked: boolean };
  private plot: uPlot | undefined;
  private specs: LineSpec[] = [];
  private structure = '';
  private zoom: [number, number] | undefined;
  private dirty = true;
  visible = true;

  constructor(
    readonly def: ChartDef,
    private theme: Theme,
    private log: boolean,
    private readonly callbacks: ChartCallbacks,
  ) {
    this.logToggle = h('vscode-checkbox', { class: 'log-toggle', label: 'log', title: 'Logarithmic y axis' }) as HTMLElement & { checked: boolean };
    this.logToggle.checked = log;
    this.logToggle.addEventListener('change', () => {
      this.log = this.logToggle.checked;
      this.callbacks.onLogScale(def.id, this.log);
      this.rebuild();
    });
    const png = h('vscode-button', { class: 'png-button', secondary: true, title: `Save the ${def.title} chart as PNG`, 'aria-label': `Save ${def.title} as PNG` }, 'PNG');
    png.addEventListener('click', () => this.savePng());
    this.host = h('div', { class: 'chart-host' });
    this.hoverBox = h('div', { class: 'hover-box', role: 'status', 'aria-live': 'off' });
    this.hoverBox.hidden = true;
    this.empty = h('p', { class: 'chart-empty' }, 'No points yet');
    this.element = h(
      'section',
      { class: 'chart-card', 'data-chart': def.id, 'data-points': 0, 'aria-label': def.title },
      h('header', { class: 'chart-head' }, h('h2', {}, def.title), h('span', { class: 'chart-actions' }, def.logAllowed ? this.logToggle : undefined, png)),
      this.host,
      this.hoverBox,
      this.empty,
    );
    new ResizeObserver(() => {
      if (!this.plot) return;
      const width = this.width();
      if (Math.abs(width - this.plot.width) < 2) return;
      this.plot.setSize({ width, height: HEIGHT });
      this.markDirty();
    }).observe(this.host);
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  markDirty(): void {
    this.dirty = true;
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.rebuild();
  }

  /** New lines: the chart is rebuilt only when they differ in number, names or looks. */
  setLines(specs: LineSpec[]): void {
    this.specs = specs;
    const structure = specs.map((s) => `${s.id}:${s.color}:${s.dash.join('.')}:${s.width}:${s.faint}:${s.label}`).join('|');
    if (structure !== this.structure) {
      this.structure = structure;
      this.rebuild();
    }
    this.dirty = true;
  }

  /** Draws the current data: the points handed to uPlot, and the time spent picking them. */
  render(): { drawn: number; buildMs: number } {
    this.dirty = false;
    const first = this.specs.find((s) => s.listed);
    this.element.dataset.points = String(first ? first.line.length : 0);
    this.element.dataset.lastStep = first && first.line.length > 0 ? String(first.line.xs[first.line.length - 1]) : '';
    const hasData = this.specs.some((s) => s.line.length > 0);
    this.empty.hidden = hasData;
    if (!this.plot) return { drawn: 0, buildMs: 0 };
    const t0 = performance.now();
    // Buckets of two pixel columns: with each bucket's lowest and highest point the line looks
    // the same as with every point, at a fraction of the drawing.
    const columns = (this.plot.bbox.width / devicePixelRatio || this.width()) / 2;
    const { data, drawn } = buildChartData(
      this.specs.map((s) => (s.faint ? { ...s.line, detail: 0.5 } : s.line)),
      this.zoom,
      columns,
    );
    this.element.dataset.drawn = String(drawn);
    const buildMs = performance.now() - t0;
    const plot = this.plot;
    plot.batch(() => {
      plot.setData(data as unknown as uPlot.AlignedData, this.zoom === undefined);
      if (this.zoom) plot.setScale('x', { min: this.zoom[0], max: this.zoom[1] });
    });
    return { drawn, buildMs };
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = undefined;
  }

  private width(): number {
    return Math.max(200, Math.floor(this.host.clientWidth || this.element.clientWidth || 400));
  }

  private rebuild(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.hoverBox.hidden = true;
    if (this.specs.length === 0) {
      this.element.dataset.drawn = '0';
      return;
    }
    const t = this.theme;
    const axis: uPlot.Axis = {
      stroke: t.muted,
      font: t.font,
      grid: { stroke: t.grid, width: 1 },
      ticks: { stroke: t.grid, width: 1, size: 4 },
    };
    const options: uPlot.Options = {
      width: this.width(),
      height: HEIGHT,
      scales: { x: { time: false }, y: this.log ? { distr: 3 } : {} },
      legend: { show: false },
      cursor: {
        sync: { key: 'dpo-dashboard' },
        drag: { x: true, y: false, setScale: false },
        points: { show: false },
        bind: {
          dblclick: () => () => {
            this.zoom = undefined;
            this.render();
            return null;
          },
        },
      },
      axes: [
        { ...axis, label: undefined, values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? v.toLocaleString('en-US') : '')) },
        { ...axis, size: 56, values: (_u, splits) => splits.map((v) => formatValue(v)) },
      ],
      series: [
        { label: 'step' },
        ...this.specs.map<uPlot.Series>((s) => ({
          label: s.label,
          stroke: s.faint ? withAlpha(s.color, 0.25) : s.color,
          width: s.width,
          dash: s.dash,
          spanGaps: true,
          points: s.points ? { show: true, size: 5, stroke: s.color, fill: s.color } : { show: false },
        })),
      ],
      hooks: {
        setSelect: [(u) => this.onSelect(u)],
        setCursor: [(u) => this.onCursor(u)],
      },
    };
    this.plot = new uPlot(options, [new Float64Array(0), ...this.specs.map(() => [])] as unknown as uPlot.AlignedData, this.host);
    this.dirty = true;
  }

  private onSelect(u: uPlot): void {
    if (u.select.width < 3) return;
    const from = u.posToVal(u.select.left, 'x');
    const to = u.posToVal(u.select.left + u.select.width, 'x');
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (to - from < 1e-9) return;
    this.zoom = [from, to];
    this.render();
  }

  /** The hover box: each listed line's exact value at the step nearest the cursor. */
  private onCursor(u: uPlot): void {
    const left = u.cursor.left;
    if (left === undefined || left < 0) {
      this.hoverBox.hidden = true;
      return;
    }
    const x = u.posToVal(left, 'x');
    const rows: HTMLElement[] = [];
    let step: number | undefined;
    for (const spec of this.specs) {
      if (!spec.listed) continue;
      const point = nearestPoint(spec.line, x);
      if (!point) continue;
      step ??= point.step;
      const raw = spec.raw ? nearestPoint(spec.raw, point.step) : undefined;
      // A line logged at other steps (eval) shows its nearest point, and says which step that is.
      const value = formatValue(point.value) + (raw && raw.step === point.step ? ` (${formatValue(raw.value)})` : '') + (point.step !== step ? ` @${point.step}` : '');
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = spec.color;
      rows.push(h('div', { class: 'hover-row' }, swatch, h('span', { class: 'hover-label' }, spec.label), h('span', { class: 'hover-value' }, value)));
    }
    if (rows.length === 0) {
      this.hoverBox.hidden = true;
      return;
    }
    const smoothed = this.specs.some((s) => s.raw);
    this.hoverBox.replaceChildren(h('div', { class: 'hover-step' }, `step ${step}${smoothed ? ' · smoothed (raw)' : ''}`), ...rows);
    this.hoverBox.hidden = false;
  }

  /** The chart as a PNG: title, legend and plot on the theme's background. */
  private savePng(): void {
    if (!this.plot) return;
    const source = this.plot.ctx.canvas;
    const scale = source.width / Math.max(1, this.plot.width);
    const pad = Math.round(12 * scale);
    const titleHeight = Math.round(26 * scale);
    const listed = this.specs.filter((s) => s.listed);
    const legendHeight = Math.round(18 * scale) * Math.max(1, Math.ceil(listed.length / 3));
    const canvas = document.createElement('canvas');
    canvas.width = source.width + 2 * pad;
    canvas.height = source.height + titleHeight + legendHeight + 2 * pad;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = this.theme.background;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = this.theme.foreground;
    ctx.font = `600 ${Math.round(14 * scale)}px ${this.theme.fontFamily}`;
    ctx.textBaseline = 'top';
    ctx.fillText(this.def.title, pad, pad);
    ctx.font = `${Math.round(11 * scale)}px ${this.theme.fontFamily}`;
    const columnWidth = (canvas.width - 2 * pad) / 3;
    listed.forEach((spec, i) => {
      const x = pad + (i % 3) * columnWidth;
      const y = pad + titleHeight + Math.floor(i / 3) * Math.round(18 * scale);
      ctx.fillStyle = spec.color;
      ctx.fillRect(x, y + 4 * scale, 14 * scale, 3 * scale);
      ctx.fillStyle = this.theme.foreground;
      ctx.fillText(spec.label, x + 20 * scale, y);
    });
    ctx.drawImage(source, pad, pad + titleHeight + legendHeight);
    this.callbacks.onSavePng(this.def.id, canvas.toDataURL('image/png'));
  }
}

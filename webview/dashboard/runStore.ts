import { clampSmoothing, EmaSmoother } from '../../src/core/training/emaSmoothing.ts';
import { RunSeries, type MetricTable, type TableRows } from '../../src/core/training/metricTable.ts';
import type { RunDataMessage, RunInfo, TableChunk } from '../../src/protocol/dashboardMessages.ts';
import type { ChartLine } from './chartData.ts';
import { MinMaxPyramid } from './minMaxPyramid.ts';

/**
 * Typed arrays normally arrive as such (VS Code 1.57+ transfers them); anything else that
 * holds numbers (a JSON round trip turns them into arrays or index-keyed objects, NaN into null)
 * is converted, so the charts never depend on the transport.
 */
function asFloat64(value: unknown): Float64Array {
  if (value instanceof Float64Array) return value;
  if (ArrayBuffer.isView(value)) return Float64Array.from(value as unknown as ArrayLike<number>);
  if (Array.isArray(value)) return Float64Array.from(value, (v) => (typeof v === 'number' ? v : Number.NaN));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    const out = new Float64Array(entries.length);
    for (const [k, v] of entries) out[Number(k)] = typeof v === 'number' ? v : Number.NaN;
    return out;
  }
  return new Float64Array(0);
}

function rowsOf(chunk: TableChunk): TableRows {
  const steps = asFloat64(chunk.steps);
  const columns: Record<string, Float64Array> = {};
  for (const [name, values] of Object.entries(chunk.columns ?? {})) columns[name] = asFloat64(values);
  return { steps, columns };
}

interface Smoothed {
  values: Float64Array;
  length: number;
  smoother: EmaSmoother;
  tableVersion: number;
  generation: number;
}

let generations = 0;

/** One run as the dashboard holds it: the host's facts, its rows (a mirror of the host's tables), and the chart lines over them. */
export class RunData {
  readonly series = new RunSeries();
  private readonly lines = new Map<string, ChartLine>();
  private readonly smoothed = new Map<string, Smoothed>();

  constructor(public info: RunInfo) {}

  /** Applies rows from the host; false when they do not follow what is held (the run must be loaded again). */
  apply(message: RunDataMessage): boolean {
    if (message.reset) {
      this.series.train.clear();
      this.series.eval.clear();
    }
    for (const [table, chunk] of [[this.series.train, message.train], [this.series.eval, message.eval]] as const) {
      if (!chunk) continue;
      if (chunk.start !== table.length) return false;
      table.appendRows(rowsOf(chunk));
    }
    return true;
  }

  table(name: 'train' | 'eval'): MetricTable {
    return name === 'train' ? this.series.train : this.series.eval;
  }

  /** Rows held, for the benchmark and the tests: the longest table. */
  get rows(): number {
    return Math.max(this.series.train.length, this.series.eval.length);
  }

  /**
   * The chart line of a metric: its raw values, or the smoothed ones (`weight` > 0). The line
   * object (and its min/max levels) lives as long as the run, so appends cost only their rows.
   */
  line(tableName: 'train' | 'eval', metric: string, weight: number): ChartLine | undefined {
    const table = this.table(tableName);
    const raw = table.column(metric);
    if (!raw) return undefined;
    const id = `${tableName}|${metric}|${weight > 0 ? 's' : 'r'}`;
    let line = this.lines.get(id);
    if (!line) {
      line = { xs: table.steps, ys: raw, length: 0, generation: undefined, pyramid: new MinMaxPyramid() };
      this.lines.set(id, line);
    }
    line.xs = table.steps;
    line.length = table.length;
    if (weight > 0) {
      const smooth = this.smooth(tableName, metric, weight);
      line.ys = smooth.values.subarray(0, smooth.length);
      line.generation = smooth.generation;
    } else {
      line.ys = raw;
      line.generation = table.version;
    }
    return line;
  }

  /** EMA of a metric, continued for appended rows and recomputed when the weight or the rows before change. */
  private smooth(tableName: 'train' | 'eval', metric: string, weight: number): Smoothed {
    const table = this.table(tableName);
    const raw = table.column(metric)!;
    const key = `${tableName}|${metric}`;
    let s = this.smoothed.get(key);
    if (!s || s.smoother.weight !== clampSmoothing(weight) || s.tableVersion !== table.version || s.length > raw.length) {
      // Room to grow: a live run appends every step, and a copy of 100,000 values per step would show.
      s = { values: new Float64Array(Math.max(64, Math.ceil(raw.length * 1.5))), length: 0, smoother: new EmaSmoother(weight), tableVersion: table.version, generation: ++generations };
      this.smoothed.set(key, s);
    }
    if (s.values.length < raw.length) {
      const grown = new Float64Array(Math.max(raw.length, s.values.length * 2));
      grown.set(s.values.subarray(0, s.length));
      s.values = grown;
    }
    for (let i = s.length; i < raw.length; i++) s.values[i] = s.smoother.next(raw[i]!);
    s.length = raw.length;
    return s;
  }
}

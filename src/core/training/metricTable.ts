import type { TrainerEvent } from '../../protocol/trainerEvents.ts';

/** A block of rows: what a table hands to a mirror of it (the dashboard), and what it appends. */
export interface TableRows {
  steps: Float64Array;
  columns: Record<string, Float64Array>;
}

const INITIAL_CAPACITY = 64;

/**
 * One value per logging step and metric, in columns of Float64Array: 100,000 steps of 20
 * metrics are 16 MB and a column is handed to a chart without copying. Rows are kept in
 * increasing step order; a missing value (a metric a row did not report) is NaN.
 *
 * A row whose step is not after the last one means the trainer went back (a resumed run redoes
 * the steps after its checkpoint), so the rows from that step on are dropped first: a table
 * always reads as one continuous run. Every removal bumps `version`, so a mirror that only
 * appends knows it must start over.
 */
export class MetricTable {
  private stepBuffer = new Float64Array(INITIAL_CAPACITY);
  private readonly buffers = new Map<string, Float64Array>();
  private size = 0;
  private changes = 0;

  get length(): number {
    return this.size;
  }

  /** Bumped whenever rows are removed. */
  get version(): number {
    return this.changes;
  }

  get steps(): Float64Array {
    return this.stepBuffer.subarray(0, this.size);
  }

  /** Metric names in the order they first appeared. */
  names(): string[] {
    return [...this.buffers.keys()];
  }

  has(name: string): boolean {
    return this.buffers.has(name);
  }

  /** The values of a metric, a view of the table's own memory (valid until the next append). */
  column(name: string): Float64Array | undefined {
    return this.buffers.get(name)?.subarray(0, this.size);
  }

  lastStep(): number {
    return this.size > 0 ? this.stepBuffer[this.size - 1]! : Number.NEGATIVE_INFINITY;
  }

  /** Index of the first row whose step is >= `step` (binary search; steps are sorted). */
  lowerBound(step: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.stepBuffer[mid]! < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  append(step: number, metrics: Readonly<Record<string, number>>): void {
    if (!Number.isFinite(step)) return;
    if (step <= this.lastStep()) this.truncate(this.lowerBound(step));
    this.reserve(this.size + 1);
    const row = this.size;
    this.stepBuffer[row] = step;
    for (const [name, value] of Object.entries(metrics)) {
      // `step` repeats the row's own step in the trainer's metrics; it is the row key, not a series.
      if (name === 'step') continue;
      this.columnBuffer(name)[row] = Number.isFinite(value) ? value : Number.NaN;
    }
    this.size++;
  }

  /** Appends a block of rows (what `rowsFrom` of a mirrored table gave). */
  appendRows(rows: TableRows): void {
    const count = rows.steps.length;
    if (count === 0) return;
    if (rows.steps[0]! <= this.lastStep()) this.truncate(this.lowerBound(rows.steps[0]!));
    this.reserve(this.size + count);
    this.stepBuffer.set(rows.steps, this.size);
    for (const [name, values] of Object.entries(rows.columns)) {
      if (name === 'step' || values.length !== count) continue;
      this.columnBuffer(name).set(values, this.size);
    }
    this.size += count;
  }

  /** Copies of the rows from `start` on. */
  rowsFrom(start: number): TableRows {
    const from = Math.max(0, Math.min(start, this.size));
    const columns: Record<string, Float64Array> = {};
    for (const [name, buffer] of this.buffers) columns[name] = buffer.slice(from, this.size);
    return { steps: this.stepBuffer.slice(from, this.size), columns };
  }

  /** Drops the rows after `step`; true when any were dropped. */
  truncateAfter(step: number): boolean {
    const index = this.upperBound(step);
    if (index >= this.size) return false;
    this.truncate(index);
    return true;
  }

  /** Index of the first row whose step is > `step`. */
  upperBound(step: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.stepBuffer[mid]! <= step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  clear(): void {
    if (this.size === 0 && this.buffers.size === 0) return;
    this.truncate(0);
    this.buffers.clear();
  }

  private truncate(length: number): void {
    // Removed rows go back to NaN: a later row that lacks a metric must not inherit an old value.
    for (const buffer of this.buffers.values()) buffer.fill(Number.NaN, length, this.size);
    this.size = length;
    this.changes++;
  }

  private columnBuffer(name: string): Float64Array {
    let buffer = this.buffers.get(name);
    if (!buffer) {
      buffer = new Float64Array(this.stepBuffer.length).fill(Number.NaN);
      this.buffers.set(name, buffer);
    }
    return buffer;
  }

  private reserve(rows: number): void {
    if (rows <= this.stepBuffer.length) return;
    let capacity = this.stepBuffer.length;
    while (capacity < rows) capacity *= 2;
    const grow = (old: Float64Array, fill: number) => {
      const next = new Float64Array(capacity);
      next.set(old);
      if (fill !== 0) next.fill(fill, old.length);
      return next;
    };
    this.stepBuffer = grow(this.stepBuffer, 0);
    for (const [name, buffer] of this.buffers) this.buffers.set(name, grow(buffer, Number.NaN));
  }
}

/** The training and eval metrics of one run's output folder, as the charts need them. */
export class RunSeries {
  readonly train = new MetricTable();
  readonly eval = new MetricTable();

  /**
   * Applies one event; true when a table changed. A fresh `start` (no `resumedFromStep`) is a
   * new run in the same output folder and clears both tables; a resumed one drops the steps
   * after its checkpoint, which it is about to redo.
   */
  apply(event: TrainerEvent): boolean {
    switch (event.type) {
      case 'start':
        if (event.resumedFromStep === undefined) {
          const had = this.train.length + this.eval.length > 0;
          this.train.clear();
          this.eval.clear();
          return had;
        }
        return [this.train.truncateAfter(event.resumedFromStep), this.eval.truncateAfter(event.resumedFromStep)].some(Boolean);
      case 'metrics':
        this.train.append(event.step, event.metrics);
        return true;
      case 'eval':
        this.eval.append(event.step, event.metrics);
        return true;
      default:
        return false;
    }
  }

  applyAll(events: Iterable<TrainerEvent>): void {
    for (const event of events) this.apply(event);
  }
}

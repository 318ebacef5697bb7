import type { ValidationResult } from '../dataset/datasetValidation.ts';
import type { LintOptions } from '../dataset/lintRules.ts';
import { applyColumnMapping, MAPPABLE_FIELDS } from '../dataset/columnMapping.ts';
import { convertToJsonl, matchesFilter, type RowFilter } from '../dataset/convertDataset.ts';
import { writeFileAtomic } from '../files/atomicWrite.ts';
import { openParquet, type ParquetTable } from '../dataset/parquetTable.ts';
import { analyzeRow } from '../dataset/recordAnalysis.ts';
import { RecordFlags } from './recordFlags.ts';
import { datasetSummary, type DatasetSummary } from './recordDocument.ts';
import { toRecordView, type RecordView } from './recordView.ts';

/**
 * The pair editor's records from a Parquet file, read-only: rows are read a row group at a time
 * (the few groups around the labeler are kept), so a million-row file opens as fast as a small
 * one. An optional order (a numeric column, highest or lowest first) maps what the editor calls
 * record i to a row of the file.
 */

/** Row groups kept decoded: the one on screen and its neighbours. */
const GROUPS_KEPT = 4;

/** Record fields and labeling fields: the columns a record view shows in its own places. */
const RECORD_KEYS = new Set<string>([...MAPPABLE_FIELDS, 'id', 'note', 'annotator', 'time_ms', 'labeled_at', 'decision', 'best', 'worst', 'ranking']);

export interface TableSort {
  column: string;
  descending: boolean;
}

export class TableRecords {
  private readonly groups = new Map<number, Promise<Array<Record<string, unknown>>>>();
  private order: Int32Array | undefined;
  sort: TableSort | undefined;

  private constructor(
    readonly table: ParquetTable,
    private options: LintOptions,
  ) {}

  static async open(path: string, options: LintOptions): Promise<TableRecords> {
    return new TableRecords(await openParquet(path), options);
  }

  setOptions(options: LintOptions): void {
    this.options = options;
    this.groups.clear();
  }

  get count(): number {
    return this.table.rowCount;
  }

  close(): Promise<void> {
    return this.table.close();
  }

  /** The file's row behind record `index` as the editor orders them. */
  rowOf(index: number): number {
    return this.order ? this.order[index]! : index;
  }

  /** Sorts by a numeric column (rows without a number last), or back to file order. */
  async sortBy(sort: TableSort | undefined): Promise<void> {
    if (!sort) {
      this.order = undefined;
      this.sort = undefined;
      return;
    }
    if (!this.table.numericColumns.includes(sort.column)) throw new Error(`"${sort.column}" is not a numeric column of this file (${this.table.numericColumns.join(', ') || 'it has none'})`);
    const values = await this.table.column(sort.column);
    const keys = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      keys[i] = typeof v === 'number' && Number.isFinite(v) ? (sort.descending ? -v : v) : Number.POSITIVE_INFINITY;
    }
    const order = new Int32Array(values.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    // Stable: equal scores keep file order.
    order.sort((a, b) => keys[a]! - keys[b]! || a - b);
    this.order = order;
    this.sort = sort;
  }

  private groupOf(row: number): number {
    const groups = this.table.rowGroups;
    let lo = 0;
    let hi = groups.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (groups[mid]!.start <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private rowsOfGroup(group: number): Promise<Array<Record<string, unknown>>> {
    let rows = this.groups.get(group);
    if (rows) {
      // Most recently used last: the first entries are the ones to forget.
      this.groups.delete(group);
      this.groups.set(group, rows);
      return rows;
    }
    const range = this.table.rowGroups[group]!;
    rows = this.table.rows(range.start, range.end);
    this.groups.set(group, rows);
    rows.catch(() => this.groups.delete(group));
    while (this.groups.size > GROUPS_KEPT) this.groups.delete(this.groups.keys().next().value!);
    return rows;
  }

  async row(row: number): Promise<Record<string, unknown>> {
    const group = this.groupOf(row);
    return (await this.rowsOfGroup(group))[row - this.table.rowGroups[group]!.start]!;
  }

  /** Views of records (editor order), in the order asked. */
  async views(indices: readonly number[]): Promise<RecordView[]> {
    const out: RecordView[] = [];
    for (const index of indices) {
      if (index < 0 || index >= this.count) continue;
      const row = this.rowOf(index);
      out.push(rowView(index, row, await this.row(row), this.options));
    }
    return out;
  }

  /** The next record (wrapping) whose texts contain `query`, in editor order. */
  async search(query: string, from: number, step: 1 | -1): Promise<number | undefined> {
    const needle = query.toLowerCase();
    for (let k = 1; k <= this.count; k++) {
      const index = (((from + step * k) % this.count) + this.count) % this.count;
      const row = await this.row(this.rowOf(index));
      if (JSON.stringify(row).toLowerCase().includes(needle)) return index;
    }
    return undefined;
  }

  /**
   * Writes records (editor order, from the first) as JSON Lines to label: the mapping applied,
   * other columns kept, only those `where` keeps, at most `limit`. In file order the rows stream
   * a group at a time; sorted, they are read in chunks of the order, each group decoded once a chunk.
   */
  async exportJsonl(outPath: string, options: { limit?: number; where?: RowFilter; onProgress?: (read: number, written: number) => void } = {}): Promise<{ read: number; written: number }> {
    const mapping = this.options.columns;
    if (!this.order) return convertToJsonl([this.table.path], outPath, { ...(mapping ? { columns: mapping } : {}), ...options });
    const limit = options.limit ?? this.count;
    const lines: string[] = [];
    let read = 0;
    // Every chunk may touch every row group: a few big chunks decode each group a few times, not once per 20,000 rows.
    const CHUNK = Math.max(20_000, Math.ceil(Math.min(limit, this.count) / 8));
    for (let start = 0; start < this.count && lines.length < limit; start += CHUNK) {
      const indices = Array.from({ length: Math.min(CHUNK, this.count - start) }, (_, k) => start + k);
      // Decode each needed group once for this chunk, in file order.
      const rows = new Map<number, Record<string, unknown>>();
      const byGroup = new Map<number, number[]>();
      for (const index of indices) {
        const row = this.rowOf(index);
        const group = this.groupOf(row);
        let list = byGroup.get(group);
        if (!list) byGroup.set(group, (list = []));
        list.push(row);
      }
      for (const [group, wanted] of [...byGroup].sort((a, b) => a[0] - b[0])) {
        const range = this.table.rowGroups[group]!;
        const groupRows = await this.table.rows(range.start, range.end);
        for (const row of wanted) rows.set(row, groupRows[row - range.start]!);
      }
      for (const index of indices) {
        read++;
        const row = rows.get(this.rowOf(index))!;
        const mapped = applyColumnMapping(row, mapping);
        if (options.where && !matchesFilter(row, mapped, options.where)) continue;
        lines.push(JSON.stringify(mapped));
        if (lines.length >= limit) break;
      }
      options.onProgress?.(read, lines.length);
    }
    writeFileAtomic(outPath, lines.map((l) => `${l}\n`).join(''));
    return { read, written: lines.length };
  }

  /** The whole-file check as the editor's summary: problem flags in editor order. */
  summary(result: ValidationResult): DatasetSummary {
    const total = this.count;
    const position = new Int32Array(total);
    for (let i = 0; i < total; i++) position[this.rowOf(i)] = i;
    const problemFlags = new RecordFlags(total);
    const fileProblems: DatasetSummary['fileProblems'] = [];
    for (const p of result.problems) {
      if (p.recordIndex === undefined) fileProblems.push({ severity: p.severity, code: p.code, message: p.message, pointer: p.pointer, line: p.line, column: p.column });
      else if (p.severity !== 'info' && p.recordIndex < total) problemFlags.set(position[p.recordIndex]!, true);
    }
    return datasetSummary(result, 0, new RecordFlags(total), problemFlags, fileProblems);
  }
}

/** One row as the pair editor shows a record: the mapped record, its problems by column, and the other columns beside it. */
export function rowView(index: number, row: number, values: Record<string, unknown>, options: LintOptions): RecordView {
  const analysis = analyzeRow(values, options);
  const source = JSON.stringify(values);
  const view = toRecordView({ index, line: row + 1, column: 1, offset: 0, length: source.length, source }, { ...analysis, problems: analysis.problems.map((p) => ({ ...p, offset: 0, length: 0 })) });
  const mapped = new Set(Object.values(options.columns ?? {}));
  const extras = Object.entries(values)
    .filter(([name]) => !mapped.has(name) && !RECORD_KEYS.has(name))
    .map(([name, value]) => ({ name, value: typeof value === 'string' ? value : JSON.stringify(value) }));
  return { ...view, row: row + 1, ...(extras.length ? { extras } : {}) };
}

import { describeMissingColumns, missingMappedColumns } from './columnMapping.ts';
import { samePairTexts } from './datasetLinter.ts';
import { DatasetValidation, type ValidationResult } from './datasetValidation.ts';
import { DEFAULT_LINT_OPTIONS, type LintOptions } from './lintRules.ts';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openParquet, ParquetReadError, type ParquetTable } from './parquetTable.ts';
import { forEachPackedAnalysis, packAnalyses, PACKED_WIDTH, pairTuple, portableOptions, type PackedAnalyses } from './parquetRowAnalysis.ts';
import type { WorkerRequest } from './parquetValidateWorker.ts';
import { analyzeRow } from './recordAnalysis.ts';
import type { RecordSpan } from './recordSpans.ts';
import type { NormalizedRecord } from './types.ts';

/**
 * Parquet rows as records: one or several files (a Hub split's shards) read row group by row
 * group, so memory holds one group. A row is located by its 1-based number across the files
 * (`line` in spans and problems) and a problem by its column (`pointer`, the file's own names).
 */

export function rowSpan(index: number): RecordSpan {
  return { index, line: index + 1, column: 1, offset: 0, length: 0, source: '' };
}

/**
 * Of the rows whose pair keys collide with another's, those that share the whole tuple of prompt
 * fingerprint, answer keys and lengths with another (or with its swap): the only ones that can be
 * duplicates or contradictions, so the only ones whose texts are read again. The 30-bit pair keys
 * of a million rows collide by chance some thousand times; their tuples almost never do.
 */
function rowsToCompare(candidates: readonly number[], packed: Float64Array): number[] {
  const byTuple = new Map<string, number[]>();
  for (const row of candidates) {
    const key = pairTuple(packed, row, false);
    const list = byTuple.get(key);
    if (list) list.push(row);
    else byTuple.set(key, [row]);
  }
  const out = new Set<number>();
  for (const row of candidates) {
    const same = byTuple.get(pairTuple(packed, row, false))!;
    if (same.length > 1) same.forEach((r) => out.add(r));
    const swapped = byTuple.get(pairTuple(packed, row, true));
    if (swapped && swapped.some((r) => r !== row)) {
      out.add(row);
      swapped.forEach((r) => out.add(r));
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** Rows by their index across the files, read again a row group at a time (the few whose keys collide with another's). */
async function readRowsAt(tables: ParquetTable[], indices: readonly number[]): Promise<Map<number, Record<string, unknown>>> {
  const out = new Map<number, Record<string, unknown>>();
  let base = 0;
  for (const table of tables) {
    for (const group of table.rowGroups) {
      const wanted = indices.filter((i) => i >= base + group.start && i < base + group.end);
      if (wanted.length === 0) continue;
      const rows = await table.rows(group.start, group.end);
      for (const i of wanted) out.set(i, rows[i - base - group.start]!);
    }
    base += table.rowCount;
  }
  return out;
}

/**
 * Validates Parquet files as `validateFile` does JSON Lines: the same record checks, lints,
 * statistics and cross-record findings (the few rows whose keys collide are read again to
 * compare their texts). A mapped column the file lacks is one error for the file, not one per row.
 */
export async function validateParquet(files: readonly string[], options: LintOptions = DEFAULT_LINT_OPTIONS, parallel: { workers?: number } = {}): Promise<ValidationResult> {
  const validation = new DatasetValidation(options, 'parquet');
  const tables: ParquetTable[] = [];
  let analysed: Awaited<ReturnType<typeof analyseInWorkers>> | undefined;
  try {
    for (const file of files) tables.push(await openParquet(file));
    const columns = [...new Set(tables.flatMap((t) => t.columns))];
    const missing = missingMappedColumns(columns, options.columns);
    if (missing.length > 0) {
      validation.addFileIssue({ code: 'missing-column', message: describeMissingColumns(missing, columns), offset: 0, length: 0, line: 1, column: 1 });
      return validation.finish({ compare: () => false, spanOf: rowSpan });
    }
    const rows = tables.reduce((n, t) => n + t.rowCount, 0);
    const units = tables.flatMap((table) => table.rowGroups.map((_, group) => ({ table, group })));
    const workers = parallel.workers ?? defaultWorkers(rows, units.length);
    analysed = workers > 1 ? await analyseInWorkers(units, options, workers) : undefined;
    // The packed analyses are kept (ten numbers a row): rows that may be duplicates are told apart by them, not read again.
    const packed = new Float64Array(rows * PACKED_WIDTH);
    let start = 0;
    let unitIndex = 0;
    for (const table of tables) {
      for (const group of table.rowGroups) {
        const first = start + group.start;
        const result = analysed ? await analysed.next(unitIndex) : packAnalyses((await table.rows(group.start, group.end)).map((row) => analyzeRow(row, options)));
        packed.set(result.numbers, first * PACKED_WIDTH);
        const span = rowSpan(first);
        forEachPackedAnalysis(result, (row, analysis) => {
          span.index = first + row;
          span.line = first + row + 1;
          validation.addRecord(span, analysis);
        });
        unitIndex++;
      }
      start += table.rowCount;
    }
    if (rows === 0) validation.addFileIssue({ code: 'empty-file', message: 'The file has no rows', offset: 0, length: 0, line: 1, column: 1 });
    const normalized = new Map<number, NormalizedRecord | undefined>();
    for (const [index, row] of await readRowsAt(tables, rowsToCompare(validation.crossRecordCandidates(), packed))) normalized.set(index, analyzeRow(row, options).normalized);
    return validation.finish({ compare: (a, b, relation) => normalized.has(a) && normalized.has(b) && samePairTexts(normalized.get(a), normalized.get(b), relation), spanOf: rowSpan });
  } finally {
    await analysed?.close();
    for (const table of tables) await table.close();
  }
}

/** Below this many rows a file is checked on the calling thread: starting workers would cost more than it saves. */
const PARALLEL_MIN_ROWS = 50_000;
const YOUNG_GENERATION_MB = Number(process.env.DPO_STUDIO_YOUNG_MB ?? 160);

function defaultWorkers(rows: number, groups: number): number {
  if (rows < PARALLEL_MIN_ROWS || groups < 2 || !workerScript()) return 1;
  return Math.min(availableParallelism(), 4, groups);
}

/** The worker's script: beside the bundle (dist/parquetWorker.cjs), or the TypeScript source when run from source (tests, with tsx). */
function workerScript(): string | URL | undefined {
  if (typeof __filename !== 'undefined' && __filename.endsWith('.cjs')) {
    const bundled = join(dirname(__filename), 'parquetWorker.cjs');
    return existsSync(bundled) ? bundled : undefined;
  }
  // From source (tests and benches run TypeScript through tsx; the bundles define import.meta.url away).
  return import.meta.url ? new URL('./parquetValidateWorker.ts', import.meta.url) : undefined;
}

interface Unit {
  table: ParquetTable;
  group: number;
}

/**
 * Row groups handed to worker threads one at a time (the next to whichever finishes first); the
 * caller takes their analyses in file order with `next`, while later groups are still being read.
 */
async function analyseInWorkers(units: readonly Unit[], options: LintOptions, count: number): Promise<{ next(unit: number): Promise<PackedAnalyses>; close(): Promise<void> }> {
  const portable = portableOptions(options);
  const results = new Map<number, { resolve: (a: PackedAnalyses) => void; reject: (e: Error) => void; promise: Promise<PackedAnalyses> }>();
  const slot = (unit: number) => {
    let entry = results.get(unit);
    if (!entry) {
      let resolve!: (a: PackedAnalyses) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<PackedAnalyses>((res, rej) => ((resolve = res), (reject = rej)));
      promise.catch(() => {});
      results.set(unit, (entry = { resolve, reject, promise }));
    }
    return entry;
  };
  let nextUnit = 0;
  const workers: Worker[] = [];
  const keyOf = new Map(units.map((u, i) => [`${u.table.path}\u0000${u.group}`, i]));
  const send = (worker: Worker) => {
    if (nextUnit >= units.length) return;
    const unit = units[nextUnit++]!;
    worker.postMessage({ type: 'group', file: unit.table.path, group: unit.group, options: portable } satisfies WorkerRequest);
  };
  for (let i = 0; i < count; i++) {
    const script = workerScript()!;
    // From source, the worker loads the TypeScript through tsx's API (a worker does not inherit the loader).
    // A young generation larger than V8's default: checking a row group allocates a lot that dies young, and scavenges were a fifth of the time.
    const resourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
    const worker =
      typeof script === 'string'
        ? new Worker(script, { resourceLimits })
        : new Worker(`import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(script.href)}, ${JSON.stringify(script.href)}))`, { eval: true, resourceLimits });
    worker.on('message', (message: { type: 'group'; file: string; group: number; packed: PackedAnalyses } | { type: 'error'; file: string; group: number; message: string }) => {
      const unit = keyOf.get(`${message.file}\u0000${message.group}`)!;
      if (message.type === 'error') slot(unit).reject(new ParquetReadError(message.message));
      else slot(unit).resolve(message.packed);
      send(worker);
    });
    worker.on('error', (error) => {
      for (let u = 0; u < units.length; u++) slot(u).reject(error);
    });
    workers.push(worker);
    // Two groups in flight per worker: it reads the next while the last result is on its way.
    send(worker);
    send(worker);
  }
  return {
    async next(unit) {
      const analyses = await slot(unit).promise;
      results.delete(unit);
      return analyses;
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

import { describeMissingColumns, missingMappedColumns } from './columnMapping.ts';
import { samePairTexts } from './datasetLinter.ts';
import { DatasetValidation, type ValidationResult } from './datasetValidation.ts';
import { DEFAULT_LINT_OPTIONS, type LintOptions } from './lintRules.ts';
import { openParquet, type ParquetTable } from './parquetTable.ts';
import { analyzeRow } from './recordAnalysis.ts';
import type { RecordSpan } from './recordSpans.ts';
import type { NormalizedRecord } from './types.ts';

/**
 * Parquet rows as records: one or several files (a Hub split's shards) read row group by row
 * group, so memory holds one group. A row is located by its 1-based number across the files
 * (`line` in spans and problems) and a problem by its column (`pointer`, the file's own names).
 */

export interface ParquetRowBatch {
  /** 0-based index of the first row, counted across the files. */
  start: number;
  rows: Array<Record<string, unknown>>;
  file: string;
}

/** Every row of the files in order, a row group at a time. */
export async function* parquetRowBatches(files: readonly string[], columns?: readonly string[]): AsyncGenerator<ParquetRowBatch> {
  let start = 0;
  for (const file of files) {
    const table = await openParquet(file);
    try {
      for (const group of table.rowGroups) {
        const rows = await table.rows(group.start, group.end, columns?.filter((c) => table.columns.includes(c)));
        yield { start: start + group.start, rows, file };
      }
      start += table.rowCount;
    } finally {
      await table.close();
    }
  }
}

export function rowSpan(index: number): RecordSpan {
  return { index, line: index + 1, column: 1, offset: 0, length: 0, source: '' };
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
export async function validateParquet(files: readonly string[], options: LintOptions = DEFAULT_LINT_OPTIONS): Promise<ValidationResult> {
  const validation = new DatasetValidation(options, 'parquet');
  const tables: ParquetTable[] = [];
  try {
    for (const file of files) tables.push(await openParquet(file));
    const columns = [...new Set(tables.flatMap((t) => t.columns))];
    const missing = missingMappedColumns(columns, options.columns);
    if (missing.length > 0) {
      validation.addFileIssue({ code: 'missing-column', message: describeMissingColumns(missing, columns), offset: 0, length: 0, line: 1, column: 1 });
      return validation.finish({ compare: () => false, spanOf: rowSpan });
    }
    let rows = 0;
    let start = 0;
    for (const table of tables) {
      for (const group of table.rowGroups) {
        const batch = await table.rows(group.start, group.end);
        for (let i = 0; i < batch.length; i++) validation.addRecord(rowSpan(start + group.start + i), analyzeRow(batch[i]!, options));
        rows += batch.length;
      }
      start += table.rowCount;
    }
    if (rows === 0) validation.addFileIssue({ code: 'empty-file', message: 'The file has no rows', offset: 0, length: 0, line: 1, column: 1 });
    const normalized = new Map<number, NormalizedRecord | undefined>();
    for (const [index, row] of await readRowsAt(tables, validation.crossRecordCandidates())) normalized.set(index, analyzeRow(row, options).normalized);
    return validation.finish({ compare: (a, b, relation) => samePairTexts(normalized.get(a), normalized.get(b), relation), spanOf: rowSpan });
  } finally {
    for (const table of tables) await table.close();
  }
}

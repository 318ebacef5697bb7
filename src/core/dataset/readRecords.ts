import { readFileSync } from 'node:fs';
import { describeMissingColumns, missingMappedColumns } from './columnMapping.ts';
import { locateInFile } from './datasetValidation.ts';
import { DEFAULT_LINT_OPTIONS, type LintOptions } from './lintRules.ts';
import { isParquetPath, openParquet, parquetRowBatches } from './parquetTable.ts';
import { analyzeRow } from './recordAnalysis.ts';
import type { RecordSpan } from './recordSpans.ts';
import { validateText } from './validateText.ts';
import { rowSpan } from './validateParquet.ts';
import type { RecordFormat } from './types.ts';

/**
 * The records of a dataset that a consumer (training, logps, conversion) can use, read through
 * the same checks as `validate`, whatever the file holds (JSON Lines, a JSON array, Parquet), its
 * column mapping applied; each record with an error comes back as a located skip.
 */

/** A record that passed validation: its value has the record fields' own names (mapping applied). */
export interface ValidRecord {
  span: RecordSpan;
  value: Record<string, unknown>;
  format: RecordFormat;
}

export interface SkippedRecord {
  index: number;
  line: number;
  column: number;
  code: string;
  message: string;
  /** For rows (Parquet): "row 12, column \"response_j\"", said instead of line:column. */
  where?: string;
}

export interface DatasetRecords {
  records: ValidRecord[];
  skipped: SkippedRecord[];
  /** File-level errors (broken JSON array, a mapped column the file lacks), located. */
  fileErrors: SkippedRecord[];
}

/** Validates `text` (named `fileName` for its format: .jsonl or .json): the records without errors and the rest, located. */
export function validRecordsOfText(text: string, fileName: string, options: LintOptions = DEFAULT_LINT_OPTIONS): DatasetRecords {
  const result = validateText(text, fileName, options);
  const records: ValidRecord[] = [];
  const skipped: SkippedRecord[] = [];
  const fileErrors = result.problems
    .filter((p) => p.severity === 'error' && p.recordIndex === undefined)
    .map((p) => ({ index: p.recordIndex ?? -1, line: p.line, column: p.column, code: p.code, message: p.message }));
  for (const { span, analysis } of result.records) {
    const error = analysis.problems.find((p) => p.severity === 'error');
    if (error) {
      const located = locateInFile(span, error);
      skipped.push({ index: span.index, line: located.line, column: located.column, code: error.code, message: error.message });
      continue;
    }
    // With a column mapping, the analysed value is the mapped record: what consumers want.
    records.push({ span, value: analysis.value as Record<string, unknown>, format: analysis.summary!.format });
  }
  return { records, skipped, fileErrors };
}

/** Where a problem of a row is: its number and, when the problem is in one, the column. */
export function rowWhere(line: number, pointer: string): string {
  const column = pointer.startsWith('/') ? pointer.slice(1).split('/')[0]!.replace(/~1/g, '/').replace(/~0/g, '~') : '';
  return `row ${line}${column ? `, column "${column}"` : ''}`;
}

async function parquetRecords(files: readonly string[], options: LintOptions): Promise<DatasetRecords> {
  const records: ValidRecord[] = [];
  const skipped: SkippedRecord[] = [];
  const columns: string[] = [];
  for (const file of files) {
    const table = await openParquet(file);
    columns.push(...table.columns);
    await table.close();
  }
  const missing = missingMappedColumns([...new Set(columns)], options.columns);
  if (missing.length > 0) return { records, skipped, fileErrors: [{ index: -1, line: 1, column: 1, code: 'missing-column', message: describeMissingColumns(missing, [...new Set(columns)]) }] };
  for await (const batch of parquetRowBatches(files)) {
    batch.rows.forEach((row, i) => {
      const index = batch.start + i;
      const analysis = analyzeRow(row, options);
      const error = analysis.problems.find((p) => p.severity === 'error');
      if (error) skipped.push({ index, line: index + 1, column: 1, code: error.code, message: error.message, where: rowWhere(index + 1, error.pointer) });
      else records.push({ span: rowSpan(index), value: analysis.value as Record<string, unknown>, format: analysis.summary!.format });
    });
  }
  if (records.length + skipped.length === 0) return { records, skipped, fileErrors: [{ index: -1, line: 1, column: 1, code: 'empty-file', message: 'the file has no rows' }] };
  return { records, skipped, fileErrors: [] };
}

/** Every record of a dataset's files (one JSON/JSONL file, or Parquet files: a file or a split's shards). */
export async function readValidRecords(files: readonly string[], options: LintOptions = DEFAULT_LINT_OPTIONS): Promise<DatasetRecords> {
  if (files.length > 0 && files.every(isParquetPath)) return parquetRecords(files, options);
  if (files.length !== 1) throw new Error(`a dataset is one JSON or JSON Lines file, or Parquet files; got ${files.join(', ')}`);
  return validRecordsOfText(readFileSync(files[0]!, 'utf8').replace(/^\uFEFF/, ''), files[0]!, options);
}

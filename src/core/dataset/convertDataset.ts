import { createReadStream } from 'node:fs';
import { dirname } from 'node:path';
import { AtomicFileWriter } from '../files/atomicWrite.ts';
import { createInterface } from 'node:readline';
import { makeDirs } from '../files/makeDirs.ts';
import { applyColumnMapping, type ColumnMapping } from './columnMapping.ts';
import { isParquetPath, parquetRowBatches } from './parquetTable.ts';

/**
 * Conversion of a dataset (Parquet files, or JSON Lines with other column names) into the JSON
 * Lines the labeling tools edit: the column mapping applied, the other columns kept, a row
 * filter and a limit. Streams a row group (or a line) at a time, so memory does not grow with
 * the dataset, and writes atomically (a temporary file renamed over the output at the end).
 */

export class ConvertError extends Error {}

export type WhereOperator = '==' | '!=' | '>' | '>=' | '<' | '<=' | 'contains';

export interface RowFilter {
  field: string;
  op: WhereOperator;
  value: string | number;
  text: string;
}

const OPERATORS: readonly WhereOperator[] = ['>=', '<=', '!=', '==', '>', '<', 'contains'];

/** `score >= 4`, `source == "reddit"`, `prompt contains python`. */
export function parseWhere(text: string): RowFilter {
  const trimmed = text.trim();
  for (const op of OPERATORS) {
    const pattern = op === 'contains' ? /^(\S+)\s+contains\s+(.+)$/ : new RegExp(`^(\\S+?)\\s*${op.replace(/[<>=!]/g, (c) => `\\${c}`)}\\s*(.+)$`);
    const m = pattern.exec(trimmed);
    if (!m) continue;
    // "==" must not be read as "=" twice, nor ">=" as ">": the longer operators are tried first.
    const raw = m[2]!.trim();
    const quoted = /^(["'])(.*)\1$/.exec(raw);
    const value = quoted ? quoted[2]! : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    return { field: m[1]!, op, value, text: trimmed };
  }
  throw new ConvertError(`--where "${text}": expected "<field> <op> <value>" with op one of ${OPERATORS.join(', ')} (e.g. "score >= 4")`);
}

function fieldValue(row: Record<string, unknown>, mapped: Record<string, unknown>, field: string): unknown {
  return Object.hasOwn(row, field) ? row[field] : mapped[field];
}

export function matchesFilter(row: Record<string, unknown>, mapped: Record<string, unknown>, filter: RowFilter): boolean {
  const actual = fieldValue(row, mapped, filter.field);
  if (filter.op === 'contains') return (typeof actual === 'string' ? actual : JSON.stringify(actual ?? '')).includes(String(filter.value));
  const left = typeof filter.value === 'number' && typeof actual !== 'number' && typeof actual === 'string' && actual.trim() !== '' ? Number(actual) : actual;
  const right = filter.value;
  switch (filter.op) {
    case '==':
      return left === right || String(left) === String(right);
    case '!=':
      return !(left === right || String(left) === String(right));
    default: {
      if (typeof left !== typeof right || (typeof left !== 'number' && typeof left !== 'string')) return false;
      const a = left as number | string;
      const b = right;
      return filter.op === '>' ? a > b : filter.op === '>=' ? a >= b : filter.op === '<' ? a < b : a <= b;
    }
  }
}

export interface ConvertOptions {
  columns?: ColumnMapping;
  limit?: number;
  where?: RowFilter;
  onProgress?: (read: number, written: number) => void;
}

export interface ConvertResult {
  read: number;
  written: number;
}

async function* jsonlRows(path: string): AsyncGenerator<{ start: number; rows: Array<Record<string, unknown>> }> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let index = 0;
  let lineNumber = 0;
  let batch: Array<Record<string, unknown>> = [];
  for await (const line of lines) {
    lineNumber++;
    const text = lineNumber === 1 ? line.replace(/^\uFEFF/, '') : line;
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ConvertError(`${path}:${lineNumber}: not valid JSON (${(error as Error).message}); fix it (dpo-studio validate ${path}) before converting`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConvertError(`${path}:${lineNumber}: a record must be a JSON object`);
    batch.push(value as Record<string, unknown>);
    if (batch.length === 1024) {
      yield { start: index, rows: batch };
      index += batch.length;
      batch = [];
    }
  }
  if (batch.length) yield { start: index, rows: batch };
}

export async function convertToJsonl(files: readonly string[], outPath: string, options: ConvertOptions = {}): Promise<ConvertResult> {
  const batches = files.every(isParquetPath) ? parquetRowBatches(files) : files.length === 1 && /\.jsonl$/i.test(files[0]!) ? jsonlRows(files[0]!) : undefined;
  if (!batches) throw new ConvertError(`convert reads Parquet files or JSON Lines; got ${files.join(', ')}`);
  makeDirs(dirname(outPath));
  const out = new AtomicFileWriter(outPath);
  let read = 0;
  let written = 0;
  try {
    for await (const batch of batches) {
      let chunk = '';
      let done = false;
      for (const row of batch.rows) {
        read++;
        const mapped = applyColumnMapping(row, options.columns);
        if (options.where && !matchesFilter(row, mapped, options.where)) continue;
        chunk += JSON.stringify(mapped) + '\n';
        written++;
        if (options.limit !== undefined && written >= options.limit) {
          done = true;
          break;
        }
      }
      if (chunk) out.write(chunk);
      options.onProgress?.(read, written);
      if (done) break;
    }
    out.commit();
    return { read, written };
  } catch (error) {
    out.abort();
    throw error;
  }
}

import { open, type FileHandle } from 'node:fs/promises';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

/**
 * Parquet files read through hyparquet (with hyparquet-compressors for snappy, zstd, gzip,
 * brotli and lz4): the footer once, then rows by row group, so a reader holds one group at a
 * time and a viewer reads only the groups it shows. Values come out as JSON would hold them:
 * 64-bit integers as numbers (or decimal strings past 2^53), binary as base64, dates as ISO text.
 */

export class ParquetReadError extends Error {}

export interface ParquetTable {
  path: string;
  rowCount: number;
  /** Top-level column names, in file order. */
  columns: string[];
  /** Columns holding numbers (scores, ratings): what a viewer can sort by. */
  numericColumns: string[];
  /** Row groups as [start, end) row ranges, in order. */
  rowGroups: Array<{ start: number; end: number }>;
  compression: string[];
  close(): Promise<void>;
  /** Rows [start, end) as plain objects, every column or only `columns`. */
  rows(start: number, end: number, columns?: readonly string[]): Promise<Array<Record<string, unknown>>>;
  /** One column of rows [start, end) as plain values. */
  column(name: string, start?: number, end?: number): Promise<unknown[]>;
}

function fileBuffer(handle: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end = size) {
      const bytes = new Uint8Array(end - start);
      let done = 0;
      while (done < bytes.length) {
        const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
        if (bytesRead === 0) throw new ParquetReadError(`the file ended at byte ${start + done} of ${size} while reading (was it truncated or rewritten?)`);
        done += bytesRead;
      }
      return bytes.buffer;
    },
  };
}

/** A value as JSON holds it; what JSON cannot (bigints past 2^53, bytes, dates) as text. */
export function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return Array.from(value as ArrayLike<unknown>, plainValue);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = plainValue(v);
  return out;
}

const NUMERIC_TYPES = new Set(['INT32', 'INT64', 'FLOAT', 'DOUBLE']);

export async function openParquet(path: string): Promise<ParquetTable> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const file = fileBuffer(handle, size);
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(file);
    } catch (error) {
      throw new ParquetReadError(`${path} is not a readable Parquet file: ${(error as Error).message}`);
    }
    const tree = parquetSchema(metadata);
    const columns = tree.children.map((c) => c.element.name);
    const numericColumns = tree.children.filter((c) => c.children.length === 0 && NUMERIC_TYPES.has(c.element.type ?? '') && !c.element.logical_type && c.element.converted_type === undefined).map((c) => c.element.name);
    const rowGroups: Array<{ start: number; end: number }> = [];
    let at = 0;
    for (const group of metadata.row_groups) {
      const n = Number(group.num_rows);
      rowGroups.push({ start: at, end: at + n });
      at += n;
    }
    // Strings, numbers, booleans and lists or structs of them come out of hyparquet as JSON
    // holds them: only files with 64-bit integers, bytes or dates need each row copied.
    const plainAlready = metadata.schema.every((e) => (e.type === undefined || e.type === 'BOOLEAN' || e.type === 'INT32' || e.type === 'FLOAT' || e.type === 'DOUBLE' || (e.type === 'BYTE_ARRAY' && (e.converted_type === 'UTF8' || e.logical_type?.type === 'STRING'))) && e.converted_type !== 'DATE' && e.logical_type?.type !== 'DATE' && e.converted_type !== 'DECIMAL' && e.logical_type?.type !== 'DECIMAL');
    const compression = [...new Set(metadata.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec ?? 'UNCOMPRESSED')))];
    const read = async (start: number, end: number, cols?: readonly string[]) => {
      try {
        return await parquetReadObjects({ file, metadata, compressors, rowStart: start, rowEnd: end, useOffsetIndex: true, ...(cols ? { columns: [...cols] } : {}) });
      } catch (error) {
        throw new ParquetReadError(`${path}: rows ${start + 1}–${end} could not be read: ${(error as Error).message}`);
      }
    };
    return {
      path,
      rowCount: at,
      columns,
      numericColumns,
      rowGroups,
      compression,
      close: () => handle.close(),
      async rows(start, end, cols) {
        const rows = await read(Math.max(0, start), Math.min(end, at), cols);
        return plainAlready ? rows : rows.map((row) => plainValue(row) as Record<string, unknown>);
      },
      async column(name, start = 0, end = at) {
        const rows = await read(start, Math.min(end, at), [name]);
        return rows.map((row) => (plainAlready ? row[name] : plainValue(row[name])));
      },
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export interface ParquetRowBatch {
  /** 0-based index of the first row, counted across the files. */
  start: number;
  rows: Array<Record<string, unknown>>;
  file: string;
}

/** Every row of Parquet files (a file, or a Hub split's shards) in order, a row group at a time. */
export async function* parquetRowBatches(files: readonly string[]): AsyncGenerator<ParquetRowBatch> {
  let start = 0;
  for (const file of files) {
    const table = await openParquet(file);
    try {
      for (const group of table.rowGroups) {
        const rows = await table.rows(group.start, group.end);
        yield { start: start + group.start, rows, file };
      }
      start += table.rowCount;
    } finally {
      await table.close();
    }
  }
}

export function isParquetPath(path: string): boolean {
  return /\.parquet$/i.test(path);
}

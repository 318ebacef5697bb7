// Parquet files written by pyarrow (from PyPI, in the TRL engine's environment that `npm test`
// sets up first), as published datasets are: test/fixtures/write_parquet.py writes them.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { requireTrl } from '../integration/trlFixtures.ts';

const repoRoot = path.join(import.meta.dirname, '../..');
const WRITER = path.join(repoRoot, 'test/fixtures/write_parquet.py');
export const SAMPLE_PAIRS = path.join(repoRoot, 'samples/data/preference_train.jsonl');
export const SAMPLE_CONVERSATIONAL = path.join(repoRoot, 'samples/data/conversational.jsonl');

export type ParquetShape = 'standard' | 'conversational' | 'renamed';
export type Compression = 'snappy' | 'zstd' | 'gzip';

/** The mapping the `renamed` shape needs (stack-exchange-paired's names). */
export const RENAMED_COLUMNS = { prompt: 'question', chosen: 'response_j', rejected: 'response_k' } as const;

/** The interpreter with pyarrow; skips the test without one (fails under CI). */
export function requirePyarrow(t: TestContext): string | undefined {
  return requireTrl(t);
}

export function writeParquet(python: string, source: string, out: string, shape: ParquetShape, compression: Compression = 'snappy', rowGroupSize?: number): string {
  mkdirSync(path.dirname(out), { recursive: true });
  const args = [WRITER, source, out, '--shape', shape, '--compression', compression, ...(rowGroupSize ? ['--row-group-size', String(rowGroupSize)] : [])];
  const result = spawnSync(python, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`write_parquet.py ${shape} ${compression} failed: ${result.stderr}`);
  return out;
}

export function writeSyntheticParquet(python: string, rows: number, out: string, rowGroupSize: number): string {
  mkdirSync(path.dirname(out), { recursive: true });
  const result = spawnSync(python, [WRITER, '--synthetic', String(rows), out, '--row-group-size', String(rowGroupSize)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`write_parquet.py --synthetic failed: ${result.stderr}`);
  return out;
}

/** The three shapes, each as snappy and as zstd, in `dir`: `<shape>.<compression>.parquet`. */
export function writeAllShapes(python: string, dir: string): Array<{ shape: ParquetShape; compression: Compression; path: string; source: string }> {
  const out = [];
  for (const shape of ['standard', 'conversational', 'renamed'] as const) {
    const source = shape === 'conversational' ? SAMPLE_CONVERSATIONAL : SAMPLE_PAIRS;
    for (const compression of ['snappy', 'zstd'] as const) out.push({ shape, compression, source, path: writeParquet(python, source, path.join(dir, `${shape}.${compression}.parquet`), shape, compression, 16) });
  }
  return out;
}

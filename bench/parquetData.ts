// The benchmarks' Parquet files, written by pyarrow (test/fixtures/write_parquet.py, with the TRL
// engine's interpreter: `npm run setup:trl` installs it), cached in .bench/.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { trlPython } from '../test/integration/trlFixtures.ts';
import { writeSyntheticParquet } from '../test/support/parquetFixtures.ts';

/** Rows per row group: what the `datasets` library and the Hub's Parquet conversion write is of this order. */
export const ROW_GROUP_ROWS = 10_000;

export function benchParquet(rows: number): string {
  const file = path.join(process.cwd(), '.bench', `bench-${rows}.parquet`);
  if (existsSync(file)) return file;
  const python = trlPython();
  if (!python) throw new Error('the Parquet benchmarks write their data with pyarrow from the TRL environment: run `npm run setup:trl` first');
  console.log(`writing ${rows.toLocaleString('en-US')} rows to ${file} with pyarrow…`);
  return writeSyntheticParquet(python, rows, file, Math.min(ROW_GROUP_ROWS, rows));
}

// `validate` on a 1,000,000-row Parquet file against reading every row with the Parquet library
// alone (hyparquet's parquetReadObjects over each row group, with its compressors), measured in
// the same run. Target (issue 16): validate ≤ 1.5 × the read. Run: npm run bench:parquet-validate
import { statSync } from 'node:fs';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { validateParquet } from '../src/core/dataset/validateParquet.ts';
import { median } from './measure.ts';
import { benchParquet } from './parquetData.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET = 1.5;

async function readEveryRow(path: string): Promise<number> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  let rows = 0;
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    rows += (await parquetReadObjects({ file, metadata, compressors, rowStart: start, rowEnd: end })).length;
    start = end;
  }
  return rows;
}

async function main(): Promise<void> {
  const path = benchParquet(ROWS);
  console.log(`${path}: ${ROWS.toLocaleString('en-US')} rows, ${(statSync(path).size / 1024 ** 2).toFixed(0)} MiB`);
  const reads: number[] = [];
  const validations: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    let started = performance.now();
    const rows = await readEveryRow(path);
    reads.push(performance.now() - started);
    started = performance.now();
    const result = await validateParquet([path]);
    validations.push(performance.now() - started);
    if (rows !== ROWS || result.stats.records !== ROWS) throw new Error(`read ${rows} rows, validated ${result.stats.records}: expected ${ROWS}`);
    console.log(`run ${run + 1}: read ${(reads[run]! / 1000).toFixed(2)} s, validate ${(validations[run]! / 1000).toFixed(2)} s (${result.errorCount} errors, ${result.warningCount} warnings)`);
  }
  const read = median(reads);
  const validate = median(validations);
  const ratio = validate / read;
  console.log(`\nmedian of ${RUNS}: reading every row with hyparquet ${(read / 1000).toFixed(2)} s; validate ${(validate / 1000).toFixed(2)} s`);
  console.log(`validate / read = ${ratio.toFixed(2)} (target ≤ ${TARGET}): ${ratio <= TARGET ? 'meets' : 'MISSES'}`);
}

await main();

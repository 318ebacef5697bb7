// `dpo-studio validate` on a 1,000,000-row Parquet file against reading every row with the
// Parquet library alone (bench/parquetReadAll.ts: hyparquet's parquetReadObjects over each row
// group), both as a process of their own from one bundled file, measured in the same run.
// Target (issue 16): validate ≤ 1.5 × the read. Run: npm run bench:parquet-validate
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { median } from './measure.ts';
import { benchParquet } from './parquetData.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET = 1.5;
const cli = resolve('dist/cli.cjs');
const reader = join(process.cwd(), '.bench', 'parquetReadAll.cjs');

function timed(args: string[]): { ms: number; out: string } {
  const start = performance.now();
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { ms: performance.now() - start, out };
}

if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
const file = benchParquet(ROWS);
buildSync({ entryPoints: [join('bench', 'parquetReadAll.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], outfile: reader, logLevel: 'warning' });
console.log(`${file}: ${ROWS.toLocaleString('en-US')} rows, ${(statSync(file).size / 1024 ** 2).toFixed(0)} MiB`);
const reads: number[] = [];
const validations: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const read = timed([reader, file]);
  if ((JSON.parse(read.out) as { rows: number }).rows !== ROWS) throw new Error(`the baseline read ${read.out.trim()}`);
  reads.push(read.ms);
  const validate = timed([cli, 'validate', '--json', file]);
  const report = JSON.parse(validate.out) as { records: number; errors: unknown[]; warnings: unknown[] };
  if (report.records !== ROWS) throw new Error(`validate saw ${report.records} rows`);
  validations.push(validate.ms);
  console.log(`run ${run + 1}: read ${(read.ms / 1000).toFixed(2)} s, validate ${(validate.ms / 1000).toFixed(2)} s (${report.errors.length} errors, ${report.warnings.length} warnings)`);
}
const read = median(reads);
const validate = median(validations);
console.log(`\nmedian of ${RUNS}, each a process of its own: reading every row with hyparquet ${(read / 1000).toFixed(2)} s; dpo-studio validate ${(validate / 1000).toFixed(2)} s`);
console.log(`validate / read = ${(validate / read).toFixed(2)} (target ≤ ${TARGET}): ${validate / read <= TARGET ? 'meets' : 'MISSES'}`);

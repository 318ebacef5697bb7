// `dpo-studio validate --json` end to end (the shipped bundle dist/cli.cjs, in a process of its
// own: start-up, read, split, parse, schema, lints, stats and the JSON report) against the floor
// any validator pays, measured in the same run: a process that reads the file and JSON.parse-s
// each line. Two shapes: 100,000 realistic records (~120 MB) and 1,000,000 tiny ones, where the
// per-record work dominates. Targets (issue 12): time ≤ 1.5 × the baseline, peak RSS ≤ 1 × the
// file size. Run `npm run build` first (npm run bench:validate does).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { median } from './measure.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const dir = join(process.cwd(), '.bench');
const cli = resolve('dist/cli.cjs');

const WORDS = (
  'the model answer question data training loss gradient token prompt policy reference reward ' +
  'preference python function return value list tuple mutable error example result because however ' +
  'therefore first second finally which would could should explain translate summary detail step'
).split(' ');

/** Deterministic pseudo-random text of about `length` characters. */
function text(seed: number, length: number): string {
  let state = seed >>> 0;
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const word = WORDS[state % WORDS.length]!;
    parts.push(word);
    size += word.length + 1;
  }
  return parts.join(' ').slice(0, length);
}

interface Shape {
  name: string;
  records: number;
  record: (i: number) => unknown;
}

const SHAPES: Shape[] = [
  {
    name: 'realistic',
    records: Number(process.env.BENCH_RECORDS ?? 100_000),
    record: (i) => ({
      id: `bench-${i}`,
      prompt: text(i * 3 + 1, 200),
      chosen: text(i * 3 + 2, 600),
      rejected: text(i * 3 + 3, 300),
      meta: { source: 'bench', domain: ['coding', 'math', 'translation', 'safety'][i % 4], annotator: 'bench-generator', created: '2026-11-21T00:00:00Z' },
    }),
  },
  {
    name: 'tiny',
    records: Number(process.env.BENCH_TINY_RECORDS ?? 1_000_000),
    record: (i) => ({ prompt: `q${i}`, chosen: `yes ${i}`, rejected: `no ${i % 997}` }),
  },
];

function datasetFile(shape: Shape): string {
  const file = join(dir, `validate-${shape.name}-${shape.records}.jsonl`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < shape.records; i++) lines.push(JSON.stringify(shape.record(i)));
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

// The baseline is bundled the same way as the CLI, so both start a process from one file.
const worker = join(dir, 'validateWorker.cjs');
buildSync({ entryPoints: [join('bench', 'validateWorker.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], outfile: worker, logLevel: 'warning' });

/** Wall time of the whole process and its peak RSS (the worker reports the child's own). */
function measure(mode: 'baseline' | 'cli', file: string): { ms: number; maxRssBytes: number; records: number } {
  const start = performance.now();
  const out = execFileSync(process.execPath, [worker, mode, file, cli], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - start;
  const report = JSON.parse(out.trim().split('\n').pop()!) as { maxRssBytes: number; records: number };
  return { ms, ...report };
}

if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
for (const shape of SHAPES) {
  const file = datasetFile(shape);
  const size = statSync(file).size;
  const baseline: number[] = [];
  const validate: number[] = [];
  let baselineRss = 0;
  let rss = 0;
  let records = 0;
  for (let run = 0; run < RUNS; run++) {
    const b = measure('baseline', file);
    baseline.push(b.ms);
    baselineRss = Math.max(baselineRss, b.maxRssBytes);
    const v = measure('cli', file);
    validate.push(v.ms);
    rss = Math.max(rss, v.maxRssBytes);
    records = v.records;
  }
  const baseMs = median(baseline);
  const valMs = median(validate);
  console.log(`\n${shape.name}: ${file} (${mib(size)} MiB, ${records.toLocaleString('en-US')} records), median of ${RUNS} runs, each a process of its own`);
  console.log(`  baseline (read + JSON.parse per line): ${baseMs.toFixed(0)} ms, peak RSS ${mib(baselineRss)} MiB`);
  console.log(`  dpo-studio validate --json (start-up, read, parse, schema, lints, stats, report): ${valMs.toFixed(0)} ms, ${Math.round(records / (valMs / 1000)).toLocaleString('en-US')} records/s`);
  console.log(`  time ratio validate/baseline: ${(valMs / baseMs).toFixed(2)} (target ≤ 1.50)`);
  console.log(`  peak RSS: ${mib(rss)} MiB = ${(rss / size).toFixed(2)} × file size (target ≤ 1.00)`);
}

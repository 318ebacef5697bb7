// Validating a 100,000-record JSONL (~130 MB) end to end against the floor any validator pays:
// reading the file and JSON.parse-ing each line. Each measurement runs in a fresh process so
// peak RSS is its own. Targets (issue 2): time ratio ≤ 2, peak RSS ≤ 3 × file size.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { median } from './measure.ts';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const dir = join(process.cwd(), '.bench');
const file = join(dir, `validate-${RECORDS}.jsonl`);

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

function writeDataset() {
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < RECORDS; i++) {
    lines.push(
      JSON.stringify({
        id: `bench-${i}`,
        prompt: text(i * 3 + 1, 200),
        chosen: text(i * 3 + 2, 600),
        rejected: text(i * 3 + 3, 300),
        meta: { source: 'bench', domain: ['coding', 'math', 'translation', 'safety'][i % 4], annotator: 'bench-generator', created: '2026-11-21T00:00:00Z' },
      }),
    );
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

// The worker is bundled the way the CLI and the extension are, so the figure is the shipped code's.
const worker = join(dir, 'validateWorker.cjs');
buildSync({ entryPoints: [join('bench', 'validateWorker.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], outfile: worker, logLevel: 'warning' });

function measure(mode: 'baseline' | 'validate'): { ms: number; maxRssBytes: number; records: number } {
  const out = execFileSync(process.execPath, [worker, mode, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!);
}


if (!existsSync(file)) writeDataset();
const size = statSync(file).size;
const baseline: number[] = [];
const validate: number[] = [];
let rss = 0;
let records = 0;
for (let run = 0; run < RUNS; run++) {
  baseline.push(measure('baseline').ms);
  const v = measure('validate');
  validate.push(v.ms);
  rss = Math.max(rss, v.maxRssBytes);
  records = v.records;
}
const baseMs = median(baseline);
const valMs = median(validate);
const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
console.log(`file: ${file} (${mb(size)} MiB, ${records} records), median of ${RUNS} runs`);
console.log(`baseline (read + JSON.parse per line): ${baseMs.toFixed(0)} ms`);
console.log(`dpo-studio validate (read, parse, schema, lints, stats): ${valMs.toFixed(0)} ms, ${Math.round(records / (valMs / 1000)).toLocaleString('en-US')} records/s`);
console.log(`time ratio validate/baseline: ${(valMs / baseMs).toFixed(2)} (target ≤ 2.00)`);
console.log(`peak RSS: ${mb(rss)} MiB = ${(rss / size).toFixed(2)} × file size (target ≤ 3.00)`);

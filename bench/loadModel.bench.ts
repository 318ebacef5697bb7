// Loading the `small` model (SmolLM2-135M's shape, random F32 weights, ~540 MB) against the
// floor any loader pays: reading the safetensors file into memory. Each measurement runs in a
// fresh process (this file, bundled as the CLI is, run with a mode argument) so peak RSS is its
// own. Targets (issue 5): load time ≤ 3 s, peak RSS ≤ 2 × the weights' bytes.
//
//   node --import tsx bench/loadModel.bench.ts          (BENCH_RUNS=3, BENCH_BACKENDS=cpu,wasm)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, type BackendRequest } from '../src/trainer/backend/index.ts';
import { disposeModel, parameterCount } from '../src/trainer/model/causalLM.ts';
import { initModel } from '../src/trainer/model/initModel.ts';
import { loadModel } from '../src/trainer/model/modelFolder.ts';
import { median } from './measure.ts';

interface Measurement {
  ms: number;
  maxRssBytes: number;
  /** RSS before the measured step (runtime, tfjs and backend loaded). */
  startRssBytes: number;
  parameters?: number;
}

async function child(mode: string, dir: string): Promise<void> {
  let parameters: number | undefined;
  if (mode !== 'baseline') await initBackend(mode as BackendRequest);
  const startRssBytes = process.memoryUsage().rss;
  const start = performance.now();
  if (mode === 'baseline') {
    const bytes = readFileSync(join(dir, 'model.safetensors'));
    if (bytes.length === 0) throw new Error('empty weights');
  } else {
    const model = loadModel(dir);
    parameters = parameterCount(model);
    disposeModel(model);
  }
  const ms = performance.now() - start;
  const result: Measurement = { ms, maxRssBytes: process.resourceUsage().maxRSS * 1024, startRssBytes, ...(parameters ? { parameters } : {}) };
  console.log(JSON.stringify(result));
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const backends = (process.env.BENCH_BACKENDS ?? 'cpu,wasm').split(',');
  const benchDir = join(process.cwd(), '.bench');
  const dir = join(benchDir, 'small-llama');
  if (!existsSync(join(dir, 'config.json'))) {
    const start = performance.now();
    const made = initModel(dir, { arch: 'llama', size: 'small', seed: 0, overwrite: true });
    console.log(`init-model --size small: ${made.parameters.toLocaleString('en-US')} parameters written in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
  // Bundled the way the CLI ships, so the figures are the shipped code's.
  const { buildSync } = await import('esbuild');
  const worker = join(benchDir, 'loadModelWorker.cjs');
  buildSync({ entryPoints: [join('bench', 'loadModel.bench.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], external: ['esbuild'], outfile: worker, logLevel: 'error' });

  const measure = (mode: string): Measurement => JSON.parse(execFileSync(process.execPath, [worker, '--child', mode, dir], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop()!);
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
  const weights = statSync(join(dir, 'model.safetensors')).size;

  const rows: Array<[string, Measurement[]]> = [['baseline', []], ...backends.map((b): [string, Measurement[]] => [b, []])];
  for (let run = 0; run < runs; run++) for (const [mode, list] of rows) list.push(measure(mode));
  console.log(`model: ${dir} (${mib(weights)} of F32 weights${rows[1]?.[1][0]?.parameters ? `, ${rows[1][1][0].parameters.toLocaleString('en-US')} parameters` : ''}), median of ${runs} runs`);
  const base = median(rows[0]![1].map((m) => m.ms));
  for (const [mode, list] of rows) {
    const ms = median(list.map((m) => m.ms));
    const peak = Math.max(...list.map((m) => m.maxRssBytes));
    const start = median(list.map((m) => m.startRssBytes));
    const label = mode === 'baseline' ? 'baseline: readFileSync(model.safetensors)' : `loadModel, ${mode} backend`;
    const verdict = mode === 'baseline' ? '' : `  [time ${ms <= 3000 ? 'ok' : 'OVER'} ≤ 3 s, RSS ${peak <= 2 * weights ? 'ok' : 'OVER'} ≤ 2 × weights]`;
    console.log(`${label.padEnd(44)} ${(ms / 1000).toFixed(2)} s (${(ms / base).toFixed(1)} × baseline), peak RSS ${mib(peak)} = ${(peak / weights).toFixed(2)} × weights (process at start ${mib(start)})${verdict}`);
  }
}

const at = process.argv.indexOf('--child');
if (at >= 0) void child(process.argv[at + 1]!, process.argv[at + 2]!);
else void main();

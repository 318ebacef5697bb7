// The TRL engine against two baselines measured in the same run, on the same model shape
// (a small Llama: hidden 256, 4 layers, 4 heads, 2 KV heads, intermediate 688, vocab 8192),
// micro-batches of 2 pairs = 4 sequences of 256 tokens (128 prompt + 128 answer), LoRA r=16
// on every linear, the reference computed live, on this machine's CPU:
//   - tokens/s of the tfjs engine (wasm, in this process) and of the TRL engine (PyTorch,
//     `dpo-studio train --engine trl` as a user runs it), and their ratio;
//   - the wrapper's cost: the TRL engine's step time against a plain TRL script
//     (bench/plain_trl_dpo.py: DPOTrainer on the same texts, same steps) — target at most 1.03.
// Step times are the intervals between consecutive steps' logs (logging every step), warm-up
// steps left out; the TRL runs alternate over rounds so other load hits both alike.
//
//   npm run bench:trl   (BENCH_STEPS=8 timed steps, BENCH_WARMUP=2, BENCH_ROUNDS=3; needs `npm run setup:trl`)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrainingConfig } from '../src/core/config/index.ts';
import { parseTrainerEvents } from '../src/core/training/trainerEventStream.ts';
import type { TrainerMetricsEvent } from '../src/protocol/trainerEvents.ts';
import { TextTokenizer } from '../src/trainer/tokenizer/textTokenizer.ts';
import { runTraining } from '../src/trainer/train/index.ts';
import { trlPython } from '../test/integration/trlFixtures.ts';
import { singleTokenWords, text } from './benchText.ts';
import { BENCH_SHAPE as SHAPE, writeBenchModel } from './benchModel.ts';
import { median, stepIntervals } from './measure.ts';

const STEPS = Number(process.env.BENCH_STEPS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PAIRS = 2;
const PROMPT = 128;
const ANSWER = 128;
const TOKENS_PER_STEP = 2 * PAIRS * (PROMPT + ANSWER);
const root = join(import.meta.dirname, '..');

const intervals = (times: number[]) => stepIntervals(times, WARMUP);

function yaml(dir: string, model: string, data: string, engine: 'tfjs' | 'trl'): string {
  return `
model: { name: ${model} }
data: { train_path: ${data}, max_length: 1024, max_prompt_length: 512 }
dpo: { beta: 0.1 }
training: { engine: ${engine}, output_dir: ${join(dir, `${engine}-${Math.random().toString(36).slice(2)}`)}, batch_size: ${PAIRS}, max_steps: ${STEPS + WARMUP + 1}, logging_steps: 1, save_steps: 100000, learning_rate: 1.0e-4, backend: ${engine === 'tfjs' ? 'wasm' : 'auto'} }
lora: { r: 16, lora_alpha: 32, lora_dropout: 0, target_modules: [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj] }
`;
}

async function tfjsSteps(dir: string, model: string, data: string): Promise<number[]> {
  const { config, problems } = parseTrainingConfig(yaml(dir, model, data, 'tfjs'), 'bench.yaml');
  if (!config) throw new Error(problems.map((p) => p.message).join('; '));
  let stdout = '';
  const result = await runTraining({ config, stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true } });
  if (result.status !== 'completed') throw new Error(`tfjs training ${result.status}: ${result.message}`);
  const metrics = parseTrainerEvents(stdout).events.filter((e): e is TrainerMetricsEvent => e.type === 'metrics');
  return intervals(metrics.map((e) => e.metrics.elapsed_seconds!));
}

function trlEngineSteps(dir: string, model: string, data: string): number[] {
  const file = join(dir, 'trl.yaml');
  writeFileSync(file, yaml(dir, model, data, 'trl'));
  const run = spawnSync(process.execPath, [join(root, 'dist', 'cli.cjs'), 'train', '--config', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`TRL engine exit ${run.status}: ${run.stderr.slice(-2000)}`);
  const metrics = parseTrainerEvents(run.stdout).events.filter((e): e is TrainerMetricsEvent => e.type === 'metrics');
  return intervals(metrics.map((e) => e.metrics.elapsed_seconds!));
}

function plainTrlSteps(python: string, dir: string, model: string, data: string): number[] {
  const out = join(dir, `plain-${Math.random().toString(36).slice(2)}`);
  const run = spawnSync(python, [join(root, 'bench', 'plain_trl_dpo.py'), '--model', model, '--data', data, '--output_dir', out, '--max_steps', String(STEPS + WARMUP + 1), '--batch_size', String(PAIRS), '--learning_rate', '1e-4', '--save_steps', '100000', '--lora_r', '16'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`plain TRL exit ${run.status}: ${run.stderr.slice(-2000)}`);
  const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { log_times: number[] };
  return intervals(result.log_times);
}

async function main(): Promise<void> {
  const python = trlPython();
  if (!python) throw new Error('no TRL environment: run `npm run setup:trl` first');
  const dir = mkdtempSync(join(tmpdir(), 'dpo-trl-bench-'));
  try {
    const model = join(dir, 'model');
    writeBenchModel(model);
    const words = singleTokenWords(TextTokenizer.fromFolder(model));
    // Exactly PROMPT prompt tokens and ANSWER answer tokens (EOS included) for both engines and the script: nothing is truncated.
    const records = Array.from({ length: PAIRS * (STEPS + WARMUP + 1) }, (_, i) => ({ prompt: text(words, PROMPT, i), chosen: text(words, ANSWER - 1, 1000 + i), rejected: text(words, ANSWER - 1, 2000 + i) }));
    const data = join(dir, 'pairs.jsonl');
    writeFileSync(data, records.map((r) => JSON.stringify(r)).join('\n') + '\n');

    const tfjs = await tfjsSteps(dir, model, data);
    const ours: number[] = [];
    const plain: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const a = trlEngineSteps(dir, model, data);
      const b = plainTrlSteps(python, dir, model, data);
      ours.push(...a);
      plain.push(...b);
      console.log(`round ${round + 1}: TRL engine ${(1000 * median(a)).toFixed(1)} ms/step, plain TRL ${(1000 * median(b)).toFixed(1)} ms/step`);
    }
    const tokensPerSecond = (steps: number[]) => TOKENS_PER_STEP / median(steps);
    console.log(`shape: hidden ${SHAPE.hidden}, ${SHAPE.layers} layers, vocab ${SHAPE.vocab}; ${PAIRS} pairs x ${PROMPT}+${ANSWER} tokens per step; ${STEPS} timed steps per run`);
    console.log(`tfjs engine (wasm):        ${(1000 * median(tfjs)).toFixed(1)} ms/step, ${tokensPerSecond(tfjs).toFixed(0)} tokens/s`);
    console.log(`TRL engine (torch, CPU):   ${(1000 * median(ours)).toFixed(1)} ms/step, ${tokensPerSecond(ours).toFixed(0)} tokens/s`);
    console.log(`plain TRL script:          ${(1000 * median(plain)).toFixed(1)} ms/step, ${tokensPerSecond(plain).toFixed(0)} tokens/s`);
    console.log(`TRL engine / tfjs engine tokens/s: ${(tokensPerSecond(ours) / tokensPerSecond(tfjs)).toFixed(2)}x`);
    const fastest = (steps: number[]) => Math.min(...steps);
    console.log(`wrapper cost, TRL engine / plain TRL step time: median ${(median(ours) / median(plain)).toFixed(3)}, fastest step ${(fastest(ours) / fastest(plain)).toFixed(3)} (target <= 1.03; noise only ever adds time, so the fastest steps compare the work itself)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

// DPO training speed on the wasm backend for a small Llama (hidden 256, 4 layers, 4 heads,
// 2 KV heads, intermediate 688, vocab 8192), micro-batches of 2 pairs = 4 sequences of 256
// tokens (128 prompt + 128 answer), LoRA r=16 on every linear. Runs the real trainer (the train
// command's code path) twice in this process, with the reference computed each step (the
// policy with adapters off) and with precomputed, cached reference log-probabilities, and prints:
//   - steps/s and tokens/s of each,
//   - the model FLOP/s as a fraction of the same backend's matmul FLOP/s measured in this run
//     (issue 6 target: at least 40%),
//   - the step time with the cached reference against the live one (target: at least 25% faster).
// Model FLOPs count the products a step needs: the policy's forward, its backward for the
// activations (the base weights are frozen: no weight gradients except LoRA's), and the
// reference's forward when it is live; attention as executed (full T×T scores); the output head
// on answer rows only. The first steps of each run are warm-up and not timed.
//
//   node --import tsx bench/train.bench.ts   (BENCH_STEPS=6 timed steps per mode and round, BENCH_WARMUP=2, BENCH_ROUNDS=2)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseTrainingConfig } from '../src/core/config/index.ts';
import { parseTrainerEvents } from '../src/core/training/trainerEventStream.ts';
import type { TrainerMetricsEvent } from '../src/protocol/trainerEvents.ts';
import { initBackend } from '../src/trainer/backend/index.ts';
import { TextTokenizer } from '../src/trainer/tokenizer/textTokenizer.ts';
import { runTraining } from '../src/trainer/train/index.ts';
import { singleTokenWords, text } from './benchText.ts';
import { BENCH_SHAPE as SHAPE, writeBenchModel } from './benchModel.ts';
import { median, msPerCall, stepIntervals } from './measure.ts';

const STEPS = Number(process.env.BENCH_STEPS ?? 6);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PAIRS = 2;
const PROMPT = 128;
const ANSWER = 128;
const SEQUENCE = PROMPT + ANSWER;


/** Per-step seconds from consecutive metrics events (logging every step), warm-up steps left out. */
function stepSeconds(events: TrainerMetricsEvent[]): number[] {
  return stepIntervals(events.map((e) => e.metrics.elapsed_seconds!), WARMUP);
}

/** FLOPs of one forward pass over the micro-batch, by part. */
function forwardFlops() {
  const { hidden, layers, heads, kvHeads, intermediate, vocab } = SHAPE;
  const headDim = hidden / heads;
  const linearParams = layers * (2 * hidden * hidden + 2 * hidden * kvHeads * headDim + 3 * hidden * intermediate);
  const sequences = 2 * PAIRS;
  return {
    linear: 2 * linearParams * sequences * SEQUENCE,
    attention: layers * sequences * 2 * (2 * heads * SEQUENCE * SEQUENCE * headDim),
    head: 2 * hidden * vocab * sequences * ANSWER,
  };
}

function stepFlops(liveReference: boolean): number {
  const f = forwardFlops();
  const policy = f.linear * 2 + f.attention * 3 + f.head * 2; // forward, plus backward for the activations
  return policy + (liveReference ? f.linear + f.attention + f.head : 0);
}

/** The backend's matmul FLOP/s on the model's largest product ([tokens, hidden] × [intermediate, hidden]^T). */
function matmulFlopsPerSecond(): number {
  const rows = 2 * PAIRS * SEQUENCE;
  const a = tf.randomNormal([rows, SHAPE.hidden]);
  const b = tf.randomNormal([SHAPE.intermediate, SHAPE.hidden]);
  // (Not tf.tidy(() => ….dataSync()): tidy walks a returned typed array element by element.)
  const run = () => {
    const out = tf.matMul(a, b, false, true);
    out.dataSync();
    out.dispose();
  };
  run();
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) samples.push(msPerCall(run, 300).wall / 1000);
  tf.dispose([a, b]);
  return (2 * rows * SHAPE.hidden * SHAPE.intermediate) / median(samples);
}

async function train(dir: string, model: string, data: string, precompute: boolean): Promise<TrainerMetricsEvent[]> {
  const yaml = `
model: { name: ${model} }
data: { train_path: ${data}, max_length: ${SEQUENCE}, max_prompt_length: ${PROMPT} }
dpo: { beta: 0.1, precompute_ref_log_probs: ${precompute} }
training: { output_dir: ${join(dir, precompute ? 'cached' : 'live')}, batch_size: ${PAIRS}, max_steps: ${STEPS + WARMUP + 1}, logging_steps: 1, save_steps: 100000, learning_rate: 1.0e-4, backend: wasm }
lora: { r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj] }
`;
  const { config, problems } = parseTrainingConfig(yaml, 'bench.yaml');
  if (!config) throw new Error(problems.map((p) => p.message).join('; '));
  let stdout = '';
  const result = await runTraining({ config, stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true } });
  if (result.status !== 'completed') throw new Error(`training ${result.status}: ${result.message}`);
  return parseTrainerEvents(stdout).events.filter((e): e is TrainerMetricsEvent => e.type === 'metrics');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dpo-train-bench-'));
  try {
    await initBackend('wasm', (line) => console.log(line));
    const model = join(dir, 'model');
    writeBenchModel(model);
    const tokenizer = TextTokenizer.fromFolder(model);
    const words = singleTokenWords(tokenizer);
    const records = Array.from({ length: 2 * PAIRS * (STEPS + WARMUP + 1) }, (_, i) => ({ prompt: text(words, PROMPT + 20, i), chosen: text(words, ANSWER + 20, 1000 + i), rejected: text(words, ANSWER + 20, 2000 + i) }));
    const data = join(dir, 'pairs.jsonl');
    writeFileSync(data, records.map((r) => JSON.stringify(r)).join('\n') + '\n');

    // Rounds alternate the two modes (and the matmul measurement) so load from other processes
    // hits all alike; the comparisons use the fastest step of each (noise only ever adds time).
    const live: number[] = [];
    const cached: number[] = [];
    const matmuls: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      matmuls.push(matmulFlopsPerSecond());
      live.push(...stepSeconds(await train(join(dir, `r${round}`), model, data, false)));
      cached.push(...stepSeconds(await train(join(dir, `r${round}`), model, data, true)));
    }
    matmuls.push(matmulFlopsPerSecond());
    const matmul = Math.max(...matmuls);

    const tokens = 2 * PAIRS * SEQUENCE;
    console.log(`\nmodel: llama hidden ${SHAPE.hidden}, ${SHAPE.layers} layers, ${SHAPE.heads} heads / ${SHAPE.kvHeads} KV, intermediate ${SHAPE.intermediate}, vocab ${SHAPE.vocab}; LoRA r=16 on all linears`);
    console.log(`micro-batch: ${PAIRS} pairs = ${2 * PAIRS} sequences of ${SEQUENCE} tokens (${PROMPT} prompt + ${ANSWER} answer); ${STEPS} timed steps after ${WARMUP} warm-up`);
    console.log(`backend matmul ([${tokens}, ${SHAPE.hidden}] x [${SHAPE.intermediate}, ${SHAPE.hidden}]^T): best ${(matmul / 1e9).toFixed(2)} GFLOP/s (${matmuls.map((m) => (m / 1e9).toFixed(1)).join(', ')})`);
    for (const [name, seconds, liveRef] of [
      ['reference each step', live, true],
      ['cached reference   ', cached, false],
    ] as const) {
      const best = Math.min(...seconds);
      const flops = stepFlops(liveRef) / best;
      console.log(
        `${name}: ${best.toFixed(3)} s/step best (median ${median(seconds).toFixed(3)}), ${(1 / best).toFixed(2)} steps/s, ${Math.round(tokens / best)} tokens/s, ` +
          `${(stepFlops(liveRef) / 1e9).toFixed(1)} GFLOP/step = ${(flops / 1e9).toFixed(2)} GFLOP/s = ${((100 * flops) / matmul).toFixed(0)}% of matmul (target ≥ 40%)`,
      );
    }
    const faster = 1 - Math.min(...cached) / Math.min(...live);
    const fasterMedian = 1 - median(cached) / median(live);
    console.log(`cached reference: steps ${(100 * faster).toFixed(0)}% faster than computing it each step (medians: ${(100 * fasterMedian).toFixed(0)}%; target ≥ 25%)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

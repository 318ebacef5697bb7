// Forward + backward of a Llama-shaped model on the wasm backend (issue 5): hidden 256, 4
// layers, 4 heads, 2 KV heads, intermediate 688, vocab 8192 (tied embeddings, as init-model
// makes them), a batch of 4 sequences of 256 tokens, loss = sum of the next-token target
// log-probs (`tokenLogProbs`, the path pairLogps takes). Two cases:
//   full  gradients for every weight (full fine-tuning)
//   lora  gradients for a LoRA adapter only (r 16, alpha 32, q/k/v/o_proj; base frozen)
// Both are compared with the same backend's plain matrix product measured in the same process,
// in alternating rounds so the (shared, often loaded) machine's noise hits all alike: times are
// medians over rounds, and the fraction is the median over rounds of each step's FLOP/s over the
// baseline's just before it.
// Every time is taken on the wall clock and as the process's CPU time: the wasm backend computes
// on this one thread, so CPU time is the work without the waits for a core that a loaded
// machine adds (it still feels cache and memory contention). The verdict uses CPU time.
//
// Model FLOPs per step (stated, PaLM appendix B style, no causal discount):
//   full: 6 * N * T + 12 * L * T * S * (H * d)       (the attention term is 3 x the forward's
//                                                    2 products of 2 * S * (H * d) per token)
//   lora: 4 * N * T + 12 * L * T * S * (H * d) + 6 * N_lora * T
//         (no weight gradients for the frozen base: forward 2N, input gradients 2N per token)
// where N = weights of all matrix products (attention and MLP linears + the output head; not
// the embedding lookup or norms), T = tokens (batch * seq; the head sees batch * (seq - 1)
// rows, counted exactly), S = sequence length, L = layers, H * d = heads * head size.
//
// Baseline ("plain matmul FLOP/s"), two figures:
//   model GEMMs  the products those FLOPs are made of, each at its own shape ([1024,256] x
//                [256,688], dW's [688,1024] x [1024,256], attention's [512,64] x [64,256], the
//                head's [1020,256] x [256,8192], ...; see stepGemms), each timed as a plain
//                untransposed 2-D product A[M,K] x B[K,N] with persistent operands (XNNPACK's
//                best case: B packed once), summed by count: the time this backend needs for
//                the step's arithmetic alone. The fraction and the verdict use this one.
//   512x512      the usual square product, for scale.
//
//   node --import tsx bench/forwardBackward.bench.ts     (BENCH_ROUNDS=7, BENCH_CASES=full,lora)
//
// The measured code is bundled with esbuild the way the CLI ships and run in a child process
// (BENCH_NODE_ARGS passes node flags to it, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/trainer/backend/index.ts';
import { disposeModel, parameterCount, type CausalLM } from '../src/trainer/model/causalLM.ts';
import { initModel } from '../src/trainer/model/initModel.ts';
import { attachAdapter, createLoraAdapter, defaultLoraConfig, disposeAdapter, loraVariables } from '../src/trainer/model/lora.ts';
import { loadModel } from '../src/trainer/model/modelFolder.ts';
import { tokenLogProbs } from '../src/trainer/model/transformer.ts';
import { median, msPerCall, type CallTime } from './measure.ts';

const SHAPE = { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 688, vocab_size: 8192, max_position_embeddings: 1024 };
const BATCH = 4;
const SEQ = 256;
const LORA = { r: 16, alpha: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] };

type CaseName = 'full' | 'lora';

/** One kind of matrix product in a step: A[m,k] x B[k,n], `count` times. */
interface Gemm {
  m: number;
  k: number;
  n: number;
  count: number;
}

const gemmFlops = (g: Gemm) => 2 * g.m * g.k * g.n * g.count;

interface StepShape {
  tokens: number;
  headRows: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  hidden: number;
  vocab: number;
  linears: Array<{ in: number; out: number; lora: boolean }>;
}

function stepShape(model: CausalLM): StepShape {
  const c = model.config;
  const targets = new Set(LORA.targetModules);
  return {
    tokens: BATCH * SEQ,
    headRows: BATCH * (SEQ - 1),
    layers: c.numLayers,
    heads: c.numHeads,
    kvHeads: c.numKvHeads,
    headDim: c.headDim,
    hidden: c.hiddenSize,
    vocab: c.vocabSize,
    linears: [...model.linears.values()].map((l) => ({ in: l.inFeatures, out: l.outFeatures, lora: targets.has(l.path.split('.').pop()!) })),
  };
}

/** The matrix products of one step (forward, and backward for what the case differentiates): the model FLOPs as GEMMs. */
function stepGemms(s: StepShape, which: CaseName): Gemm[] {
  const list: Gemm[] = [];
  const add = (m: number, k: number, n: number, count = 1) => list.push({ m, k, n, count });
  const T = s.tokens;
  for (const l of s.linears) {
    add(T, l.in, l.out); // y = x W^T
    add(T, l.out, l.in); // dx = dy W
    if (which === 'full') add(l.out, T, l.in); // dW = dy^T x
    if (which === 'lora' && l.lora) {
      const r = LORA.r;
      add(T, l.in, r); // x A^T
      add(T, r, l.out); // (x A^T) B^T
      add(T, l.out, r); // backward through B^T
      add(r, T, l.out); // dB
      add(T, r, l.in); // backward through A^T
      add(r, T, l.in); // dA
    }
  }
  // Attention per (layer, sequence, KV head): the query heads sharing a KV head are stacked.
  const g = (s.heads / s.kvHeads) * SEQ;
  const per = s.layers * BATCH * s.kvHeads;
  const d = s.headDim;
  add(g, d, SEQ, per); // scores = q k^T
  add(g, SEQ, d, per); // out = p v
  add(g, d, SEQ, per); // dp = dout v^T
  add(SEQ, g, d, per); // dv = p^T dout
  add(g, SEQ, d, per); // dq = ds k
  add(SEQ, g, d, per); // dk = ds^T q
  // Output head (an implementation may recompute its logits in the backward pass, as
  // targetLogProbs does for large vocabularies; that is its overhead, not model work).
  add(s.headRows, s.hidden, s.vocab);
  add(s.headRows, s.vocab, s.hidden); // d hidden
  if (which === 'full') add(s.vocab, s.headRows, s.hidden); // d head weight
  return list;
}

/** The stated model FLOPs of one step (see the top of the file). */
function modelFlops(s: StepShape, which: CaseName): { flops: number; formula: string } {
  const linearParams = s.linears.reduce((n, l) => n + l.in * l.out, 0);
  const headParams = s.vocab * s.hidden;
  const attention = 12 * s.layers * s.tokens * SEQ * s.heads * s.headDim;
  if (which === 'full') {
    return {
      flops: 6 * linearParams * s.tokens + 6 * headParams * s.headRows + attention,
      formula: `6*N*T + 12*L*T*S*(H*d), N = ${(linearParams + headParams).toLocaleString('en-US')} (linears ${linearParams.toLocaleString('en-US')} + head ${headParams.toLocaleString('en-US')}; head on ${s.headRows} rows)`,
    };
  }
  const loraParams = s.linears.filter((l) => l.lora).reduce((n, l) => n + LORA.r * (l.in + l.out), 0);
  return {
    flops: 4 * linearParams * s.tokens + 4 * headParams * s.headRows + attention + 6 * loraParams * s.tokens,
    formula: `4*N*T + 12*L*T*S*(H*d) + 6*N_lora*T, N_lora = ${loraParams.toLocaleString('en-US')}`,
  };
}

/** wasm runs on this one thread, so on a shared machine CPU time is the work itself, wall time
 * the work plus waiting for a core: both are kept. */
type Ms = CallTime;

/** Milliseconds per call of `f`, the mean over at least `minMs` of wall time (after one warm-up call). */
function timeIt(f: () => void, minMs: number): Ms {
  f();
  return msPerCall(f, minMs);
}

interface PlainRunner {
  /** Milliseconds the listed products take as plain untransposed 2-D products. */
  time(gemms: Gemm[]): Ms;
  dispose(): void;
}

function plainRunner(): PlainRunner {
  const operands = new Map<string, [tf.Tensor2D, tf.Tensor2D]>();
  const perShape = new Map<string, Ms>();
  return {
    time(gemms) {
      const total: Ms = { wall: 0, cpu: 0 };
      for (const g of gemms) {
        const key = `${g.m}x${g.k}x${g.n}`;
        let ms = perShape.get(key);
        if (ms === undefined) {
          let pair = operands.get(key);
          if (!pair) {
            pair = [tf.randomNormal([g.m, g.k], 0, 1, 'float32', 1) as tf.Tensor2D, tf.randomNormal([g.k, g.n], 0, 1, 'float32', 2) as tf.Tensor2D];
            operands.set(key, pair);
          }
          const [a, b] = pair;
          ms = timeIt(() => tf.matMul(a, b).dispose(), 60);
          perShape.set(key, ms);
        }
        total.wall += ms.wall * g.count;
        total.cpu += ms.cpu * g.count;
      }
      return total;
    },
    dispose() {
      for (const pair of operands.values()) tf.dispose(pair);
    },
  };
}

function seededIds(count: number, vocab: number, seed: number): Int32Array {
  const ids = new Int32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    ids[i] = 3 + (state % (vocab - 3));
  }
  return ids;
}

async function child(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
  const cases = (process.env.BENCH_CASES ?? 'full,lora').split(',') as CaseName[];
  const choice = await initBackend('wasm', (line) => console.log(line));
  if (choice.name !== 'wasm') throw new Error('the wasm backend did not start');

  const dir = join(process.cwd(), '.bench', 'forward-backward-llama');
  const wanted = JSON.stringify(SHAPE);
  const current = existsSync(join(dir, 'config.json')) ? JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) : undefined;
  if (!current || JSON.stringify(Object.fromEntries(Object.keys(SHAPE).map((k) => [k, current[k]]))) !== wanted) {
    initModel(dir, { arch: 'llama', size: 'tiny', seed: 0, overwrite: true, configOverrides: SHAPE });
  }
  // Trainable for the full case; the LoRA case freezes the base weights (as a LoRA run loads them).
  const model = loadModel(dir, { trainable: true });
  const shape = stepShape(model);
  console.log(`model: ${dir}: ${model.config.architecture}, ${parameterCount(model).toLocaleString('en-US')} parameters; batch ${BATCH} x ${SEQ} tokens`);

  const ids = tf.tensor2d(seededIds(BATCH * SEQ, model.config.vocabSize, 7), [BATCH, SEQ], 'int32');
  const mask = tf.ones([BATCH, SEQ], 'int32') as tf.Tensor2D; // pairLogps always passes a mask
  const loss = () => tf.sum(tokenLogProbs(model, ids, { attentionMask: mask })) as tf.Scalar;
  const adapter = createLoraAdapter(model, defaultLoraConfig(LORA), 1);
  for (const layer of adapter.layers.values()) layer.b.assign(tf.randomNormal(layer.b.shape, 0, 0.01, 'float32', 3));

  const steps: Record<CaseName, () => void> = {
    full: () => {
      attachAdapter(model, undefined);
      for (const v of model.params.values()) v.trainable = true;
      const { value, grads } = tf.variableGrads(loss);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    },
    lora: () => {
      attachAdapter(model, adapter);
      for (const v of model.params.values()) v.trainable = false;
      const { value, grads } = tf.variableGrads(loss, loraVariables(adapter));
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    },
  };

  const times: Record<CaseName, Ms[]> = { full: [], lora: [] };
  const plainTimes: Record<CaseName, Ms[]> = { full: [], lora: [] };
  const square: Ms[] = [];
  const leaks: Record<CaseName, string[]> = { full: [], lora: [] };
  const squareA = tf.randomNormal([512, 512], 0, 1, 'float32', 4);
  const squareB = tf.randomNormal([512, 512], 0, 1, 'float32', 5);
  for (const c of cases) steps[c](); // warm-up: kernels set up, XNNPACK operators made
  for (let round = 0; round < rounds; round++) {
    const plain = plainRunner();
    for (const c of cases) plainTimes[c].push(plain.time(stepGemms(shape, c)));
    plain.dispose();
    square.push(timeIt(() => tf.matMul(squareA, squareB).dispose(), 300));
    for (const c of cases) {
      const before = tf.memory();
      times[c].push(msPerCall(steps[c], 0)); // one step
      const after = tf.memory();
      if (after.numTensors !== before.numTensors || after.numBytes !== before.numBytes) leaks[c].push(`${after.numTensors - before.numTensors} tensors, ${after.numBytes - before.numBytes} bytes`);
    }
  }

  const gf = (flops: number, ms: number) => flops / ms / 1e6;
  const med = (xs: Ms[]): Ms => ({ wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) });
  const squareMs = med(square);
  const squareRate = { wall: gf(2 * 512 ** 3, squareMs.wall), cpu: gf(2 * 512 ** 3, squareMs.cpu) };
  console.log(`\nmedian of ${rounds} alternating rounds; wall-clock figures, [CPU-time figures] (one thread does the work: CPU time discounts waiting for a core)`);
  console.log(`plain matmul, 512x512 @ 512x512: ${squareMs.wall.toFixed(1)} ms = ${squareRate.wall.toFixed(2)} GFLOP/s  [${squareRate.cpu.toFixed(2)} GFLOP/s]`);
  for (const c of cases) {
    const { flops, formula } = modelFlops(shape, c);
    const gemms = stepGemms(shape, c);
    const gemmTotal = gemms.reduce((n, g) => n + gemmFlops(g), 0);
    const plainMs = med(plainTimes[c]);
    const plainRate = { wall: gf(gemmTotal, plainMs.wall), cpu: gf(gemmTotal, plainMs.cpu) };
    const ms = med(times[c]);
    const rate = { wall: gf(flops, ms.wall), cpu: gf(flops, ms.cpu) };
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    // Each round's step against the baseline measured just before it, then the median of those
    // ratios: a load change between rounds moves both sides of a ratio alike.
    const fraction = (baseline: Ms[], baseFlops: number, clock: keyof Ms) => median(times[c].map((t, r) => flops / t[clock] / (baseFlops / baseline[r]![clock])));
    const ofGemms = { wall: fraction(plainTimes[c], gemmTotal, 'wall'), cpu: fraction(plainTimes[c], gemmTotal, 'cpu') };
    const ofSquare = { wall: fraction(square, 2 * 512 ** 3, 'wall'), cpu: fraction(square, 2 * 512 ** 3, 'cpu') };
    console.log(`\n[${c}] ${c === 'full' ? 'gradients for all weights' : `gradients for a LoRA adapter only (r ${LORA.r}, ${LORA.targetModules.join('/')})`}`);
    console.log(`  model FLOPs/step: ${(flops / 1e9).toFixed(2)} G = ${formula}`);
    console.log(`  plain matmul on this step's own GEMMs (${new Set(gemms.map((g) => `${g.m}x${g.k}x${g.n}`)).size} shapes, ${(gemmTotal / 1e9).toFixed(2)} GFLOP): ${plainMs.wall.toFixed(0)} ms = ${plainRate.wall.toFixed(2)} GFLOP/s  [${plainRate.cpu.toFixed(2)}]`);
    console.log(`  forward+backward: ${ms.wall.toFixed(0)} ms/step [${ms.cpu.toFixed(0)} ms CPU] (runs ${times[c].map((t) => t.wall.toFixed(0)).join(', ')}), ${Math.round((BATCH * SEQ) / (ms.wall / 1000)).toLocaleString('en-US')} tokens/s [${Math.round((BATCH * SEQ) / (ms.cpu / 1000)).toLocaleString('en-US')}], ${rate.wall.toFixed(2)} GFLOP/s [${rate.cpu.toFixed(2)}]`);
    console.log(`  model FLOP/s as a fraction of plain matmul FLOP/s (median over rounds): ${pct(ofGemms.wall)} [${pct(ofGemms.cpu)}] of the model-GEMM baseline, ${pct(ofSquare.wall)} [${pct(ofSquare.cpu)}] of 512x512  (target ≥ 50% of the model-GEMM baseline, CPU time: ${ofGemms.cpu >= 0.5 ? 'met' : 'NOT met'})`);
    console.log(`  tensors and bytes alive after each step vs before: ${leaks[c].length === 0 ? 'unchanged (no leak)' : `LEAK: ${leaks[c].join('; ')}`}`);
  }
  disposeAdapter(adapter);
  disposeModel(model);
  tf.dispose([ids, mask, squareA, squareB]);
}

async function main(): Promise<void> {
  // Bundled the way the CLI ships, so the figures are the shipped code's.
  const { buildSync } = await import('esbuild');
  const worker = join(process.cwd(), '.bench', 'forwardBackwardWorker.cjs');
  buildSync({ entryPoints: [join('bench', 'forwardBackward.bench.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], external: ['esbuild'], outfile: worker, logLevel: 'error' });
  execFileSync(process.execPath, [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), worker, '--child'], { stdio: 'inherit' });
}

if (process.argv.includes('--child')) void child();
else void main();

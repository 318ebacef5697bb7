// Matrix products on the wasm backend, tf's own BatchMatMul kernel ("before") against the routed
// one installed by initBackend ("after"), in the same process, alternating rounds so machine
// noise hits both alike; plus the cpu backend's plain product for scale.
// Run: node --import tsx bench/matmul.bench.ts   (BENCH_MS sets the time per round, default 300)
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/trainer/backend/index.ts';
import { planBatchMatMul } from '../src/trainer/backend/kernels/fastBatchMatMul.ts';
import { useFastWasmMatMul } from '../src/trainer/backend/kernels/registerTrainingKernels.ts';
import { median, msPerCall } from './measure.ts';

const ROUND_MS = Number(process.env.BENCH_MS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** Milliseconds per call, one mean per round (after one warm-up call). */
function timeRounds(f: () => void, rounds = ROUNDS): number[] {
  f();
  const perCall: number[] = [];
  for (let r = 0; r < rounds; r++) perCall.push(msPerCall(f, ROUND_MS).wall);
  return perCall;
}

interface Case {
  name: string;
  a: number[];
  b: number[];
  transposeA?: boolean;
  transposeB?: boolean;
  /** Time forward + backward (gradients for both inputs) instead of the product alone. */
  backward?: boolean;
}

function flops(c: Case): number {
  const plan = planBatchMatMul(c.a, c.b, c.transposeA ?? false, c.transposeB ?? false);
  const one = 2 * plan.outShape.reduce((p, d) => p * d, 1) * plan.k;
  return c.backward ? 3 * one : one;
}

function runner(c: Case): () => void {
  const a = tf.randomNormal(c.a, 0, 1, 'float32', 1);
  const b = tf.randomNormal(c.b, 0, 1, 'float32', 2);
  const product = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, c.transposeA ?? false, c.transposeB ?? false);
  const step = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(product(x, y)));
  return () => {
    const out = c.backward ? step([a, b]) : [product(a, b)];
    out[0]!.dataSync(); // wasm is synchronous; this just makes sure the work is done
    tf.dispose(out);
  };
}

const gflops = (c: Case, ms: number) => (flops(c) / ms / 1e6).toFixed(2);

async function main(): Promise<void> {
  const choice = await initBackend('wasm', (line) => console.log(line));
  if (choice.name !== 'wasm') throw new Error('the wasm backend did not start');

  const plain: Case = { name: '512x512 @ 512x512', a: [512, 512], b: [512, 512] };
  const wasmPlain = median(timeRounds(runner(plain)));
  await tf.setBackend('cpu');
  const cpuPlain = median(timeRounds(runner(plain), 1));
  await tf.setBackend('wasm');
  console.log(`\nplain ${plain.name}: wasm ${wasmPlain.toFixed(1)} ms = ${gflops(plain, wasmPlain)} GFLOP/s, cpu ${cpuPlain.toFixed(1)} ms = ${gflops(plain, cpuPlain)} GFLOP/s, wasm/cpu speed ${(cpuPlain / wasmPlain).toFixed(1)}x\n`);

  const cases: Case[] = [
    { name: 'A^T B        512', a: [512, 512], b: [512, 512], transposeA: true },
    { name: 'A B^T        512', a: [512, 512], b: [512, 512], transposeB: true },
    { name: 'A^T B^T      512', a: [512, 512], b: [512, 512], transposeA: true, transposeB: true },
    { name: 'batched      [4,256,256] @ [4,256,256]', a: [4, 256, 256], b: [4, 256, 256] },
    { name: 'batched B^T  [4,256,256] @ [4,256,256]^T', a: [4, 256, 256], b: [4, 256, 256], transposeB: true },
    { name: 'linear       [4,256,512] @ [512,512]', a: [4, 256, 512], b: [512, 512] },
    { name: 'linear fwd+bwd [4,128,512] @ [512,512]^T', a: [4, 128, 512], b: [512, 512], transposeB: true, backward: true },
    { name: 'decode step  [1,896] @ [896,896]^T', a: [1, 896], b: [896, 896], transposeB: true },
  ];
  console.log('case'.padEnd(44), 'route'.padEnd(9), 'before ms'.padStart(10), 'after ms'.padStart(9), 'before GF/s'.padStart(12), 'after GF/s'.padStart(11), 'speedup'.padStart(8));
  for (const c of cases) {
    const run = runner(c);
    const before: number[] = [];
    const after: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      useFastWasmMatMul(false);
      before.push(...timeRounds(run, 1));
      useFastWasmMatMul(true);
      after.push(...timeRounds(run, 1));
    }
    const [b, a] = [median(before), median(after)];
    const route = planBatchMatMul(c.a, c.b, c.transposeA ?? false, c.transposeB ?? false).route;
    console.log(c.name.padEnd(44), route.padEnd(9), b.toFixed(2).padStart(10), a.toFixed(2).padStart(9), gflops(c, b).padStart(12), gflops(c, a).padStart(11), `${(b / a).toFixed(1)}x`.padStart(8));
  }
}

void main();

import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  broadcast_util,
  type BatchMatMulAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { aliasOf, allocate, heapView, release } from './wasmHeap.ts';

// tfjs-backend-wasm 4.22 sends a BatchMatMul to XNNPACK only when neither side is transposed
// AND both batch sizes are 1 (batch_mat_mul_impl.cc); everything else runs a scalar blocked
// loop at ~1 GFLOP/s, 10-20x slower. Backprop is all transposed products, and every
// [B,T,K] x [K,N] linear layer or attention product is batched. So this kernel rewrites each
// product into batch-1, untransposed calls of the original kernel: transposes are materialised
// with a tiled copy (transposeInto, ~0.25 ms for 512x512), a shared right-hand side
// is handled by flattening the batch into rows, and equal batches are looped over.

/** Below this many multiply-adds per product the scalar loop's lower overhead wins. */
export const MIN_ROUTED_WORK = 16 * 16 * 16;
/**
 * XNNPACK repacks its right-hand side on every call with a new tensor (a transposed copy, a
 * batch slice), and a transposed left side is a copy too. Below this many rows (resp. columns)
 * to spread that over, e.g. one-token decoding steps, tf's scalar loop is faster (measured: at
 * 1 row, 896x896 weights, 5 ms vs 34 ms; at 16 rows the routed product is ahead).
 */
export const MIN_ROUTED_ROWS = 16;

export type MatMulRoute = 'original' | 'flatten' | 'loop';

export interface MatMulPlan {
  m: number;
  k: number;
  n: number;
  batchA: number;
  batchB: number;
  outShape: number[];
  route: MatMulRoute;
}

export function planBatchMatMul(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean): MatMulPlan {
  const aRank = aShape.length;
  const bRank = bShape.length;
  const m = transposeA ? aShape[aRank - 1]! : aShape[aRank - 2]!;
  const k = transposeA ? aShape[aRank - 2]! : aShape[aRank - 1]!;
  const n = transposeB ? bShape[bRank - 2]! : bShape[bRank - 1]!;
  const batchA = product(aShape.slice(0, -2));
  const batchB = product(bShape.slice(0, -2));
  const outShape = [...broadcast_util.assertAndGetBroadcastShape(aShape.slice(0, -2), bShape.slice(0, -2)), m, n];
  const innerB = transposeB ? bShape[bRank - 1] : bShape[bRank - 2];
  const worthCopies = (rows: number) => (!transposeB || rows >= MIN_ROUTED_ROWS) && (!transposeA || n >= MIN_ROUTED_ROWS);
  let route: MatMulRoute = 'original';
  if (k !== innerB || m * k * n === 0) route = 'original'; // let tf's kernel report the error
  else if (batchB === 1) {
    // One product of all of a's rows: worth it unless it is tiny or the copies dominate.
    const rows = batchA * m;
    if ((transposeA || transposeB || batchA > 1) && rows * k * n >= MIN_ROUTED_WORK && worthCopies(rows)) route = 'flatten';
  } else if ((batchA === batchB || batchA === 1) && m * k * n >= MIN_ROUTED_WORK && m >= MIN_ROUTED_ROWS && worthCopies(m)) {
    // Each batch's b is a fresh tensor XNNPACK must repack, so each needs enough rows of its own.
    // Broadcasts other than a shared a stay with tf.
    route = 'loop';
  }
  return { m, k, n, batchA, batchB, outShape, route };
}

function product(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

/** Wraps tf's wasm BatchMatMul config; `original` does the actual (batch-1) multiplications. */
export function fastBatchMatMulConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original.kernelFunc(args);
    const plan = planBatchMatMul(a.shape, b.shape, transposeA, transposeB);
    if (plan.route === 'original') return original.kernelFunc(args);

    const wasm = backend as BackendWasm;
    const multiply = (left: TensorInfo, right: TensorInfo): TensorInfo =>
      original.kernelFunc({ inputs: { a: left, b: right }, backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
    const { m, k, n, batchA, batchB } = plan;
    const temps: TensorInfo[] = [];
    try {
      if (plan.route === 'flatten') {
        const left = untransposed(wasm, a, [batchA, m, k], transposeA, temps);
        const right = untransposed(wasm, b, [1, k, n], transposeB, temps);
        const out = multiply(aliasOf(left, [1, batchA * m, k]), aliasOf(right, [1, k, n]));
        return { dataId: out.dataId, shape: plan.outShape, dtype: 'float32' };
      }
      // Here batchB > 1 (a shared b was flattened above) and batchA is batchB or 1. Each
      // batch's operands are copied (transposed where needed) straight into tensors of their own.
      const shared = batchA === 1 ? untransposed(wasm, a, [1, m, k], transposeA, temps) : undefined;
      const out = allocate(wasm, [batchB, m, n], 'float32');
      try {
        for (let i = 0; i < batchB; i++) {
          const ai = shared ?? batchBlock(wasm, a, i, m, k, transposeA);
          // A fresh right-hand tensor every time: XNNPACK caches its packed weights by tensor
          // id, and disposing the tensor is what evicts that cache entry.
          const bi = batchBlock(wasm, b, i, k, n, transposeB);
          const oi = multiply(ai, bi);
          heapView(wasm, out).set(heapView(wasm, oi), i * m * n);
          release(wasm, oi, bi);
          if (!shared) release(wasm, ai);
        }
      } catch (error) {
        release(wasm, out);
        throw error;
      }
      return { dataId: out.dataId, shape: plan.outShape, dtype: 'float32' };
    } finally {
      release(wasm, ...temps);
    }
  };
  return { ...original, kernelFunc };
}

/** `info` as [batch, rows, cols] with its last two axes un-transposed (a new tensor if needed). */
function untransposed(wasm: BackendWasm, info: TensorInfo, shape: [number, number, number], transposed: boolean, temps: TensorInfo[]): TensorInfo {
  const [batch, rows, cols] = shape;
  if (!transposed) return aliasOf(info, shape);
  const out = allocate(wasm, shape, 'float32');
  temps.push(out);
  // Views only after the allocation (it may grow the heap).
  transposeInto(heapView(wasm, info) as Float32Array, heapView(wasm, out) as Float32Array, batch, cols, rows);
  return out;
}

/** Batch `index` of `info` as a new [1, rows, cols] tensor, un-transposing it if `transposed`. */
function batchBlock(wasm: BackendWasm, info: TensorInfo, index: number, rows: number, cols: number, transposed: boolean): TensorInfo {
  const size = rows * cols;
  const block = allocate(wasm, [1, rows, cols], 'float32');
  const src = (heapView(wasm, info) as Float32Array).subarray(index * size, (index + 1) * size);
  const dst = heapView(wasm, block) as Float32Array;
  if (transposed) transposeInto(src, dst, 1, cols, rows);
  else dst.set(src);
  return block;
}

/** Rows (resp. columns) per tile of transposeInto: 64 x 64 floats = 16 KiB, well inside L1. */
const TILE = 64;

/**
 * dst[b][c][r] = src[b][r][c] for `batch` [rows, cols] matrices. tf's wasm Transpose kernel
 * moves about 0.5 GB/s here (5.5 ms for [1024, 688], a third of the product it feeds); this
 * tiled copy, eight source rows at a time so that each destination row gets eight consecutive
 * writes, is 4-6x faster.
 */
export function transposeInto(src: Float32Array, dst: Float32Array, batch: number, rows: number, cols: number): void {
  const size = rows * cols;
  for (let b = 0; b < batch; b++) {
    const base = b * size;
    for (let r0 = 0; r0 < rows; r0 += TILE) {
      const r1 = Math.min(r0 + TILE, rows);
      for (let c0 = 0; c0 < cols; c0 += TILE) {
        const c1 = Math.min(c0 + TILE, cols);
        let r = r0;
        for (; r + 8 <= r1; r += 8) {
          let s = base + r * cols + c0;
          let d = base + c0 * rows + r;
          for (let c = c0; c < c1; c++, s++, d += rows) {
            dst[d] = src[s]!;
            dst[d + 1] = src[s + cols]!;
            dst[d + 2] = src[s + 2 * cols]!;
            dst[d + 3] = src[s + 3 * cols]!;
            dst[d + 4] = src[s + 4 * cols]!;
            dst[d + 5] = src[s + 5 * cols]!;
            dst[d + 6] = src[s + 6 * cols]!;
            dst[d + 7] = src[s + 7 * cols]!;
          }
        }
        for (; r < r1; r++) {
          let s = base + r * cols + c0;
          let d = base + c0 * rows + r;
          for (let c = c0; c < c1; c++, s++, d += rows) dst[d] = src[s]!;
        }
      }
    }
  }
}

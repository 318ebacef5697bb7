import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { backend_util, util, type GatherV2Attrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { allocate, heapView } from './wasmHeap.ts';

// tfjs-backend-wasm 4.22's Gather reads index `batch * batchSize + i` where it means
// `batch * indicesPerBatch + i` (Gather.cc), so any gather with batchDims > 0, such as picking
// each position's target log-prob, returns garbage or traps with "memory access out of bounds".
// Its batchDims-0 gathers (embedding lookups) are right but copy element by element through
// strides (11 ms for 1024 rows of 256); here every gather is a loop of contiguous slice copies.

export function batchedGatherConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x as TensorInfo;
    const indices = inputs.indices as TensorInfo;
    const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
    const batchAxes = batchDims < 0 ? batchDims + indices.shape.length : batchDims;
    if (x.dtype === 'string') return original.kernelFunc(args);

    const wasm = backend as BackendWasm;
    const gatherAxis = util.parseAxisParam(axis, x.shape)[0]!;
    const { batchSize, outerSize, dimSize, sliceSize, outputShape } = backend_util.segment_util.collectGatherOpShapeInfo(x, indices, gatherAxis, batchAxes);
    const perBatch = util.sizeFromShape(indices.shape) / batchSize;
    for (const index of heapView(wasm, indices)) {
      if (!(index >= 0 && index < dimSize)) throw new Error(`GatherV2: the index value ${index} is not in [0, ${dimSize - 1}]`);
    }
    const out = allocate(wasm, outputShape, x.dtype);
    // Views only after the allocation (it may grow the heap).
    const dst = heapView(wasm, out);
    const src = heapView(wasm, x);
    const ids = heapView(wasm, indices);
    for (let b = 0; b < batchSize; b++) {
      for (let o = 0; o < outerSize; o++) {
        const row = b * outerSize + o;
        for (let i = 0; i < perBatch; i++) {
          const index = ids[b * perBatch + i]!;
          const from = (row * dimSize + index) * sliceSize;
          const to = (row * perBatch + i) * sliceSize;
          if (sliceSize === 1) dst[to] = src[from]!;
          else dst.set(src.subarray(from, from + sliceSize), to);
        }
      }
    }
    return out;
  };
  return { ...original, kernelFunc };
}

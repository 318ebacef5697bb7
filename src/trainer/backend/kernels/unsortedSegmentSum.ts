import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  UnsortedSegmentSum,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  type TypedArray,
  type UnsortedSegmentSumAttrs,
} from '@tensorflow/tfjs-core';
import { allocate, heapView } from './wasmHeap.ts';

// The gradient of gather (so of every embedding lookup) is UnsortedSegmentSum. The wasm backend
// has no such kernel, and the cpu one builds a mask and a full-size product per segment:
// O(vocab x tokens x width), hours for a real vocabulary. Both get this single pass instead.

interface SegmentSumShape {
  rows: number;
  inner: number;
  outShape: number[];
}

export function segmentSumShape(xShape: readonly number[], idsShape: readonly number[], numSegments: number): SegmentSumShape {
  if (!Number.isInteger(numSegments) || numSegments < 0) throw new Error(`unsortedSegmentSum: numSegments must be a non-negative integer, got ${numSegments}`);
  const prefixOk = idsShape.length <= xShape.length && idsShape.every((d, i) => d === xShape[i]);
  if (!prefixOk) throw new Error(`unsortedSegmentSum: segmentIds shape [${idsShape}] must be a prefix of x shape [${xShape}]`);
  const rest = xShape.slice(idsShape.length);
  return {
    rows: idsShape.reduce((p, d) => p * d, 1),
    inner: rest.reduce((p, d) => p * d, 1),
    outShape: [numSegments, ...rest],
  };
}

/** Adds row r of `x` into row ids[r] of `out`; ids outside [0, numSegments) are dropped, as in TF. */
export function accumulateSegments(out: TypedArray, x: TypedArray, ids: Int32Array | TypedArray, inner: number, numSegments: number): void {
  for (let r = 0; r < ids.length; r++) {
    const segment = ids[r]!;
    if (segment < 0 || segment >= numSegments) continue;
    const src = r * inner;
    const dst = segment * inner;
    for (let j = 0; j < inner; j++) out[dst + j]! += x[src + j]!;
  }
}

const wasmKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const x = inputs.x as TensorInfo;
  const ids = inputs.segmentIds as TensorInfo;
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  checkDtypes(x, ids);
  const { inner, outShape } = segmentSumShape(x.shape, ids.shape, numSegments);
  const out = allocate(wasm, outShape, x.dtype);
  const outView = heapView(wasm, out); // views taken after the allocation, see wasmHeap.ts
  outView.fill(0);
  accumulateSegments(outView, heapView(wasm, x), heapView(wasm, ids), inner, numSegments);
  return out;
};

const cpuKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const cpu = backend as MathBackendCPU;
  const x = inputs.x as TensorInfo;
  const ids = inputs.segmentIds as TensorInfo;
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  checkDtypes(x, ids);
  const { inner, outShape } = segmentSumShape(x.shape, ids.shape, numSegments);
  const size = outShape.reduce((p, d) => p * d, 1);
  const out = x.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  accumulateSegments(out, cpu.readSync(x.dataId) as TypedArray, cpu.readSync(ids.dataId) as TypedArray, inner, numSegments);
  return cpu.makeTensorInfo(outShape, x.dtype, out);
};

function checkDtypes(x: TensorInfo, ids: TensorInfo): void {
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`unsortedSegmentSum: unsupported dtype ${x.dtype}`);
  if (ids.dtype !== 'int32') throw new Error(`unsortedSegmentSum: segmentIds must be int32, got ${ids.dtype}`);
}

export function unsortedSegmentSumConfig(backendName: 'wasm' | 'cpu'): KernelConfig {
  return { kernelName: UnsortedSegmentSum, backendName, kernelFunc: backendName === 'wasm' ? wasmKernel : cpuKernel };
}

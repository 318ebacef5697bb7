import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

// Thin helpers over BackendWasm's public-but-low-level data API. A view into the wasm heap is
// invalidated whenever the heap grows, i.e. on any allocation: take views only after the last
// makeOutput() that precedes their use.

export function heapView(backend: BackendWasm, info: TensorInfo): Float32Array | Int32Array | Uint8Array {
  return backend.typedArrayFromHeap(info);
}

/** A tensor sharing `info`'s data under another shape; never dispose it separately. */
export function aliasOf(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

export function allocate(backend: BackendWasm, shape: number[], dtype: DataType): TensorInfo {
  return backend.makeOutput(shape, dtype);
}

/** Copies elements [index*size, (index+1)*size) of `source` into a new tensor of `shape`. */
export function copyBlock(backend: BackendWasm, source: TensorInfo, index: number, shape: number[]): TensorInfo {
  const size = shape.reduce((p, d) => p * d, 1);
  const block = allocate(backend, shape, source.dtype);
  heapView(backend, block).set(heapView(backend, source).subarray(index * size, (index + 1) * size));
  return block;
}

export function release(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

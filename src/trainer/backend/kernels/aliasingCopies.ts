import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { CastAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

// tfjs-backend-wasm 4.22's Identity, and its Cast to the dtype a tensor already has, copy the
// data. Autodiff runs both all the time: every tensor a gradient saves goes through clone()
// (Identity), and Multiply's gradient casts both factors to float32 — for a small Llama that is
// hundreds of full-size copies per training step. Tensors are immutable, so these return the
// input's data under a new reference instead, as tf's cpu backend and the wasm Reshape kernel do.

function alias(backend: BackendWasm, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export function aliasingIdentityConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    return x.dtype === 'string' ? original.kernelFunc(args) : alias(args.backend as BackendWasm, x);
  };
  return { ...original, kernelFunc };
}

export function aliasingCastConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    const { dtype } = args.attrs as unknown as CastAttrs;
    return x.dtype === dtype && dtype !== 'string' ? alias(args.backend as BackendWasm, x) : original.kernelFunc(args);
  };
  return { ...original, kernelFunc };
}

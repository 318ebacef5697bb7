import { neg, softplus, Tensor, type TensorLike } from '@tensorflow/tfjs-core';

/**
 * log(sigmoid(x)), computed as -softplus(-x) (stable for any |x|), differentiated through
 * Softplus's own gradient, dy * sigmoid(-x).
 *
 * Use this, not tf.logSigmoid: tfjs-core 4.22's version is a customGrad whose gradient reads its
 * input without saving it, so when that input is an intermediate result (as in every DPO loss)
 * backprop touches a disposed tensor and fails with "Cannot read properties of undefined
 * (reading 'backend')" on every backend.
 */
export function logSigmoid<T extends Tensor>(x: T | TensorLike): T {
  return neg(softplus(neg(x as T))) as T;
}

function chainedLogSigmoid(this: Tensor): Tensor {
  return logSigmoid(this);
}

/**
 * Points the chained `x.logSigmoid()` at the working version too. Call after tfjs-core's chained
 * ops are registered, and again after anything that re-registers them (@tensorflow/tfjs does).
 */
export function patchChainedLogSigmoid(): void {
  // The Tensor class is shared through globalThis, so this reaches every copy of tfjs-core.
  (Tensor.prototype as unknown as { logSigmoid: () => Tensor }).logSigmoid = chainedLogSigmoid;
}

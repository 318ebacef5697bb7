import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '../model/causalLM.ts';
import { dequantizeRows, quantizedBytes, quantizeRows, type QuantBits, type QuantizedMatrix } from './quantize.ts';

/**
 * Frozen linear layers whose weights are stored quantized and dequantized on the fly, the way
 * QLoRA trains: the float32 weight of a layer exists only while that layer's product runs.
 * Backprop needs the weight again (dx = dy W), and a plain tf.matMul would keep the dequantized
 * weight alive for it until the step ends, so all of them at once; the custom gradient below
 * dequantizes a second time instead, saving nothing for backward. Only x gets a gradient: the
 * base weight is frozen (LoRA trains beside it).
 */
export function quantizedLinear(q: QuantizedMatrix): (x: tf.Tensor2D) => tf.Tensor2D {
  const weight = () => tf.tensor2d(dequantizeRows(q), [q.rows, q.cols]);
  // customGrad runs the forward and the gradient each inside a tidy, so `weight()` is freed there.
  const product = tf.customGrad((x) => ({
    value: tf.matMul(x as tf.Tensor, weight(), false, true),
    gradFunc: (dy: tf.Tensor) => tf.matMul(dy, weight()),
  }));
  return (x) => product(x) as tf.Tensor2D;
}

export interface QuantizationReport {
  bits: QuantBits;
  /** Linear weights now stored quantized. */
  tensors: number;
  /** Their size as float32. */
  floatBytes: number;
  /** Their size quantized (integers and per-channel scales). */
  quantizedBytes: number;
  savedBytes: number;
}

/**
 * Quantizes every linear weight of the transformer blocks in place (embeddings, norms, biases and
 * the output head stay float32, as bitsandbytes leaves them) and frees their float32 copies.
 * Weights are quantized per output channel in [out, in] layout, GPT-2's Conv1D [in, out]
 * transposed first, so every layer computes x W^T the same way.
 */
export function quantizeModel(model: CausalLM, bits: QuantBits): QuantizationReport {
  const frozen = new Map(model.frozenLinears ?? []);
  // `params` is read-only to the model's users; taking weights out of it is this module's job.
  const params = model.params as Map<string, tf.Variable>;
  let floatBytes = 0;
  let stored = 0;
  for (const spec of model.linears.values()) {
    const name = `${spec.path}.weight`;
    const variable = params.get(name);
    if (!variable || frozen.has(spec.path)) continue;
    const transposed = spec.conv1d ? tf.transpose(variable) : undefined;
    const values = (transposed ?? variable).dataSync() as Float32Array;
    transposed?.dispose();
    const q = quantizeRows(values, spec.outFeatures, spec.inFeatures, bits);
    frozen.set(spec.path, quantizedLinear(q));
    floatBytes += values.length * 4;
    stored += quantizedBytes(q);
    params.delete(name);
    variable.dispose();
  }
  model.frozenLinears = frozen;
  return { bits, tensors: frozen.size, floatBytes, quantizedBytes: stored, savedBytes: floatBytes - stored };
}

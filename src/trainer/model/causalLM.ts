import { ARCHITECTURE_TRAITS } from './architectures.ts';
import * as tf from '@tensorflow/tfjs-core';
import { toVariable, type LoraAdapter } from './lora.ts';
import type { ModelConfig } from './modelConfig.ts';
import { linearSpecs, type LinearSpec } from './parameterSpecs.ts';
import { ropeInverseFrequencies } from './rope.ts';

/**
 * A loaded causal language model: its config and its parameters as tf.Variables under their
 * Hugging Face names. Base weights are created non-trainable unless asked otherwise, so
 * `tf.variableGrads(f)` with no list differentiates only what should train (a LoRA adapter's
 * A and B, or everything for full fine-tuning).
 */
export interface CausalLM {
  readonly config: ModelConfig;
  readonly params: ReadonlyMap<string, tf.Variable>;
  readonly linears: ReadonlyMap<string, LinearSpec>;
  /** RoPE's theta^(-2i/d), scaling applied (Llama family; empty for GPT-2). */
  readonly ropeInvFreq: Float32Array;
  /** The LoRA adapter every targeted linear adds its delta from, when one is attached. */
  adapter: LoraAdapter | undefined;
  /**
   * Frozen linears whose weight is held outside `params` (quantized, see src/trainer/quantization),
   * by module path: each computes x W^T for x [rows, in]; bias and LoRA are added as usual.
   */
  frozenLinears?: ReadonlyMap<string, (x: tf.Tensor2D) => tf.Tensor2D>;
}

/** Wraps tensors (by HF name) as the model's variables; the tensors' memory is taken over, not copied. */
export function createCausalLM(config: ModelConfig, weights: ReadonlyMap<string, tf.Tensor>, options: { trainable?: boolean } = {}): CausalLM {
  const params = new Map<string, tf.Variable>();
  for (const [name, tensor] of weights) {
    // No variable names: tfjs registers them globally, and a policy and a reference model
    // loaded side by side would otherwise clash.
    params.set(name, toVariable(tensor, options.trainable ?? false));
  }
  return {
    config,
    params,
    linears: new Map(linearSpecs(config).map((l) => [l.path, l])),
    ropeInvFreq: ARCHITECTURE_TRAITS[config.architecture].rope ? ropeInverseFrequencies(config) : new Float32Array(0),
    adapter: undefined,
  };
}

export function param(model: CausalLM, name: string): tf.Variable {
  const value = model.params.get(name);
  if (!value) throw new Error(`the model has no parameter "${name}"`);
  return value;
}

/** Frees the model's weights and its adapter's. */
export function disposeModel(model: CausalLM): void {
  for (const v of model.params.values()) v.dispose();
  if (model.adapter) for (const layer of model.adapter.layers.values()) tf.dispose([layer.a, layer.b]);
  model.adapter = undefined;
}

/** Number of scalar parameters of the base model. */
export function parameterCount(model: CausalLM): number {
  let n = 0;
  for (const v of model.params.values()) n += v.size;
  return n;
}

import { ARCHITECTURE_TRAITS } from './architectures.ts';
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from './causalLM.ts';
import type { LinearSpec } from './parameterSpecs.ts';
import { SeededRandom, deriveSeed } from './random.ts';

/**
 * LoRA (Hu et al. 2021): a frozen linear W gains a low-rank delta, y = W x + (alpha/r) B A x,
 * with A [r, in] and B [out, r] the only trained weights. Same conventions as PEFT, so that
 * adapters move between this tool and Python unchanged.
 */

export interface LoraConfig {
  r: number;
  alpha: number;
  /** Module names or suffixes ("q_proj"), a regular expression matched against the whole
   * module path (PEFT's string form), or "all-linear". */
  targetModules: string[] | string;
  dropout: number;
  /** PEFT's flag for GPT-2's Conv1D layers; it changes how weights merge, not the delta. */
  fanInFanOut: boolean;
  /** rsLoRA: scale alpha/sqrt(r) instead of alpha/r. */
  useRslora: boolean;
  /** Per-module overrides of r and alpha, keyed by module-name suffix (PEFT's patterns). */
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
  baseModelNameOrPath?: string;
}

export interface LoraLayer {
  /** [r, in] */
  a: tf.Variable;
  /** [out, r] */
  b: tf.Variable;
  scale: number;
}

export interface LoraAdapter {
  config: LoraConfig;
  /** By module path, e.g. `model.layers.0.self_attn.q_proj`. */
  layers: Map<string, LoraLayer>;
  /** Seeds each LoRA dropout mask (a trainer sets it so a run repeats exactly); unseeded when absent. */
  dropoutSeed?: () => number;
}

export function defaultLoraConfig(overrides: Partial<LoraConfig> = {}): LoraConfig {
  return { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'], dropout: 0, fanInFanOut: false, useRslora: false, rankPattern: {}, alphaPattern: {}, ...overrides };
}

/** PEFT's get_pattern_key: the first pattern that names the module or a suffix of its path. */
function patternValue(pattern: Record<string, number>, path: string): number | undefined {
  for (const [key, value] of Object.entries(pattern)) if (new RegExp(`(^|.*\\.)${key}$`).test(path)) return value;
  return undefined;
}

/** A variable taking over the tensor's memory (the tensor handle itself is released). */
export function toVariable(tensor: tf.Tensor, trainable: boolean): tf.Variable {
  const v = tf.variable(tensor, trainable);
  tensor.dispose();
  return v;
}

export function isLoraTarget(config: LoraConfig, path: string): boolean {
  const targets = config.targetModules;
  if (targets === 'all-linear') return true;
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(path);
  return targets.some((t) => path === t || path.endsWith(`.${t}`));
}

export function loraRank(config: LoraConfig, path: string): number {
  return patternValue(config.rankPattern, path) ?? config.r;
}

export function loraScale(config: LoraConfig, path: string): number {
  const r = loraRank(config, path);
  const alpha = patternValue(config.alphaPattern, path) ?? config.alpha;
  return config.useRslora ? alpha / Math.sqrt(r) : alpha / r;
}

/** The model's linears an adapter with this config applies to (the output head never: PEFT's all-linear leaves it out too). */
export function loraTargets(config: LoraConfig, linears: Iterable<LinearSpec>): LinearSpec[] {
  return [...linears].filter((l) => isLoraTarget(config, l.path));
}

/**
 * A fresh adapter as PEFT initialises one: A from kaiming-uniform (bound 1/sqrt(in)), B zero,
 * so the adapted model starts out equal to the base model.
 */
export function createLoraAdapter(model: CausalLM, config: LoraConfig, seed = 0): LoraAdapter {
  const targets = loraTargets(config, model.linears.values());
  if (targets.length === 0) throw new Error(`LoRA target_modules ${JSON.stringify(config.targetModules)} match no linear layer of this ${model.config.architecture}; its linears are named ${[...new Set([...model.linears.keys()].map((p) => p.split('.').pop()))].join(', ')}`);
  const layers = new Map<string, LoraLayer>();
  for (const target of targets) {
    const r = loraRank(config, target.path);
    const bound = 1 / Math.sqrt(target.inFeatures);
    const a = new SeededRandom(deriveSeed(seed, target.path)).fillUniform(new Float32Array(r * target.inFeatures), -bound, bound);
    layers.set(target.path, {
      a: toVariable(tf.tensor2d(a, [r, target.inFeatures]), true),
      b: toVariable(tf.zeros([target.outFeatures, r]), true),
      scale: loraScale(config, target.path),
    });
  }
  // PEFT marks adapters of GPT-2's Conv1D layers fan_in_fan_out; it decides how they merge.
  return { config: ARCHITECTURE_TRAITS[model.config.architecture].conv1d ? { ...config, fanInFanOut: true } : config, layers };
}

/** Attaches an adapter (replacing and returning any previous one, which the caller may dispose). */
export function attachAdapter(model: CausalLM, adapter: LoraAdapter | undefined): LoraAdapter | undefined {
  const previous = model.adapter;
  if (adapter) {
    for (const [path, layer] of adapter.layers) {
      const spec = model.linears.get(path);
      if (!spec) throw new Error(`the adapter has weights for "${path}", which is not a linear layer of this ${model.config.architecture}`);
      const [r, inFeatures] = layer.a.shape as [number, number];
      const [outFeatures, rB] = layer.b.shape as [number, number];
      if (inFeatures !== spec.inFeatures || outFeatures !== spec.outFeatures || r !== rB)
        throw new Error(`adapter weights for "${path}" are lora_A [${layer.a.shape}] and lora_B [${layer.b.shape}], but the layer maps ${spec.inFeatures} to ${spec.outFeatures} features`);
    }
  }
  model.adapter = adapter;
  return previous;
}

export function disposeAdapter(adapter: LoraAdapter): void {
  for (const layer of adapter.layers.values()) tf.dispose([layer.a, layer.b]);
}

/** The adapter's trainable variables, for `tf.variableGrads(f, loraVariables(adapter))`. */
export function loraVariables(adapter: LoraAdapter): tf.Variable[] {
  return [...adapter.layers.values()].flatMap((l) => [l.a, l.b]);
}

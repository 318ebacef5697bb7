/**
 * A Hugging Face `config.json` reduced to what the forward pass needs, under one vocabulary for
 * both families: Llama-style (Llama, Qwen2, Mistral: RMSNorm, RoPE, SwiGLU, grouped-query
 * attention) and GPT-2 (LayerNorm, learned positions, GELU MLP, fused qkv).
 */

import { ARCHITECTURE_TRAITS, architectureOf, isSupportedArchitecture, SUPPORTED_ARCHITECTURES, type Architecture, type ModelFamily } from './architectures.ts';

export { SUPPORTED_ARCHITECTURES, type Architecture, type ModelFamily };

export type Activation = 'silu' | 'gelu_new' | 'gelu' | 'relu';

/** Llama 3's frequency-dependent RoPE scaling, or the older linear position interpolation. */
export type RopeScaling =
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number }
  | { type: 'linear'; factor: number };

export interface ModelConfig {
  architecture: Architecture;
  family: ModelFamily;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  maxPositions: number;
  normEps: number;
  activation: Activation;
  tieWordEmbeddings: boolean;
  /** Llama family only. */
  ropeTheta: number;
  ropeScaling: RopeScaling | undefined;
  /** Mistral: each token attends to itself and the `slidingWindow - 1` tokens before it. */
  slidingWindow: number | undefined;
  /** Qwen3: RMSNorm over each head's query and key (q_norm, k_norm, over head_dim) before RoPE. */
  qkNorm: boolean;
  /** Whether q/k/v (and o for Llama's attention_bias) carry biases: Qwen2 always, Llama optionally. */
  attentionBias: boolean;
  outputBias: boolean;
  mlpBias: boolean;
  /** GPT-2 option: attention scores further divided by (layer index + 1). */
  scaleAttnByInverseLayerIdx: boolean;
  initializerRange: number;
  bosTokenId: number | undefined;
  eosTokenIds: number[];
  padTokenId: number | undefined;
  /** The config.json as read, for writing it back unchanged. */
  raw: Record<string, unknown>;
}

export class UnsupportedArchitectureError extends Error {
  constructor(readonly found: string, where: string) {
    super(`${where}: architecture "${found}" is not supported; supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`);
  }
}

export class ModelConfigError extends Error {}

function ids(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return [];
}

/** Reads a config.json object; `where` names the file in error messages. */
export function parseModelConfig(raw: Record<string, unknown>, where = 'config.json'): ModelConfig {
  const architecture = architectureOf(raw);
  if (architecture === undefined) throw new ModelConfigError(`${where} names no architecture ("architectures" or "model_type")`);
  if (!isSupportedArchitecture(architecture)) throw new UnsupportedArchitectureError(architecture, where);
  const arch = architecture;
  const traits = ARCHITECTURE_TRAITS[arch];

  const int = (key: string, fallback?: number): number => {
    const value = raw[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new ModelConfigError(`${where}: "${key}" must be a positive whole number, got ${JSON.stringify(raw[key])}`);
    return value;
  };
  const num = (key: string, fallback: number): number => {
    const value = raw[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ModelConfigError(`${where}: "${key}" must be a number, got ${JSON.stringify(raw[key])}`);
    return value;
  };
  const common = {
    architecture: arch,
    bosTokenId: typeof raw.bos_token_id === 'number' ? raw.bos_token_id : undefined,
    eosTokenIds: ids(raw.eos_token_id),
    padTokenId: typeof raw.pad_token_id === 'number' ? raw.pad_token_id : undefined,
    initializerRange: num('initializer_range', 0.02),
    raw,
  };

  if (traits.family === 'gpt2') {
    const hiddenSize = int('n_embd', 768);
    const numHeads = int('n_head', 12);
    if (hiddenSize % numHeads !== 0) throw new ModelConfigError(`${where}: n_embd (${hiddenSize}) must be divisible by n_head (${numHeads})`);
    if (raw.reorder_and_upcast_attn === true) throw new ModelConfigError(`${where}: reorder_and_upcast_attn is not supported`);
    return {
      ...common,
      family: 'gpt2',
      vocabSize: int('vocab_size', 50257),
      hiddenSize,
      numLayers: int('n_layer', 12),
      numHeads,
      numKvHeads: numHeads,
      headDim: hiddenSize / numHeads,
      intermediateSize: typeof raw.n_inner === 'number' ? raw.n_inner : 4 * hiddenSize,
      maxPositions: int('n_positions', 1024),
      normEps: num('layer_norm_epsilon', 1e-5),
      activation: activation(raw.activation_function ?? 'gelu_new', where),
      tieWordEmbeddings: raw.tie_word_embeddings !== false,
      ropeTheta: 0,
      ropeScaling: undefined,
      slidingWindow: undefined,
      qkNorm: false,
      attentionBias: true,
      outputBias: true,
      mlpBias: true,
      scaleAttnByInverseLayerIdx: raw.scale_attn_by_inverse_layer_idx === true,
    };
  }

  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) throw new ModelConfigError(`${where}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  const headDim = typeof raw.head_dim === 'number' ? raw.head_dim : hiddenSize / numHeads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new ModelConfigError(`${where}: the head size (${headDim}) must be an even whole number`);
  // Qwen only slides the window when use_sliding_window is set, and then only above
  // max_window_layers; no released Qwen2 or Qwen3 checkpoint turns it on, so it is refused, not guessed.
  if (traits.slidingWindow === 'refused-when-enabled' && raw.use_sliding_window === true) throw new ModelConfigError(`${where}: ${arch} with use_sliding_window is not supported`);
  const window = traits.slidingWindow === 'applied' && typeof raw.sliding_window === 'number' ? raw.sliding_window : undefined;
  return {
    ...common,
    family: 'llama',
    vocabSize: int('vocab_size'),
    hiddenSize,
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: int('intermediate_size'),
    maxPositions: int('max_position_embeddings', 2048),
    normEps: num('rms_norm_eps', 1e-6),
    activation: activation(raw.hidden_act ?? 'silu', where),
    tieWordEmbeddings: raw.tie_word_embeddings === true,
    ropeTheta: num('rope_theta', 10000),
    ropeScaling: ropeScaling(raw.rope_scaling, where),
    slidingWindow: window,
    qkNorm: traits.qkNorm,
    // Qwen2 always has q/k/v biases and never an o_proj one; the others follow attention_bias for all four.
    attentionBias: traits.qkvBias === 'always' || raw.attention_bias === true,
    outputBias: traits.qkvBias === 'attention_bias' && raw.attention_bias === true,
    mlpBias: raw.mlp_bias === true,
    scaleAttnByInverseLayerIdx: false,
  };
}

function activation(value: unknown, where: string): Activation {
  switch (value) {
    case 'silu':
    case 'swish':
      return 'silu';
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return 'gelu_new';
    case 'gelu':
      return 'gelu';
    case 'relu':
      return 'relu';
    default:
      throw new ModelConfigError(`${where}: activation ${JSON.stringify(value)} is not supported (silu, gelu_new, gelu_pytorch_tanh, gelu, relu)`);
  }
}

function ropeScaling(value: unknown, where: string): RopeScaling | undefined {
  if (value === null || value === undefined) return undefined;
  const s = value as Record<string, unknown>;
  const type = s.rope_type ?? s.type;
  const factor = Number(s.factor);
  if (type === 'default') return undefined;
  if (type === 'linear' && factor > 0) return { type: 'linear', factor };
  if (type === 'llama3') {
    const scaling = {
      type: 'llama3' as const,
      factor,
      lowFreqFactor: Number(s.low_freq_factor),
      highFreqFactor: Number(s.high_freq_factor),
      originalMaxPositionEmbeddings: Number(s.original_max_position_embeddings),
    };
    if (![scaling.factor, scaling.lowFreqFactor, scaling.highFreqFactor, scaling.originalMaxPositionEmbeddings].every((n) => Number.isFinite(n) && n > 0) || scaling.highFreqFactor <= scaling.lowFreqFactor)
      throw new ModelConfigError(`${where}: rope_scaling llama3 needs factor, low_freq_factor < high_freq_factor and original_max_position_embeddings, all positive`);
    return scaling;
  }
  throw new ModelConfigError(`${where}: rope_scaling ${JSON.stringify(type)} is not supported (llama3, linear, default)`);
}

import type { ModelConfig } from './modelConfig.ts';

/**
 * Every parameter a model has, named exactly as in Hugging Face checkpoints, with its shape and
 * how a fresh model initialises it (as transformers' `_init_weights` does). One list serves the
 * loader (what must be in the file), init-model (what to write) and LoRA (which linears exist).
 */

export interface ParameterSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'ones' | 'zeros';
  /** Standard deviation for 'normal'. */
  std: number;
}

/** A linear layer: where its weight lives and which way round it is stored. */
export interface LinearSpec {
  /** Module path, e.g. `model.layers.0.self_attn.q_proj` (the weight is `<path>.weight`). */
  path: string;
  inFeatures: number;
  outFeatures: number;
  /** GPT-2's Conv1D stores the weight as [in, out]; nn.Linear as [out, in]. */
  conv1d: boolean;
  hasBias: boolean;
}

export const GPT2_PREFIX = 'transformer.';

export function linearSpecs(config: ModelConfig): LinearSpec[] {
  const specs: LinearSpec[] = [];
  const D = config.hiddenSize;
  const add = (path: string, inFeatures: number, outFeatures: number, hasBias: boolean, conv1d = false) => specs.push({ path, inFeatures, outFeatures, conv1d, hasBias });
  for (let i = 0; i < config.numLayers; i++) {
    if (config.family === 'gpt2') {
      const p = `${GPT2_PREFIX}h.${i}`;
      add(`${p}.attn.c_attn`, D, 3 * D, true, true);
      add(`${p}.attn.c_proj`, D, D, true, true);
      add(`${p}.mlp.c_fc`, D, config.intermediateSize, true, true);
      add(`${p}.mlp.c_proj`, config.intermediateSize, D, true, true);
    } else {
      const p = `model.layers.${i}`;
      const qDim = config.numHeads * config.headDim;
      const kvDim = config.numKvHeads * config.headDim;
      add(`${p}.self_attn.q_proj`, D, qDim, config.attentionBias);
      add(`${p}.self_attn.k_proj`, D, kvDim, config.attentionBias);
      add(`${p}.self_attn.v_proj`, D, kvDim, config.attentionBias);
      add(`${p}.self_attn.o_proj`, qDim, D, config.outputBias);
      add(`${p}.mlp.gate_proj`, D, config.intermediateSize, config.mlpBias);
      add(`${p}.mlp.up_proj`, D, config.intermediateSize, config.mlpBias);
      add(`${p}.mlp.down_proj`, config.intermediateSize, D, config.mlpBias);
    }
  }
  return specs;
}

/** The name of the output projection, or the embedding it is tied to. */
export function lmHeadName(config: ModelConfig): string {
  if (!config.tieWordEmbeddings) return 'lm_head.weight';
  return config.family === 'gpt2' ? `${GPT2_PREFIX}wte.weight` : 'model.embed_tokens.weight';
}

export function parameterSpecs(config: ModelConfig): ParameterSpec[] {
  const std = config.initializerRange;
  const D = config.hiddenSize;
  const specs: ParameterSpec[] = [];
  const normal = (name: string, shape: number[], s = std) => specs.push({ name, shape, init: 'normal', std: s });
  const ones = (name: string, shape: number[]) => specs.push({ name, shape, init: 'ones', std: 0 });
  const zeros = (name: string, shape: number[]) => specs.push({ name, shape, init: 'zeros', std: 0 });
  const linears = new Map(linearSpecs(config).map((l) => [l.path, l]));
  const linear = (path: string, s = std) => {
    const l = linears.get(path)!;
    normal(`${path}.weight`, l.conv1d ? [l.inFeatures, l.outFeatures] : [l.outFeatures, l.inFeatures], s);
    if (l.hasBias) zeros(`${path}.bias`, [l.outFeatures]);
  };

  if (config.family === 'gpt2') {
    const p = GPT2_PREFIX;
    normal(`${p}wte.weight`, [config.vocabSize, D]);
    normal(`${p}wpe.weight`, [config.maxPositions, D]);
    // GPT-2 scales the residual projections by 1/sqrt(2 * n_layer) (the paper's section 2.3).
    const residualStd = std / Math.sqrt(2 * config.numLayers);
    for (let i = 0; i < config.numLayers; i++) {
      const h = `${p}h.${i}`;
      ones(`${h}.ln_1.weight`, [D]);
      zeros(`${h}.ln_1.bias`, [D]);
      linear(`${h}.attn.c_attn`);
      linear(`${h}.attn.c_proj`, residualStd);
      ones(`${h}.ln_2.weight`, [D]);
      zeros(`${h}.ln_2.bias`, [D]);
      linear(`${h}.mlp.c_fc`);
      linear(`${h}.mlp.c_proj`, residualStd);
    }
    ones(`${p}ln_f.weight`, [D]);
    zeros(`${p}ln_f.bias`, [D]);
  } else {
    normal('model.embed_tokens.weight', [config.vocabSize, D]);
    for (let i = 0; i < config.numLayers; i++) {
      const p = `model.layers.${i}`;
      ones(`${p}.input_layernorm.weight`, [D]);
      for (const proj of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) linear(`${p}.self_attn.${proj}`);
      if (config.qkNorm) {
        ones(`${p}.self_attn.q_norm.weight`, [config.headDim]);
        ones(`${p}.self_attn.k_norm.weight`, [config.headDim]);
      }
      ones(`${p}.post_attention_layernorm.weight`, [D]);
      for (const proj of ['gate_proj', 'up_proj', 'down_proj']) linear(`${p}.mlp.${proj}`);
    }
    ones('model.norm.weight', [D]);
  }
  if (!config.tieWordEmbeddings) normal('lm_head.weight', [config.vocabSize, D]);
  return specs;
}

/**
 * Maps a checkpoint key to our name, or undefined for keys that are buffers rather than
 * parameters (GPT-2's causal-mask `attn.bias`, old rotary `inv_freq` caches). GPT-2 weights
 * saved from the bare GPT2Model lack the `transformer.` prefix.
 */
export function canonicalName(config: ModelConfig, key: string): string | undefined {
  if (key.endsWith('.rotary_emb.inv_freq') || key.endsWith('.attn.masked_bias')) return undefined;
  if (config.family !== 'gpt2') return key;
  if (/\.attn\.bias$/.test(key)) return undefined;
  if (key === 'lm_head.weight' || key.startsWith(GPT2_PREFIX)) return key;
  return GPT2_PREFIX + key;
}

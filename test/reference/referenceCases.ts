import type { InitModelOptions } from '../../src/trainer/model/initModel.ts';

/**
 * The models and token sequences the numpy reference (reference_logps.py) scores. Weights are
 * drawn larger than a real init (initializer_range 0.3, random norm gains and biases) so that
 * log-probabilities are far from uniform and every weight visibly matters.
 */
export interface ReferenceCase {
  name: string;
  init: InitModelOptions;
  sequences: number[][];
}

/** Deterministic, irregular token ids below `vocab`. */
function sequence(length: number, salt: number, vocab = 1024): number[] {
  const ids: number[] = [];
  let x = salt * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    ids.push((x >>> 8) % vocab);
  }
  return ids;
}

const SEQUENCES = [sequence(6, 1), sequence(13, 2), sequence(19, 3)];
const common = { size: 'tiny', randomizeAll: true } as const;

export const REFERENCE_CASES: ReferenceCase[] = [
  { name: 'llama', init: { ...common, arch: 'llama', seed: 11, configOverrides: { initializer_range: 0.3, tie_word_embeddings: false } }, sequences: SEQUENCES },
  {
    name: 'llama3-rope-scaling',
    init: {
      ...common,
      arch: 'llama',
      seed: 12,
      // head_dim 16, theta 10000: wavelengths 6.3, 20, 63, 199, ... against 64/4 = 16 and 64/1 = 64,
      // so the unchanged, smoothed and divided bands are all exercised.
      configOverrides: { initializer_range: 0.3, rope_theta: 10000, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } },
    },
    sequences: SEQUENCES,
  },
  { name: 'qwen2', init: { ...common, arch: 'qwen2', seed: 13, configOverrides: { initializer_range: 0.3 } }, sequences: SEQUENCES },
  // head_dim 32 with hidden 64 and 4 heads (not 16), q/k norms with random gains, biases on all four projections, untied head.
  { name: 'qwen3', init: { ...common, arch: 'qwen3', seed: 17, configOverrides: { initializer_range: 0.3, attention_bias: true, tie_word_embeddings: false } }, sequences: SEQUENCES },
  // The same shape stored in bfloat16, as Qwen3 checkpoints are published (tied embeddings, no biases).
  { name: 'qwen3-bf16', init: { ...common, arch: 'qwen3', seed: 18, dtype: 'BF16', configOverrides: { initializer_range: 0.3 } }, sequences: SEQUENCES },
  // A window of 5 is shorter than two of the sequences, so the sliding window is exercised.
  { name: 'mistral', init: { ...common, arch: 'mistral', seed: 14, configOverrides: { initializer_range: 0.3, sliding_window: 5 } }, sequences: SEQUENCES },
  { name: 'gpt2', init: { ...common, arch: 'gpt2', seed: 15, configOverrides: { initializer_range: 0.3 } }, sequences: SEQUENCES },
  { name: 'gpt2-inverse-layer-scale', init: { ...common, arch: 'gpt2', seed: 16, configOverrides: { initializer_range: 0.3, scale_attn_by_inverse_layer_idx: true, tie_word_embeddings: false } }, sequences: SEQUENCES },
];

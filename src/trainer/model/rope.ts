import type { ModelConfig } from './modelConfig.ts';

/**
 * Rotary position embedding (RoFormer, Su et al. 2021) as Llama uses it: the "rotate half"
 * layout, where a head's dimension i is paired with dimension i + headDim/2, and the angle of
 * pair i at position p is p * theta^(-2i/headDim).
 */

/** theta^(-2i/d) for i < d/2, with Llama 3's or linear scaling applied. */
export function ropeInverseFrequencies(config: Pick<ModelConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float32Array {
  const half = config.headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / config.ropeTheta ** ((2 * i) / config.headDim);
  const scaling = config.ropeScaling;
  if (scaling?.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] = inv[i]! / scaling.factor;
  } else if (scaling?.type === 'llama3') {
    // Llama 3.1: long wavelengths (beyond the original context) are stretched by `factor`,
    // short ones kept, and the band between blended smoothly (transformers'
    // _compute_llama3_parameters).
    const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: oldContext } = scaling;
    const lowFreqWavelen = oldContext / lowFreqFactor;
    const highFreqWavelen = oldContext / highFreqFactor;
    for (let i = 0; i < half; i++) {
      const f = inv[i]!;
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < highFreqWavelen) continue;
      if (wavelen > lowFreqWavelen) {
        inv[i] = f / factor;
        continue;
      }
      const smooth = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      inv[i] = (1 - smooth) * (f / factor) + smooth * f;
    }
  }
  return inv;
}

/**
 * cos and sin of every (position, dimension) angle, laid out [positions.length, headDim] with
 * the half-size angle table repeated twice, as `torch.cat((freqs, freqs), dim=-1)` does.
 */
export function ropeCosSin(invFreq: Float32Array, positions: ArrayLike<number>): { cos: Float32Array; sin: Float32Array } {
  const half = invFreq.length;
  const dim = 2 * half;
  const cos = new Float32Array(positions.length * dim);
  const sin = new Float32Array(positions.length * dim);
  for (let p = 0; p < positions.length; p++) {
    const position = positions[p]!;
    for (let i = 0; i < half; i++) {
      // float32 product, as the reference computes `inv_freq @ position_ids` in float32
      const angle = Math.fround(position * invFreq[i]!);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[p * dim + i] = c;
      cos[p * dim + half + i] = c;
      sin[p * dim + i] = s;
      sin[p * dim + half + i] = s;
    }
  }
  return { cos, sin };
}

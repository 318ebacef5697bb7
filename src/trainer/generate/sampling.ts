import type { SeededRandom } from '../model/random.ts';

/**
 * Picks the next token from one row of logits, as transformers' logits warpers do, in their
 * order: temperature, then top-k, then top-p (nucleus, Holtzman et al. 2019). Temperature 0
 * (or no sampling) is greedy: the highest logit, the lowest id on ties.
 */

export interface SamplingOptions {
  /** 0 (default) = greedy. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 or undefined: all). */
  topP?: number;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, random: SeededRandom): number {
  const temperature = options.temperature ?? 0;
  if (temperature <= 0) return argmax(logits);
  // Candidates sorted by logit, highest first (stable: lower id first on ties).
  let order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (options.topK !== undefined && options.topK > 0) order = order.slice(0, options.topK);
  const max = logits[order[0]!]! / temperature;
  const weights = order.map((i) => Math.exp(logits[i]! / temperature - max));
  let total = weights.reduce((a, b) => a + b, 0);
  const topP = options.topP ?? 1;
  if (topP < 1) {
    let kept = 0;
    let cumulative = 0;
    // Keep tokens until the mass before them reaches p (at least one token stays).
    while (kept < order.length && (kept === 0 || cumulative / total < topP)) cumulative += weights[kept++]!;
    order = order.slice(0, kept);
    weights.length = kept;
    total = cumulative;
  }
  let u = random.uniform() * total;
  for (let k = 0; k < order.length; k++) {
    u -= weights[k]!;
    if (u < 0) return order[k]!;
  }
  return order[order.length - 1]!;
}

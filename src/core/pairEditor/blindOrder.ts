import { blindSwap } from '../labeling/decisions.ts';

/**
 * The order in which blind mode shows a record's `n` answers: a permutation of 0..n-1 that the
 * labeler can't predict but that stays the same when they come back to the record (it depends
 * only on the session's seed and the record's index). For a pair (0 = chosen, 1 = rejected) it
 * is the labeling core's `blindSwap`.
 */
export function blindOrder(seed: number, recordIndex: number, n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (n === 2) return blindSwap(seed, recordIndex) ? [1, 0] : order;
  let state = (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) ^ Math.imul(recordIndex + 1, 0x165667b1)) >>> 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

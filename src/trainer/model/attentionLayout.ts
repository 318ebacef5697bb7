/**
 * Where each token sits and what it may attend to, for a batch of padded sequences. Positions
 * are counted over real tokens only (cumsum of the mask minus one, as transformers does when
 * generating), so a sequence gets the same positions whether it is padded on the left, on the
 * right or not at all, and so the same log-probabilities.
 */

/** Added to the scores of keys a query must not see: large enough that exp() gives exactly 0,
 * finite so that a row with nothing visible (a padding query) gives no NaN. */
export const MASKED = -1e9;

export interface AttentionLayout {
  /** [batch * queryLength] position of each query token. */
  positions: Int32Array;
  /** [batch, 1, queryLength, keyLength] additive mask: 0 where visible, MASKED elsewhere. */
  additiveMask: Float32Array;
  keyLength: number;
}

/**
 * @param mask [batch * keyLength], 1 for tokens and 0 for padding, covering the cached past
 *   and the `queryLength` new tokens (which are the last ones).
 * @param slidingWindow when set, a query sees itself and the `slidingWindow - 1` keys before it.
 *
 * See `packedAttentionLayout` for several records packed into one row.
 */
export function attentionLayout(mask: ArrayLike<number>, batch: number, queryLength: number, slidingWindow?: number): AttentionLayout {
  const keyLength = mask.length / batch;
  if (!Number.isInteger(keyLength) || keyLength < queryLength) throw new Error(`attention mask has ${mask.length} entries, which is not batch (${batch}) times a length of at least ${queryLength}`);
  const past = keyLength - queryLength;
  const positions = new Int32Array(batch * queryLength);
  const additiveMask = new Float32Array(batch * queryLength * keyLength).fill(MASKED);
  for (let b = 0; b < batch; b++) {
    const row = b * keyLength;
    let seen = 0;
    for (let s = 0; s < past; s++) if (mask[row + s]) seen++;
    for (let t = 0; t < queryLength; t++) {
      const absolute = past + t;
      if (mask[row + absolute]) seen++;
      positions[b * queryLength + t] = Math.max(seen - 1, 0);
      const first = slidingWindow ? Math.max(0, absolute - slidingWindow + 1) : 0;
      const out = (b * queryLength + t) * keyLength;
      for (let s = first; s <= absolute; s++) if (mask[row + s]) additiveMask[out + s] = 0;
    }
  }
  return { positions, additiveMask, keyLength };
}

/**
 * The layout of packed rows (no cache): `segments` [batch * length] numbers each token's record
 * within its row (1, 2, ...; 0 for padding). A token attends only to the earlier tokens of its
 * own record, and positions restart at 0 with each record: block-diagonal causal attention, so
 * a packed record gets exactly the log-probabilities it gets alone (what transformers builds from
 * the restarting position_ids of TRL's packed batches).
 */
export function packedAttentionLayout(segments: ArrayLike<number>, batch: number, length: number, slidingWindow?: number): AttentionLayout {
  if (segments.length !== batch * length) throw new Error(`segment ids have ${segments.length} entries, expected ${batch} × ${length}`);
  const positions = new Int32Array(batch * length);
  const additiveMask = new Float32Array(batch * length * length).fill(MASKED);
  for (let b = 0; b < batch; b++) {
    const row = b * length;
    let start = 0;
    for (let t = 0; t < length; t++) {
      const segment = segments[row + t]!;
      if (t > 0 && segment !== segments[row + t - 1]) start = t;
      if (segment === 0) continue;
      positions[row + t] = t - start;
      const first = Math.max(start, slidingWindow ? t - slidingWindow + 1 : 0);
      const out = (row + t) * length;
      for (let s = first; s <= t; s++) additiveMask[out + s] = 0;
    }
  }
  return { positions, additiveMask, keyLength: length };
}

/**
 * Min/max levels over one series, so a chart of 100,000 points draws a few hundred: for each
 * pixel column it is enough to draw the lowest and the highest point in it (the line then
 * looks exactly as with every point). Level k holds, per bucket of 2^k consecutive points, the
 * index of its lowest and of its highest finite value (-1: none). Appending points recomputes
 * only the buckets they fall into, one per level; a whole series builds in O(n).
 */
export class MinMaxPyramid {
  /** levels[k - 1]: [min, max] index pairs of the buckets of 2^k points. */
  private levels: Int32Array[] = [];
  private built = 0;
  private generation: unknown = undefined;

  /** Points covered so far. */
  get size(): number {
    return this.built;
  }

  /**
   * Brings the levels up to `length` points of `ys`. `generation` names the data: when it
   * changes (rows removed, smoothing changed), everything is rebuilt.
   */
  sync(ys: Float64Array, length: number, generation: unknown): void {
    if (generation !== this.generation || length < this.built) {
      this.generation = generation;
      this.built = 0;
      this.levels = [];
    }
    if (length === this.built) return;
    const from = this.built;
    let count = length;
    for (let k = 1; count > 1; k++) {
      const buckets = Math.ceil(length / 2 ** k);
      const level = this.level(k, buckets);
      const lower = k === 1 ? undefined : this.levels[k - 2]!;
      for (let j = from >> k; j < buckets; j++) {
        let min = -1;
        let max = -1;
        if (!lower) {
          for (let i = 2 * j; i < Math.min(2 * j + 2, length); i++) {
            const v = ys[i]!;
            if (!Number.isFinite(v)) continue;
            if (min < 0 || v < ys[min]!) min = i;
            if (max < 0 || v > ys[max]!) max = i;
          }
        } else {
          const childCount = Math.ceil(length / 2 ** (k - 1));
          for (let c = 2 * j; c < Math.min(2 * j + 2, childCount); c++) {
            const cmin = lower[2 * c]!;
            const cmax = lower[2 * c + 1]!;
            if (cmin >= 0 && (min < 0 || ys[cmin]! < ys[min]!)) min = cmin;
            if (cmax >= 0 && (max < 0 || ys[cmax]! > ys[max]!)) max = cmax;
          }
        }
        level[2 * j] = min;
        level[2 * j + 1] = max;
      }
      count = buckets;
    }
    this.built = length;
  }

  /**
   * Appends to `out` the indices of the points to draw for rows [i0, i1), in increasing order:
   * all of them when they fit in `maxBuckets` pixel columns twice over, else the lowest and the
   * highest of each bucket of the coarsest level that still gives `maxBuckets` buckets or more.
   */
  select(ys: Float64Array, i0: number, i1: number, maxBuckets: number, out: number[]): void {
    const count = i1 - i0;
    if (count <= 0) return;
    if (count <= 2 * maxBuckets || this.levels.length === 0) {
      for (let i = i0; i < i1; i++) if (Number.isFinite(ys[i]!)) out.push(i);
      return;
    }
    let k = Math.max(1, Math.floor(Math.log2(count / Math.max(1, maxBuckets))));
    k = Math.min(k, this.levels.length);
    const size = 2 ** k;
    const level = this.levels[k - 1]!;
    const first = i0 >> k;
    const last = (i1 - 1) >> k;
    for (let j = first; j <= last; j++) {
      let min: number;
      let max: number;
      if (j === first || j === last) {
        // Edge buckets reach past the range: scan just their part inside it.
        min = -1;
        max = -1;
        for (let i = Math.max(i0, j * size); i < Math.min(i1, (j + 1) * size); i++) {
          const v = ys[i]!;
          if (!Number.isFinite(v)) continue;
          if (min < 0 || v < ys[min]!) min = i;
          if (max < 0 || v > ys[max]!) max = i;
        }
      } else {
        min = level[2 * j]!;
        max = level[2 * j + 1]!;
      }
      if (min < 0) continue;
      if (min === max) out.push(min);
      else if (min < max) out.push(min, max);
      else out.push(max, min);
    }
  }

  private level(k: number, buckets: number): Int32Array {
    let level = this.levels[k - 1];
    if (!level || level.length < 2 * buckets) {
      const grown = new Int32Array(Math.max(Math.ceil(3 * buckets), level ? level.length * 2 : 64)).fill(-1);
      if (level) grown.set(level);
      level = grown;
      this.levels[k - 1] = level;
    }
    return level;
  }
}

/** First index of sorted `xs[0, length)` with xs[i] >= x. */
export function lowerBound(xs: Float64Array, length: number, x: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index of sorted `xs[0, length)` with xs[i] > x. */
export function upperBound(xs: Float64Array, length: number, x: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

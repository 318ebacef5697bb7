/**
 * TensorBoard's scalar smoothing: an exponential moving average with its start-up bias
 * removed, so the first points are not dragged towards zero. `weight` is the slider value
 * (0: no smoothing, 0.99: heavy). Non-finite values (missing points) are skipped, not averaged
 * in, and stay missing in the output.
 */

/** The most smoothing the slider offers: at 1 the curve would never move. */
export const MAX_SMOOTHING = 0.999;

export function clampSmoothing(weight: number): number {
  if (!Number.isFinite(weight) || weight <= 0) return 0;
  return Math.min(weight, MAX_SMOOTHING);
}

/** The running state, so points that arrive later continue the curve without recomputing it. */
export class EmaSmoother {
  readonly weight: number;
  private last = 0;
  private count = 0;

  constructor(weight: number) {
    this.weight = clampSmoothing(weight);
  }

  next(value: number): number {
    if (!Number.isFinite(value)) return Number.NaN;
    if (this.weight === 0) return value;
    this.last = this.last * this.weight + (1 - this.weight) * value;
    this.count++;
    // Debias: the average started at 0, so early on it is scaled down by (1 - w^n).
    return this.last / (1 - this.weight ** this.count);
  }
}

/** Smooths a whole series; `out` may be given to reuse memory. */
export function emaSmooth(values: ArrayLike<number>, weight: number, out: Float64Array = new Float64Array(values.length)): Float64Array {
  const smoother = new EmaSmoother(weight);
  for (let i = 0; i < values.length; i++) out[i] = smoother.next(values[i]!);
  return out;
}

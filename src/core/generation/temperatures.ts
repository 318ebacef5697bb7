/**
 * A spread of temperatures across a prompt's candidates. Sampling every candidate at one
 * temperature tends to give variations of one answer; spreading them from careful (low) to
 * adventurous (high) gives the labeler answers that differ in kind, which is what makes a
 * preference pair informative.
 */

export type TemperatureSpread = readonly [low: number, high: number];

/** `a,b` as typed on a command line or in a setting, checked. */
export function parseTemperatureSpread(text: string): TemperatureSpread {
  const parts = text.split(',').map((p) => p.trim());
  const numbers = parts.map(Number);
  if (parts.length !== 2 || parts.some((p) => p === '') || numbers.some((n) => !Number.isFinite(n) || n < 0))
    throw new Error(`a temperature spread is two temperatures, 0 or more, as "low,high" (e.g. 0.3,1.2), got "${text}"`);
  const [a, b] = numbers as [number, number];
  return a <= b ? [a, b] : [b, a];
}

/**
 * The temperature of each of `n` candidates: evenly spaced from low to high, both ends
 * included; one candidate gets the middle. Without a spread every candidate gets `base`.
 */
export function candidateTemperatures(n: number, base: number, spread?: TemperatureSpread): number[] {
  if (!spread) return new Array<number>(n).fill(base);
  const [low, high] = spread;
  if (n === 1) return [round((low + high) / 2)];
  return Array.from({ length: n }, (_, i) => round(low + ((high - low) * i) / (n - 1)));
}

/** Six decimals: 0.1 + 0.2 is written as 0.3 in the candidates' meta, not 0.30000000000000004. */
function round(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

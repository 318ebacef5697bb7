// What every benchmark measures with: order statistics of samples, and the time one call takes.

/** The value at quantile `q` (0..1) of the samples: the sorted sample at floor(q × n). */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export const median = (values: number[]): number => quantile(values, 0.5);

export interface CallTime {
  /** Wall-clock milliseconds per call. */
  wall: number;
  /** Process CPU milliseconds per call (user + system): steadier than wall time on a shared machine. */
  cpu: number;
}

/** Calls `f` again and again for at least `minMs` of wall time; the mean time per call. No warm-up. */
export function msPerCall(f: () => void, minMs: number): CallTime {
  let calls = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let now = start;
  do {
    f();
    calls++;
    now = performance.now();
  } while (now - start < minMs);
  const cpu = process.cpuUsage(cpu0);
  return { wall: (now - start) / calls, cpu: (cpu.user + cpu.system) / 1000 / calls };
}

/** Seconds between consecutive steps' logs (a log every step), the first `warmup` steps left out. */
export function stepIntervals(times: readonly number[], warmup: number): number[] {
  return times.slice(1).map((t, i) => t - times[i]!).slice(warmup);
}

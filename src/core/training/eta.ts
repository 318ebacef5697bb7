/**
 * Time left in a run, from the pace of its recent steps. Only steps of the current process
 * count: a resumed run spends its first seconds loading, and the pace before a restart may
 * have been on another machine.
 */

export interface ProgressSample {
  step: number;
  /** Seconds since the run started (the trainer's `elapsed_seconds`, or the event's clock time). */
  seconds: number;
}

/** How many recent steps set the pace: enough to even out eval pauses, few enough to follow a change. */
export const ETA_WINDOW = 20;

export interface Eta {
  secondsPerStep: number;
  remainingSeconds: number;
}

/** Undefined until two steps of this process are known, or when the run is past its last step. */
export function estimateEta(samples: readonly ProgressSample[], totalSteps: number | undefined, window = ETA_WINDOW): Eta | undefined {
  if (totalSteps === undefined || samples.length < 2) return undefined;
  const recent = samples.slice(-Math.max(2, window));
  const first = recent[0]!;
  const last = recent[recent.length - 1]!;
  const steps = last.step - first.step;
  const seconds = last.seconds - first.seconds;
  if (steps <= 0 || !(seconds >= 0)) return undefined;
  const secondsPerStep = seconds / steps;
  return { secondsPerStep, remainingSeconds: Math.max(0, totalSteps - last.step) * secondsPerStep };
}

/** 45s, 3m07s, 2h05m: short enough for a status bar. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

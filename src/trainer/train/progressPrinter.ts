/**
 * Human progress on stderr, one line per logging step:
 *   step 40/200 (20%) | loss 0.5123 | acc 0.81 | margin 0.412 | 1,830 tok/s | 1m12s, ETA 4m48s
 * The JSON events on stdout carry the same numbers for programs.
 */

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export interface ProgressLine {
  step: number;
  totalSteps: number;
  metrics: Record<string, number>;
  /** Seconds of training so far in this process and steps done in it, for the ETA. */
  elapsedSeconds: number;
  stepsThisProcess: number;
  secondsThisProcess: number;
}

export function formatProgress(p: ProgressLine): string {
  const m = p.metrics;
  const percent = Math.floor((100 * p.step) / Math.max(1, p.totalSteps));
  const perStep = p.secondsThisProcess / Math.max(1, p.stepsThisProcess);
  const parts = [
    `step ${p.step}/${p.totalSteps} (${percent}%)`,
    `loss ${m.loss!.toFixed(4)}`,
    `acc ${m['rewards/accuracies']!.toFixed(2)}`,
    `margin ${m['rewards/margins']!.toFixed(3)}`,
    `${Math.round(m.tokens_per_second ?? 0).toLocaleString('en-US')} tok/s`,
    `${formatDuration(p.elapsedSeconds)}, ETA ${formatDuration(perStep * (p.totalSteps - p.step))}`,
  ];
  return parts.join(' | ');
}

export function formatEval(step: number, metrics: Record<string, number>): string {
  return `eval at step ${step} | loss ${metrics.eval_loss!.toFixed(4)} | acc ${metrics['eval_rewards/accuracies']!.toFixed(2)} | margin ${metrics['eval_rewards/margins']!.toFixed(3)}`;
}

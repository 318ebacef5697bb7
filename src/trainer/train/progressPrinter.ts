/**
 * Human progress on stderr, one line per logging step:
 *   step 40/200 (20%) | loss 0.5123 | acc 0.81 | margin 0.412 | 1,830 tok/s | 1m12s, ETA 4m48s
 * (an SFT run shows its token accuracy instead of reward accuracy and margin). The JSON events
 * on stdout carry the same numbers for programs.
 */

/** The stage's quality numbers after the loss: DPO's reward accuracy and margin, SFT's token accuracy. */
function qualityParts(m: Record<string, number>, prefix: string): string[] {
  const tokenAccuracy = m[`${prefix}mean_token_accuracy`];
  if (tokenAccuracy !== undefined) return [`token acc ${tokenAccuracy.toFixed(3)}`];
  const parts: string[] = [];
  const accuracy = m[`${prefix}rewards/accuracies`];
  const margin = m[`${prefix}rewards/margins`];
  if (accuracy !== undefined) parts.push(`acc ${accuracy.toFixed(2)}`);
  if (margin !== undefined) parts.push(`margin ${margin.toFixed(3)}`);
  return parts;
}

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
    `loss ${(m.loss ?? NaN).toFixed(4)}`,
    ...qualityParts(m, ''),
    `${Math.round(m.tokens_per_second ?? 0).toLocaleString('en-US')} tok/s`,
    `${formatDuration(p.elapsedSeconds)}, ETA ${formatDuration(perStep * (p.totalSteps - p.step))}`,
  ];
  return parts.join(' | ');
}

export function formatEval(step: number, metrics: Record<string, number>): string {
  return [`eval at step ${step}`, `loss ${(metrics.eval_loss ?? NaN).toFixed(4)}`, ...qualityParts(metrics, 'eval_')].join(' | ');
}

import type { LrSchedulerType } from '../config/types.ts';

export interface LearningRateSchedule {
  peak: number;
  totalSteps: number;
  /** Steps of linear warm-up from 0 to `peak`. */
  warmupSteps: number;
  type: LrSchedulerType;
}

/** Warm-up steps from the config: explicit steps win over a ratio, as in transformers. */
export function warmupStepsFor(totalSteps: number, warmupSteps: number, warmupRatio: number): number {
  return warmupSteps > 0 ? warmupSteps : Math.ceil(totalSteps * warmupRatio);
}

/**
 * The learning rate for an optimizer step (0-based), as transformers' schedulers compute it:
 * linear warm-up, then constant, linear decay to 0, or half a cosine to 0.
 */
export function learningRateAt(step: number, schedule: LearningRateSchedule): number {
  const { peak, totalSteps, warmupSteps, type } = schedule;
  if (step < warmupSteps) return (peak * step) / Math.max(1, warmupSteps);
  if (type === 'constant') return peak;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  if (type === 'linear') return peak * Math.max(0, 1 - progress);
  return peak * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

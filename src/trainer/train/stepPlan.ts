import { planBatches, type BatchPlan, type ExampleRef } from '../../core/training/batchPlan.ts';
import type { TrainingSection } from '../../core/config/types.ts';

/**
 * Optimizer steps over the batch plan, counted as transformers' Trainer counts them: an epoch
 * of M micro-batches makes ceil(M / accumulation) steps, the last one taking what is left, so
 * no step straddles two epochs; `num_epochs` may be fractional (ceil(num_epochs × steps per
 * epoch) steps), and `max_steps` > 0 overrides it, planning as many epochs as that needs.
 */
export interface StepPlan {
  batchPlan: BatchPlan;
  microBatchesPerEpoch: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /** Index of the first micro-batch of a step (1-based) in the plan, and how many it takes. */
  microBatchRange(step: number): { start: number; count: number };
  microBatches(step: number): ExampleRef[][];
  /** Epochs done after a step, fractional. */
  epochAfter(step: number): number;
  endsEpoch(step: number): boolean;
}

export function planSteps(sizes: number[], weights: number[], training: Pick<TrainingSection, 'num_epochs' | 'batch_size' | 'gradient_accumulation_steps' | 'max_steps' | 'seed'>): StepPlan {
  const total = sizes.reduce((a, b) => a + b, 0);
  const accumulation = training.gradient_accumulation_steps;
  const microBatchesPerEpoch = Math.ceil(total / training.batch_size);
  const stepsPerEpoch = Math.ceil(microBatchesPerEpoch / accumulation);
  const totalSteps = total === 0 ? 0 : training.max_steps > 0 ? training.max_steps : Math.ceil(training.num_epochs * stepsPerEpoch);
  const epochs = stepsPerEpoch === 0 ? 0 : Math.max(1, Math.ceil(totalSteps / stepsPerEpoch));
  const batchPlan = planBatches({ sizes, weights, epochs, batchSize: training.batch_size, accumulation, seed: training.seed });
  const microBatchRange = (step: number) => {
    const epoch = Math.floor((step - 1) / stepsPerEpoch);
    const within = (step - 1) % stepsPerEpoch;
    const first = within * accumulation;
    return { start: epoch * microBatchesPerEpoch + first, count: Math.min(accumulation, microBatchesPerEpoch - first) };
  };
  return {
    batchPlan,
    microBatchesPerEpoch,
    stepsPerEpoch,
    totalSteps,
    microBatchRange,
    microBatches(step) {
      const { start, count } = microBatchRange(step);
      return batchPlan.microBatches.slice(start, start + count);
    },
    epochAfter(step) {
      const epoch = Math.floor((step - 1) / stepsPerEpoch);
      const { start, count } = microBatchRange(step);
      return epoch + (start + count - epoch * microBatchesPerEpoch) / microBatchesPerEpoch;
    },
    endsEpoch: (step) => step % stepsPerEpoch === 0,
  };
}

import type * as tf from '@tensorflow/tfjs-core';
import { microBatchEval, microBatchGradients, type StepContext } from './dpoStep.ts';
import { sftMicroBatchEval, sftMicroBatchGradients, type SftContext, type SftMicroBatchStats } from './sftStep.ts';
import { addMicroBatch, emptySums, metricsOf, type MetricSums, type MicroBatchStats } from './trainMetrics.ts';
import { exampleTargets } from '../tokenizer/sftTokens.ts';
import type { SftExample, TrainingExample } from './trainingData.ts';

/**
 * What differs between the stages inside the training loop: the loss of a micro-batch, how the
 * micro-batches of a step weigh in, the metrics of a logging window and of an evaluation. The
 * loop itself (schedule, clipping, optimizer, logging, checkpoints, stop, faults) is the same
 * for both, so an SFT run stops, resumes and fails exactly as a DPO run does.
 */

/** The open logging window of an SFT run (TRL's SFTTrainer metrics). */
export interface SftSums {
  kind: 'sft';
  /** Sum of the steps' losses (each the step's mean NLL per trained target). */
  stepLoss: number;
  /** Sum and count of micro-batch token accuracies (TRL averages them per micro-batch). */
  accuracySum: number;
  accuracyBatches: number;
  tokens: number;
  steps: number;
  seconds: number;
}

export type StageWindow = MetricSums | SftSums;

export interface StageMicroBatch {
  grads: Map<string, tf.Tensor>;
  /** The micro-batch's loss: checked to be finite before its update is applied. */
  loss: number;
  stats: unknown;
}

export interface TrainingStage {
  readonly kind: 'dpo' | 'sft';
  /** The gradient scale of each micro-batch of one optimizer step. */
  scales(microBatches: ReadonlyArray<readonly unknown[]>): number[];
  microBatch(examples: readonly unknown[], beta: number, scale: number): StageMicroBatch;
  emptyWindow(): StageWindow;
  /** Adds a finished step's micro-batches to the window. */
  addStep(window: StageWindow, stats: readonly unknown[], seconds: number): void;
  /** The window's metrics; `tokensSeen`: input tokens trained on so far, over the whole run. */
  metrics(window: StageWindow, tokensSeen: number): Record<string, number>;
  /** Tokens a micro-batch put through the model (its stats). */
  tokensOf(stats: unknown): number;
  evaluate(examples: readonly unknown[], batchSize: number, beta: number, tokensSeen: number): Record<string, number>;
}

export function dpoStage(ctx: StepContext): TrainingStage {
  return {
    kind: 'dpo',
    scales: (microBatches) => microBatches.map(() => 1 / microBatches.length),
    microBatch(examples, beta, scale) {
      const { grads, stats } = microBatchGradients(ctx, examples as TrainingExample[], beta, scale);
      return { grads, loss: stats.loss, stats };
    },
    emptyWindow: emptySums,
    addStep(window, stats, seconds) {
      const sums = window as MetricSums;
      for (const s of stats) addMicroBatch(sums, s as MicroBatchStats);
      sums.steps++;
      sums.seconds += seconds;
    },
    metrics: (window) => metricsOf(window as MetricSums),
    tokensOf: (stats) => (stats as MicroBatchStats).tokens,
    evaluate(examples, batchSize, beta) {
      const sums = emptySums();
      for (let i = 0; i < examples.length; i += batchSize) addMicroBatch(sums, microBatchEval(ctx, examples.slice(i, i + batchSize) as TrainingExample[], beta));
      return metricsOf(sums, 'eval_');
    },
  };
}

function emptySftSums(): SftSums {
  return { kind: 'sft', stepLoss: 0, accuracySum: 0, accuracyBatches: 0, tokens: 0, steps: 0, seconds: 0 };
}

const accuracyOf = (s: SftMicroBatchStats) => (s.targets > 0 ? s.correct / s.targets : 0);

/** `packed`: eval batches weigh 1 each (TRL flattens a packed batch into one row), else by their rows. */
export function sftStage(ctx: SftContext, packed: boolean): TrainingStage {
  return {
    kind: 'sft',
    scales(microBatches) {
      const targets = microBatches.reduce((n, batch) => n + (batch as SftExample[]).reduce((m, e) => m + exampleTargets(e), 0), 0);
      return microBatches.map(() => 1 / Math.max(1, targets));
    },
    microBatch(examples, _beta, scale) {
      const { grads, stats } = sftMicroBatchGradients(ctx, examples as SftExample[], scale);
      return { grads, loss: stats.nll * scale, stats };
    },
    emptyWindow: emptySftSums,
    addStep(window, stats, seconds) {
      const sums = window as SftSums;
      const all = stats as SftMicroBatchStats[];
      const targets = all.reduce((n, s) => n + s.targets, 0);
      sums.stepLoss += all.reduce((n, s) => n + s.nll, 0) / Math.max(1, targets);
      for (const s of all) {
        sums.accuracySum += accuracyOf(s);
        sums.accuracyBatches++;
        sums.tokens += s.tokens;
      }
      sums.steps++;
      sums.seconds += seconds;
    },
    metrics(window, tokensSeen) {
      const sums = window as SftSums;
      return { loss: sums.stepLoss / Math.max(1, sums.steps), mean_token_accuracy: sums.accuracySum / Math.max(1, sums.accuracyBatches), num_tokens: tokensSeen };
    },
    tokensOf: (stats) => (stats as SftMicroBatchStats).tokens,
    evaluate(examples, batchSize, _beta, tokensSeen) {
      let weighted = 0;
      let weights = 0;
      let accuracy = 0;
      let batches = 0;
      for (let i = 0; i < examples.length; i += batchSize) {
        const stats = sftMicroBatchEval(ctx, examples.slice(i, i + batchSize) as SftExample[]);
        const weight = packed ? 1 : stats.rows;
        weighted += (stats.nll / Math.max(1, stats.targets)) * weight;
        weights += weight;
        accuracy += accuracyOf(stats);
        batches++;
      }
      return { eval_loss: weighted / Math.max(1, weights), eval_mean_token_accuracy: accuracy / Math.max(1, batches), eval_num_tokens: tokensSeen };
    },
  };
}

import type { ChartColor } from './theme.ts';

export interface ChartMetric {
  table: 'train' | 'eval';
  /** The metric's name in the trainer's stream (TRL's). */
  name: string;
  label: string;
  color: ChartColor;
}

export interface ChartDef {
  /** Also the PNG's file name. */
  id: string;
  title: string;
  metrics: ChartMetric[];
  /** Log scale makes sense only for values that are always positive. */
  logAllowed: boolean;
  /** The stages whose runs this chart describes: shown while a plotted run is of one of them. */
  stages: readonly Stage[];
}

export type Stage = 'dpo' | 'sft';
const BOTH: readonly Stage[] = ['dpo', 'sft'];
const DPO: readonly Stage[] = ['dpo'];
const SFT: readonly Stage[] = ['sft'];

const train = (name: string, label: string, color: ChartColor): ChartMetric => ({ table: 'train', name, label, color });
const evals = (name: string, label: string, color: ChartColor): ChartMetric => ({ table: 'eval', name, label, color });

/**
 * The charts, in the order a run is read: is it learning, is it separating the answers (DPO) or
 * predicting the completions (SFT), is it healthy. An SFT run has no rewards to draw.
 */
export const CHARTS: ChartDef[] = [
  { id: 'loss', title: 'Loss', logAllowed: true, stages: BOTH, metrics: [train('loss', 'train loss', 'blue'), evals('eval_loss', 'eval loss', 'orange'), train('nll_loss', 'NLL loss', 'purple')] },
  { id: 'token-accuracy', title: 'Token accuracy', logAllowed: false, stages: SFT, metrics: [train('mean_token_accuracy', 'train accuracy', 'blue'), evals('eval_mean_token_accuracy', 'eval accuracy', 'orange')] },
  { id: 'rewards', title: 'Rewards: chosen vs rejected', logAllowed: false, stages: DPO, metrics: [train('rewards/chosen', 'chosen', 'green'), train('rewards/rejected', 'rejected', 'red')] },
  { id: 'margins', stages: DPO, title: 'Reward margin', logAllowed: false, metrics: [train('rewards/margins', 'train margin', 'purple'), evals('eval_rewards/margins', 'eval margin', 'orange')] },
  { id: 'accuracies', stages: DPO, title: 'Reward accuracy', logAllowed: false, metrics: [train('rewards/accuracies', 'train accuracy', 'blue'), evals('eval_rewards/accuracies', 'eval accuracy', 'orange')] },
  { id: 'logps', stages: DPO, title: 'Log-probabilities', logAllowed: false, metrics: [train('logps/chosen', 'chosen', 'green'), train('logps/rejected', 'rejected', 'red')] },
  { id: 'learning-rate', stages: BOTH, title: 'Learning rate', logAllowed: true, metrics: [train('learning_rate', 'learning rate', 'yellow')] },
  { id: 'grad-norm', stages: BOTH, title: 'Gradient norm', logAllowed: true, metrics: [train('grad_norm', 'grad norm', 'purple')] },
  { id: 'throughput', stages: BOTH, title: 'Tokens per second', logAllowed: true, metrics: [train('tokens_per_second', 'tokens/s', 'green')] },
];

/** Dash patterns that tell overlaid runs apart (the first run solid). */
export const RUN_DASHES: number[][] = [[], [8, 4], [2, 3], [12, 4, 2, 4], [6, 2, 2, 2]];

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
}

const train = (name: string, label: string, color: ChartColor): ChartMetric => ({ table: 'train', name, label, color });
const evals = (name: string, label: string, color: ChartColor): ChartMetric => ({ table: 'eval', name, label, color });

/** The charts, in the order a DPO run is read: is it learning, is it separating the answers, is it healthy. */
export const CHARTS: ChartDef[] = [
  { id: 'loss', title: 'Loss', logAllowed: true, metrics: [train('loss', 'train loss', 'blue'), evals('eval_loss', 'eval loss', 'orange'), train('nll_loss', 'NLL loss', 'purple')] },
  { id: 'rewards', title: 'Rewards: chosen vs rejected', logAllowed: false, metrics: [train('rewards/chosen', 'chosen', 'green'), train('rewards/rejected', 'rejected', 'red')] },
  { id: 'margins', title: 'Reward margin', logAllowed: false, metrics: [train('rewards/margins', 'train margin', 'purple'), evals('eval_rewards/margins', 'eval margin', 'orange')] },
  { id: 'accuracies', title: 'Reward accuracy', logAllowed: false, metrics: [train('rewards/accuracies', 'train accuracy', 'blue'), evals('eval_rewards/accuracies', 'eval accuracy', 'orange')] },
  { id: 'logps', title: 'Log-probabilities', logAllowed: false, metrics: [train('logps/chosen', 'chosen', 'green'), train('logps/rejected', 'rejected', 'red')] },
  { id: 'learning-rate', title: 'Learning rate', logAllowed: true, metrics: [train('learning_rate', 'learning rate', 'yellow')] },
  { id: 'grad-norm', title: 'Gradient norm', logAllowed: true, metrics: [train('grad_norm', 'grad norm', 'purple')] },
  { id: 'throughput', title: 'Tokens per second', logAllowed: true, metrics: [train('tokens_per_second', 'tokens/s', 'green')] },
];

/** Dash patterns that tell overlaid runs apart (the first run solid). */
export const RUN_DASHES: number[][] = [[], [8, 4], [2, 3], [12, 4, 2, 4], [6, 2, 2, 2]];

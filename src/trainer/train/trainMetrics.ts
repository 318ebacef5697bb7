/**
 * Metrics as TRL's DPO trainer names them (`rewards/chosen`, `logps/rejected`, ...), averaged
 * over the pairs of a logging window or of an evaluation. The running sums are plain numbers so
 * a checkpoint can carry an open window and a resumed run logs exactly what an uninterrupted
 * one would have.
 */

/** What one micro-batch contributes. Arrays have one entry per pair. */
export interface MicroBatchStats {
  pairs: number;
  /** Mean loss of the micro-batch (the preference loss plus any NLL term). */
  loss: number;
  chosenRewards: ArrayLike<number>;
  rejectedRewards: ArrayLike<number>;
  chosenLogps: ArrayLike<number>;
  rejectedLogps: ArrayLike<number>;
  chosenMeanLogit: number;
  rejectedMeanLogit: number;
  nllLoss?: number;
  tokens: number;
}

export interface MetricSums {
  pairs: number;
  loss: number;
  chosenRewards: number;
  rejectedRewards: number;
  accuracies: number;
  margins: number;
  chosenLogps: number;
  rejectedLogps: number;
  chosenLogits: number;
  rejectedLogits: number;
  /** Pairs whose micro-batch had an NLL term, and its sum over them. */
  nllPairs: number;
  nllLoss: number;
  tokens: number;
  /** Optimizer steps in the window and the seconds they took. */
  steps: number;
  seconds: number;
}

export function emptySums(): MetricSums {
  return { pairs: 0, loss: 0, chosenRewards: 0, rejectedRewards: 0, accuracies: 0, margins: 0, chosenLogps: 0, rejectedLogps: 0, chosenLogits: 0, rejectedLogits: 0, nllPairs: 0, nllLoss: 0, tokens: 0, steps: 0, seconds: 0 };
}

export function addMicroBatch(sums: MetricSums, stats: MicroBatchStats): void {
  const n = stats.pairs;
  sums.pairs += n;
  sums.loss += stats.loss * n;
  for (let i = 0; i < n; i++) {
    const chosen = stats.chosenRewards[i]!;
    const rejected = stats.rejectedRewards[i]!;
    sums.chosenRewards += chosen;
    sums.rejectedRewards += rejected;
    // TRL: (chosen_rewards > rejected_rewards).float(), so a tie (the first step) counts as wrong.
    sums.accuracies += chosen > rejected ? 1 : 0;
    sums.margins += chosen - rejected;
    sums.chosenLogps += stats.chosenLogps[i]!;
    sums.rejectedLogps += stats.rejectedLogps[i]!;
  }
  sums.chosenLogits += stats.chosenMeanLogit * n;
  sums.rejectedLogits += stats.rejectedMeanLogit * n;
  if (stats.nllLoss !== undefined) {
    sums.nllPairs += n;
    sums.nllLoss += stats.nllLoss * n;
  }
  sums.tokens += stats.tokens;
}

/** Per-pair means under TRL's names, with `prefix` (`eval_`) in front of each. */
export function metricsOf(sums: MetricSums, prefix = ''): Record<string, number> {
  const n = Math.max(1, sums.pairs);
  const metrics: Record<string, number> = {
    loss: sums.loss / n,
    'rewards/chosen': sums.chosenRewards / n,
    'rewards/rejected': sums.rejectedRewards / n,
    'rewards/accuracies': sums.accuracies / n,
    'rewards/margins': sums.margins / n,
    'logps/chosen': sums.chosenLogps / n,
    'logps/rejected': sums.rejectedLogps / n,
    'logits/chosen': sums.chosenLogits / n,
    'logits/rejected': sums.rejectedLogits / n,
  };
  if (sums.nllPairs > 0) metrics.nll_loss = sums.nllLoss / sums.nllPairs;
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [prefix + k, v]));
}

import { SeededRandom } from './seededRandom.ts';

/** One example of a mix: which dataset and which record of it. */
export interface ExampleRef {
  dataset: number;
  record: number;
}

export interface BatchPlanInput {
  /** Number of usable records in each training dataset. */
  sizes: number[];
  /** Relative share of each dataset in an epoch (multi-objective DPO); equal when omitted. */
  weights?: number[];
  epochs: number;
  /** Examples per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer step. */
  accumulation: number;
  seed: number;
}

export interface BatchPlan {
  /** Micro-batches in order; an optimizer step takes `accumulation` of them. */
  microBatches: ExampleRef[][];
  optimizerSteps: number;
  examplesPerEpoch: number;
}

/**
 * Decides, before training starts, every example of every step: the order is a pure function
 * of the data sizes and the seed, so a resumed run continues with exactly the batches the
 * uninterrupted run would have seen. With several datasets, an epoch has as many examples as
 * all of them together, drawn from each in proportion to its weight: a dataset whose share is
 * larger than its size is repeated, a smaller share subsamples it, reshuffled every epoch.
 */
export function planBatches(input: BatchPlanInput): BatchPlan {
  const { sizes, epochs, batchSize, accumulation } = input;
  const weights = input.weights ?? sizes.map(() => 1);
  if (sizes.length === 0 || sizes.every((n) => n === 0)) return { microBatches: [], optimizerSteps: 0, examplesPerEpoch: 0 };
  const total = sizes.reduce((a, b) => a + b, 0);
  const perEpoch = apportion(total, sizes.map((n, i) => (n === 0 ? 0 : Math.max(0, weights[i]!))));
  const random = new SeededRandom(input.seed);
  const microBatches: ExampleRef[][] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const epochExamples: ExampleRef[] = [];
    sizes.forEach((size, dataset) => {
      const want = perEpoch[dataset]!;
      let drawn = 0;
      while (drawn < want) {
        for (const record of random.shuffle(Array.from({ length: size }, (_, i) => i))) {
          if (drawn++ >= want) break;
          epochExamples.push({ dataset, record });
        }
      }
    });
    const order = random.shuffle(epochExamples);
    for (let i = 0; i < order.length; i += batchSize) microBatches.push(order.slice(i, i + batchSize));
  }
  return {
    microBatches,
    optimizerSteps: Math.ceil(microBatches.length / Math.max(1, accumulation)),
    examplesPerEpoch: perEpoch.reduce((a, b) => a + b, 0),
  };
}

/** Splits `total` into whole shares proportional to `weights` that add up to exactly `total` (largest remainder). */
function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of byRemainder) {
    if (left-- <= 0) break;
    shares[i]!++;
  }
  return shares;
}

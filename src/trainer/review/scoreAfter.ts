import type { TrainingConfig } from '../../core/config/types.ts';
import { reviewSummary } from '../../core/review/reviewOrder.ts';
import type { RunOutput, TrainingSession } from '../train/trainingSession.ts';
import { pairTokensKey, tfjsPairCache } from './pairReferenceCache.ts';
import { runDatasets, scoreRun } from './scoreRun.ts';
import { openRun } from '../../core/review/scoredRun.ts';

/**
 * What the live reference gave the eval pairs during training, put where the scorer looks first
 * (its cache by pair): scoring the eval data at the end then costs the policy's pass alone.
 */
export function keepEvalReference(session: TrainingSession, out: RunOutput): void {
  const recorded = session.evalReference;
  const which = session.config.review?.score_after ?? 'eval';
  if (!recorded || recorded.values.size === 0 || which === 'none' || which === 'train') return;
  try {
    const cache = tfjsPairCache(session.outputDir, recorded.modelDir, session.modelPath, recorded.quantizationBits);
    for (const [example, [chosen, rejected]] of recorded.values) cache.set(pairTokensKey(example), chosen, rejected);
    cache.save();
  } catch (error) {
    out.log(`review: the eval pairs' reference log-probabilities were not kept (${(error as Error).message}); scoring computes them again`, 'warning');
  }
}

/**
 * `review.score_after`: when a DPO run completes, its final model scores the datasets named
 * (the eval data by default), so the dashboard's "Pairs to review" and the pair editor's review
 * have numbers at once. A failure here is a warning: the run itself completed.
 */
export async function scoreAfterRun(config: TrainingConfig, outputDir: string, cwd: string, out: RunOutput, signal?: AbortSignal): Promise<void> {
  const which = config.review?.score_after ?? 'eval';
  if (config.training.stage !== 'dpo' || which === 'none') return;
  // A stop asked for while the run finished is a stop: the scores can be made later (`dpo-studio score`).
  if (signal?.aborted) return out.log(`review: not scoring the data with the final model (stopped); \`dpo-studio score --run ${outputDir}\` does it later`);
  try {
    const datasets = runDatasets(openRun(outputDir), which);
    if (datasets.length === 0) return;
    const scores = await scoreRun({ runDir: outputDir, checkpoint: 'final', datasets, cwd, log: (line) => out.progress(line), ...(signal ? { signal } : {}) });
    for (const outcome of scores.outcomes) {
      const s = reviewSummary(outcome.file.records, 0);
      const share = s.agreement === null ? 'no pairs to score' : `the final model agrees with ${s.agreeing} of ${s.pairs} labels (${(100 * s.agreement).toFixed(1)}%), ${s.pairs - s.agreeing} to review`;
      out.log(`review: ${outcome.data}: ${share}; scores in ${outcome.path}`);
    }
  } catch (error) {
    if (signal?.aborted) return out.log(`review: scoring stopped; \`dpo-studio score --run ${outputDir}\` scores the data later`);
    out.log(`review: scoring the data with the final model failed (review.score_after ${which}): ${(error as Error).message}`, 'warning');
  }
}

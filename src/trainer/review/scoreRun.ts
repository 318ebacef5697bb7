import { resolve } from 'node:path';
import { trainSources } from '../../core/config/trainingConfig.ts';
import type { ReviewSection } from '../../core/config/types.ts';
import type { BackendRequest } from '../backend/index.ts';
import { TextTokenizer } from '../tokenizer/textTokenizer.ts';
import { scoreDataset, type ScoreDatasetOptions, type ScoreOutcome } from './scoreDataset.ts';
import { tfjsScoringEngine, type ScoringEngine } from './scoringEngine.ts';
import { openRun, resolveCheckpoint, type ScoredCheckpoint, type ScoredRun } from '../../core/review/scoredRun.ts';
import { trlScoringEngine } from '../../trlEngine/trlScoring.ts';

/**
 * Scoring a run's checkpoint on one or more datasets: the engine is set up once (the models
 * loaded once), then every dataset is scored and written. Used by `dpo-studio score` and by a
 * run's end (`review.score_after`).
 */

export interface ScoreRunOptions {
  runDir: string;
  checkpoint?: string;
  /** The datasets to score, each with the split it is read as; absent: the run's own per `review.score_after`, else all of them. */
  datasets?: Array<{ data: string; role: 'train' | 'eval'; out?: string }>;
  engine?: 'tfjs' | 'trl';
  backend?: BackendRequest;
  batchSize?: number;
  dataOverrides?: ScoreDatasetOptions['dataOverrides'];
  cwd: string;
  log: (line: string) => void;
  /** Aborting it stops between batches (the scores file is not written). */
  signal?: AbortSignal;
}

export interface RunScores {
  run: ScoredRun;
  checkpoint: ScoredCheckpoint;
  outcomes: Array<ScoreOutcome & { data: string }>;
}

/** A run's own datasets that `score_after` names: `eval`, `train`, `all` or `none`. */
export function runDatasets(run: ScoredRun, which: ReviewSection['score_after']): Array<{ data: string; role: 'train' | 'eval' }> {
  const train = which === 'train' || which === 'all' ? trainSources(run.config).map((s) => ({ data: s.path, role: 'train' as const })) : [];
  const evalData = (which === 'eval' || which === 'all') && run.config.data.eval_path !== undefined ? [{ data: run.config.data.eval_path, role: 'eval' as const }] : [];
  return [...train, ...evalData];
}

export async function createScoringEngine(run: ScoredRun, checkpoint: ScoredCheckpoint, engine: 'tfjs' | 'trl', options: { cwd: string; backend: BackendRequest; batchSize: number; padTokenId: number; log: (line: string) => void }): Promise<ScoringEngine> {
  return engine === 'trl' ? trlScoringEngine(run, checkpoint, options) : tfjsScoringEngine(run, checkpoint, options);
}

export async function scoreRun(options: ScoreRunOptions): Promise<RunScores> {
  const run = openRun(resolve(options.cwd, options.runDir));
  const checkpoint = resolveCheckpoint(run, options.checkpoint);
  const datasets: NonNullable<ScoreRunOptions['datasets']> = options.datasets ?? runDatasets(run, 'all');
  if (datasets.length === 0) throw new Error(`${run.dir}: the run names no dataset to score: give --data`);
  const tokenizer = TextTokenizer.fromFolder(run.modelPath);
  const engine = await createScoringEngine(run, checkpoint, options.engine ?? run.engine, {
    cwd: options.cwd,
    backend: options.backend ?? (run.config.training.backend as BackendRequest),
    batchSize: options.batchSize ?? run.config.training.batch_size,
    padTokenId: tokenizer.padTokenId,
    log: options.log,
  });
  const outcomes: RunScores['outcomes'] = [];
  try {
    for (const d of datasets) {
      const outcome = await scoreDataset({ run, checkpoint, engine, tokenizer, data: d.data, role: d.role, cwd: options.cwd, log: options.log, ...(d.out ? { out: d.out } : {}), ...(options.dataOverrides ? { dataOverrides: options.dataOverrides } : {}), ...(options.signal ? { signal: options.signal } : {}) });
      outcomes.push({ ...outcome, data: d.data });
    }
  } finally {
    engine.dispose();
  }
  return { run, checkpoint, outcomes };
}

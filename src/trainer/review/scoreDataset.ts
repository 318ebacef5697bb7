import { dirname } from 'node:path';
import type { ColumnMapping } from '../../core/dataset/columnMapping.ts';
import type { ValidRecord } from '../../core/dataset/readRecords.ts';
import { normalizeRecord } from '../../core/dataset/formats.ts';
import { writeFileAtomic } from '../../core/files/atomicWrite.ts';
import { makeDirs } from '../../core/files/makeDirs.ts';
import { agreesWithLabel, implicitReward, needsReference } from '../../core/review/implicitReward.ts';
import { recordKeys } from '../../core/review/recordKey.ts';
import { SCORES_FORMAT, SCORES_KIND, scoresPath, serializeScores, type CandidatesScore, type PairScore, type RecordScore, type ScoresFile } from '../../core/review/scoresFile.ts';
import type { DataSection } from '../../core/config/types.ts';
import { tokenizePair, type PairTokens } from '../tokenizer/pairTokens.ts';
import { scoredAnswerTokens } from '../logps/sequenceLogps.ts';
import type { TextTokenizer } from '../tokenizer/textTokenizer.ts';
import { readReferenceCache, referenceCacheKey, writeReferenceCache, type CachedValues } from '../train/referenceCache.ts';
import { describeSkipped, readDataSource, tokenizeSource, type LoadedDataset, type TrainingExample } from '../train/trainingData.ts';
import { rewardRule, type PairLogpsList, type ScoringEngine } from './scoringEngine.ts';
import { pairCacheKey, PairReferenceCache, pairTokensKey, referenceIdentity } from './pairReferenceCache.ts';
import type { ScoredCheckpoint, ScoredRun } from '../../core/review/scoredRun.ts';

/**
 * Scores every record of a dataset with a checkpoint: for a pair, the policy's and the
 * reference's log-probabilities of both answers, the implicit rewards and margin under the
 * run's loss, and whether the model agrees with the label; for a candidates record, every
 * answer's reward and their ranking. Records are read and tokenized exactly as training reads
 * them (the run's limits and column mapping), so a run's own data gets the numbers training saw.
 * The reference runs only over pairs whose log-probabilities are not known yet: training's cache
 * of the file (`precompute_ref_log_probs`), or the scorer's own cache by pair (which also holds
 * what evaluation computed for the eval pairs); what it computes is kept in both for next time.
 */

export interface ScoreDatasetOptions {
  run: ScoredRun;
  checkpoint: ScoredCheckpoint;
  engine: ScoringEngine;
  tokenizer: TextTokenizer;
  /** A file or a Hub dataset, as the config names data. */
  data: string;
  role: 'train' | 'eval';
  cwd: string;
  /** Overrides of the run's data section (a column mapping, a split). */
  dataOverrides?: { columns?: ColumnMapping; train_split?: string; eval_split?: string; revision?: string };
  /** Default: `<run>/scores/<checkpoint>/<name>-<hash>.jsonl`. */
  out?: string;
  log: (line: string) => void;
  /** Aborting it stops between batches, before anything is written. */
  signal?: AbortSignal;
}

export interface ScoreOutcome {
  path: string;
  file: ScoresFile;
  /** Records left out (errors, SFT records, too long), as validate locates them. */
  skipped: string[];
  /** Records whose log-probabilities came out NaN or infinite. */
  unscored: Array<{ index: number; line: number }>;
  /** Pairs whose reference log-probabilities were computed (the others came from `<run>/ref_logps`). */
  referenceComputed: number;
}

interface CandidateJob {
  record: ValidRecord;
  /** Candidate i is the chosen answer of pseudo-pair ⌊i/2⌋ when even, the rejected one when odd. */
  pairs: PairTokens[];
  count: number;
}

/** Every candidate as an answer to the prompt, two to a pseudo-pair (one forward pass scores both). */
function candidateJob(record: ValidRecord, tokenizer: TextTokenizer, data: DataSection): CandidateJob {
  const count = (record.value.candidates as unknown[]).length;
  const pairs: PairTokens[] = [];
  for (let i = 0; i < count; i += 2) {
    const pair = tokenizePair(tokenizer, { ...record.value, best: i, worst: Math.min(i + 1, count - 1) }, 'candidates', { maxLength: data.max_length, maxPromptLength: data.max_prompt_length, truncationMode: data.truncation_mode });
    pairs.push(pair);
  }
  return { record, pairs, count };
}

const scoredTokens = (pair: PairTokens, answer: readonly number[]) => scoredAnswerTokens(pair.promptIds.length, answer.length);

export async function scoreDataset(options: ScoreDatasetOptions): Promise<ScoreOutcome> {
  const { run, checkpoint, engine, tokenizer, log } = options;
  const data: DataSection = { ...run.config.data, ...options.dataOverrides };
  const source = await readDataSource(options.data, options.cwd, data, { role: options.role, log });
  const dataset: LoadedDataset = tokenizeSource(options.data, source, tokenizer, data);
  const records = new Map(source.records.records.map((r) => [r.span.index, r]));
  const candidates: CandidateJob[] = [];
  const notTokenizable: string[] = [];
  for (const record of source.records.records) {
    if (record.format !== 'candidates') continue;
    try {
      candidates.push(candidateJob(record, tokenizer, data));
    } catch (error) {
      notTokenizable.push(`${options.data}:${record.span.line}: record ${record.span.index}: ${(error as Error).message}`);
    }
  }
  const candidateIndices = new Set(candidates.map((c) => c.record.span.index));
  // Unlabelled candidates records are "not a pair yet" to training; here they are scored as candidates.
  const skipped = [...describeSkipped({ ...dataset, skipped: dataset.skipped.filter((s) => !candidateIndices.has(s.index)) } as LoadedDataset), ...notTokenizable];
  const pairExamples = dataset.examples.filter((e) => records.get(e.index)?.format !== 'candidates');

  const rule = rewardRule(run.config, checkpoint.step, run.totalSteps);
  const withReference = needsReference(rule) && engine.referenceDir !== undefined;
  const candidatePairs = candidates.flatMap((c) => c.pairs);
  // Every pair the engine runs: the records' pairs, then the candidates' pseudo-pairs.
  const pairs: PairTokens[] = [...pairExamples, ...candidatePairs];
  const reference = referenceSources(options, dataset, withReference);
  const known = pairs.map((p, i) => (i < pairExamples.length ? reference.fromTraining?.get(p as TrainingExample) : undefined) ?? reference.byPair?.get(pairTokensKey(p)));
  const wanted = known.map((k) => withReference && k === undefined);
  const started = Date.now();
  let lastShown = 0;
  const progress = (done: number, total: number) => {
    options.signal?.throwIfAborted();
    if (Date.now() - lastShown < 1000 && done < total) return;
    lastShown = Date.now();
    log(`scoring ${options.data}: ${done}/${total} pairs`);
  };
  const out = await engine.score(pairs, wanted, progress);
  const computed = wanted.filter(Boolean).length;
  const referenceSaid = !withReference ? '' : `; reference ${computed === 0 ? 'all cached' : computed === pairs.length ? engine.reference : `${pairs.length - computed} cached, ${computed} computed with ${engine.reference}`}`;
  log(`scored ${pairExamples.length + candidates.length} records of ${options.data} in ${((Date.now() - started) / 1000).toFixed(1)} s with ${checkpoint.name} (${engine.name} engine${referenceSaid})`);
  const referenceOf = (i: number): [number, number] | undefined => {
    if (!withReference) return undefined;
    if (!wanted[i]) {
      const k = known[i]!;
      return Array.isArray(k) ? k : [k.chosen, k.rejected];
    }
    return [out.reference.chosen[i]!, out.reference.rejected[i]!];
  };
  if (withReference && computed > 0) saveReference(options, dataset, pairs, wanted, out.reference, reference);

  const unscored: Array<{ index: number; line: number }> = [];
  const scores: RecordScore[] = [];
  pairExamples.forEach((example, i) => {
    const policy = { chosen: out.policy.chosen[i]!, rejected: out.policy.rejected[i]! };
    const refPair = referenceOf(i);
    const ref = { chosen: refPair?.[0], rejected: refPair?.[1] };
    const tokens = { chosen: scoredTokens(example, example.chosenIds), rejected: scoredTokens(example, example.rejectedIds) };
    const chosenReward = implicitReward(rule, { policy: policy.chosen, ...(ref.chosen !== undefined ? { reference: ref.chosen } : {}), tokens: tokens.chosen });
    const rejectedReward = implicitReward(rule, { policy: policy.rejected, ...(ref.rejected !== undefined ? { reference: ref.rejected } : {}), tokens: tokens.rejected });
    const margin = chosenReward - rejectedReward;
    if (!Number.isFinite(margin)) {
      unscored.push({ index: example.index, line: example.line });
      return;
    }
    const keys = recordKeys(normalizeRecord(records.get(example.index)!.value, records.get(example.index)!.format))!;
    const score: PairScore = {
      kind: 'pair',
      index: example.index,
      line: example.line,
      key: keys.key,
      swapped_key: keys.swappedKey!,
      chosen_logps: policy.chosen,
      rejected_logps: policy.rejected,
      ...(ref.chosen !== undefined ? { ref_chosen_logps: ref.chosen, ref_rejected_logps: ref.rejected! } : {}),
      chosen_tokens: tokens.chosen,
      rejected_tokens: tokens.rejected,
      chosen_reward: chosenReward,
      rejected_reward: rejectedReward,
      margin,
      agrees: agreesWithLabel(margin),
    };
    scores.push(score);
  });
  let offset = pairExamples.length;
  for (const job of candidates) {
    const answers = Array.from({ length: job.count }, (_, c) => {
      const p = offset + Math.floor(c / 2);
      const side = c % 2 === 0 ? 'chosen' : 'rejected';
      const pair = job.pairs[Math.floor(c / 2)]!;
      const logps = out.policy[side][p]!;
      const refLogps = referenceOf(p)?.[side === 'chosen' ? 0 : 1];
      const tokens = scoredTokens(pair, side === 'chosen' ? pair.chosenIds : pair.rejectedIds);
      return { logps, ...(refLogps !== undefined ? { ref_logps: refLogps } : {}), tokens, reward: implicitReward(rule, { policy: logps, ...(refLogps !== undefined ? { reference: refLogps } : {}), tokens }) };
    });
    offset += job.pairs.length;
    const span = job.record.span;
    if (!answers.every((a) => Number.isFinite(a.reward))) {
      unscored.push({ index: span.index, line: span.line });
      continue;
    }
    const score: CandidatesScore = {
      kind: 'candidates',
      index: span.index,
      line: span.line,
      key: recordKeys(normalizeRecord(job.record.value, 'candidates'))!.key,
      candidates: answers,
      ranking: answers.map((_, c) => c).sort((a, b) => answers[b]!.reward - answers[a]!.reward || a - b),
    };
    scores.push(score);
  }
  scores.sort((a, b) => a.index - b.index);
  const pairScores = scores.filter((s): s is PairScore => s.kind === 'pair');
  const file: ScoresFile = {
    header: {
      kind: SCORES_KIND,
      format: SCORES_FORMAT,
      run: run.dir,
      checkpoint: checkpoint.name,
      step: checkpoint.step,
      data: options.data,
      files: source.resolved.split(', '),
      data_sha256: dataset.sha256,
      loss_type: rule.lossType,
      beta: rule.beta,
      length_normalize: rule.lengthNormalize,
      engine: engine.name,
      reference: engine.reference,
      scored_at: new Date().toISOString(),
      pairs: pairScores.length,
      agreeing: pairScores.filter((s) => s.agrees).length,
      candidates: scores.length - pairScores.length,
      skipped: skipped.length + unscored.length,
    },
    records: scores,
  };
  const path = options.out ?? scoresPath(run.dir, checkpoint.name, source.resolved.split(', ')[0]!);
  makeDirs(dirname(path));
  writeFileAtomic(path, serializeScores(file));
  return { path, file, skipped, unscored, referenceComputed: computed };
}

interface ReferenceSources {
  /** Training's cache of this very file (precompute_ref_log_probs), tfjs only: its numbers are the ones training used. */
  fromTraining?: CachedValues;
  trainingKey?: string;
  byPair?: PairReferenceCache;
}

/** Where known reference log-probabilities come from: training's cache of this file, and the scorer's cache by pair. */
function referenceSources(options: ScoreDatasetOptions, dataset: LoadedDataset, withReference: boolean): ReferenceSources {
  const { run, engine } = options;
  if (!withReference || engine.referenceDir === undefined) return {};
  const quantize = run.config.quantization.use_quantization && run.config.lora.use_lora;
  const parts = referenceIdentity(engine.referenceDir, run.modelPath, quantize ? run.config.quantization.bits : null);
  const byPair = PairReferenceCache.open(run.dir, pairCacheKey({ engine: engine.name, ...parts }));
  if (engine.name !== 'tfjs' || dataset.examples.length === 0) return { byPair };
  const data = { ...run.config.data, ...options.dataOverrides };
  const trainingKey = referenceCacheKey({ ...parts, dataSha256: dataset.sha256, maxLength: data.max_length, maxPromptLength: data.max_prompt_length, truncationMode: data.truncation_mode });
  const fromTraining = readReferenceCache(run.dir, trainingKey, dataset);
  return { ...(fromTraining ? { fromTraining } : {}), trainingKey, byPair };
}

/** Keeps what the reference computed: by pair, and (tfjs, every pair of the file known) as training's cache of the file. */
function saveReference(options: ScoreDatasetOptions, dataset: LoadedDataset, pairs: readonly PairTokens[], wanted: readonly boolean[], computed: PairLogpsList, sources: ReferenceSources): void {
  try {
    pairs.forEach((p, i) => wanted[i] && sources.byPair?.set(pairTokensKey(p), computed.chosen[i]!, computed.rejected[i]!));
    sources.byPair?.save();
    if (sources.trainingKey && !sources.fromTraining && dataset.examples.length > 0) {
      const values: CachedValues = new Map();
      for (const e of dataset.examples) {
        const v = sources.byPair?.get(pairTokensKey(e));
        if (!v) return;
        values.set(e, { chosen: v[0], rejected: v[1] });
      }
      writeReferenceCache(options.run.dir, sources.trainingKey, dataset, values);
    }
  } catch (error) {
    options.log(`warning: the reference cache was not written: ${(error as Error).message}`);
  }
}


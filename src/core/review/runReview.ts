import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_LINT_OPTIONS, type LintOptions } from '../dataset/lintRules.ts';
import { analyzeRecord } from '../dataset/recordAnalysis.ts';
import { checkpointStep, RUN_LAYOUT } from '../training/engineContract.ts';
import { reviewSummary, type ReviewSummary } from './reviewOrder.ts';
import { readScoresFile, SCORES_DIR, scoresPath, type ScoresHeader } from './scoresFile.ts';

/**
 * What the dashboard's "Pairs to review" shows of a run: the scores of its final model (else of
 * its newest scored checkpoint), one entry per dataset, with the pairs the model disagrees with
 * most and the start of their prompts.
 */

export interface ReviewedDataset {
  /** The dataset file the scores are of, absolute. */
  dataFile: string;
  scoresFile: string;
  summary: ReviewSummary;
  candidates: number;
  /** The start of each top record's prompt, by record index ('' when it cannot be read). */
  prompts: Record<number, string>;
  /** The sha256 of the data as it was scored: the file differs from it when it changed since. */
  scoredSha256: string;
}

export interface RunReview {
  checkpoint: string;
  datasets: ReviewedDataset[];
}

const PROMPT_PREVIEW = 140;

/**
 * The dataset file a scores file is of: the file it read, else (a run folder copied from another
 * machine, where that path does not exist) the data as the config named it, under a workspace root.
 */
export function scoredDataFile(header: ScoresHeader, roots: readonly string[]): string | undefined {
  const candidates = [...header.files.slice(0, 1), ...(isAbsolute(header.data) ? [] : roots.map((root) => resolve(root, header.data)))];
  return candidates.find((file) => existsSync(file));
}

/** The scores a checkpoint of a run has of `file`: under its own name, else any scores file whose data is that file. */
export function findScores(runDir: string, checkpoint: string, file: string, roots: readonly string[]): string | undefined {
  const own = scoresPath(runDir, checkpoint, file);
  if (existsSync(own)) return own;
  const dir = join(runDir, SCORES_DIR, checkpoint);
  if (!existsSync(dir)) return undefined;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
    try {
      if (scoredDataFile(readScoresFile(join(dir, name)).header, roots) === file) return join(dir, name);
    } catch {
      // Not a scores file, or a torn one: not these scores.
    }
  }
  return undefined;
}

/** The checkpoint whose scores a run's review shows: final, else the highest step scored. */
export function reviewedCheckpoint(runDir: string): string | undefined {
  const dir = join(runDir, SCORES_DIR);
  if (!existsSync(dir)) return undefined;
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name);
  if (names.includes(RUN_LAYOUT.final)) return RUN_LAYOUT.final;
  return names.filter((n) => checkpointStep(n) !== undefined).sort((a, b) => checkpointStep(b)! - checkpointStep(a)!)[0];
}

function promptPreviews(file: string, indices: readonly number[], options: LintOptions): Record<number, string> {
  const out: Record<number, string> = {};
  if (!/\.jsonl$/i.test(file) || !existsSync(file)) return out;
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const index of indices) {
    // A JSON Lines record's index is its line's, blank lines aside: the score says which line.
    const source = lines[index];
    if (source === undefined) continue;
    const prompt = analyzeRecord(source, options).normalized?.promptText ?? '';
    out[index] = prompt.length > PROMPT_PREVIEW ? `${prompt.slice(0, PROMPT_PREVIEW)}…` : prompt;
  }
  return out;
}

export function runReview(runDir: string, options: { top?: number; lint?: LintOptions; roots?: readonly string[] } = {}): RunReview | undefined {
  const checkpoint = reviewedCheckpoint(runDir);
  if (!checkpoint) return undefined;
  const dir = join(runDir, SCORES_DIR, checkpoint);
  const datasets: ReviewedDataset[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    let scores;
    try {
      scores = readScoresFile(join(dir, name));
    } catch {
      continue;
    }
    const dataFile = scoredDataFile(scores.header, options.roots ?? []) ?? scores.header.files[0] ?? basename(name);
    const summary = reviewSummary(scores.records, options.top ?? 20);
    const byIndex = new Map(scores.records.map((r) => [r.index, r.line]));
    const prompts = promptPreviews(dataFile, summary.top.map((t) => byIndex.get(t.index)! - 1), options.lint ?? DEFAULT_LINT_OPTIONS);
    datasets.push({
      dataFile,
      scoresFile: join(dir, name),
      summary,
      candidates: scores.header.candidates,
      prompts: Object.fromEntries(summary.top.map((t) => [t.index, prompts[byIndex.get(t.index)! - 1] ?? ''])),
      scoredSha256: scores.header.data_sha256,
    });
  }
  return { checkpoint, datasets };
}

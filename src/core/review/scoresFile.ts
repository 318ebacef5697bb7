import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { LossType } from '../config/types.ts';

/**
 * A scores file: what a trained model thinks of every record of a dataset. The first line
 * says which run, checkpoint, rule and data; then one line per scored record, keyed by its
 * record index and line and by the hash of its texts (recordKey.ts), so a reader can tell a
 * current score from one the record has moved on from. Kept beside the run, under
 * `<output_dir>/scores/<checkpoint>/`, one file per dataset.
 */

export const SCORES_KIND = 'dpo-studio-scores';
export const SCORES_FORMAT = 1;
export const SCORES_DIR = 'scores';

export interface ScoresHeader {
  kind: typeof SCORES_KIND;
  format: number;
  /** The run's output folder, absolute. */
  run: string;
  /** `final` or `checkpoint-<step>`. */
  checkpoint: string;
  step: number | null;
  /** The dataset as named (a path or a Hub name) and the files read, absolute. */
  data: string;
  files: string[];
  data_sha256: string;
  loss_type: LossType;
  beta: number;
  length_normalize: boolean;
  engine: 'tfjs' | 'trl';
  /** What the reference was: "the base model with the adapter off", "none (simpo)", ... */
  reference: string;
  scored_at: string;
  /** Pairs scored, how many the model agrees with, and records left out (errors, SFT records). */
  pairs: number;
  agreeing: number;
  candidates: number;
  skipped: number;
}

export interface PairScore {
  kind: 'pair';
  index: number;
  line: number;
  key: string;
  swapped_key: string;
  chosen_logps: number;
  rejected_logps: number;
  /** Absent for reference-free losses. */
  ref_chosen_logps?: number;
  ref_rejected_logps?: number;
  chosen_tokens: number;
  rejected_tokens: number;
  chosen_reward: number;
  rejected_reward: number;
  margin: number;
  agrees: boolean;
}

export interface CandidateScore {
  logps: number;
  ref_logps?: number;
  tokens: number;
  reward: number;
}

export interface CandidatesScore {
  kind: 'candidates';
  index: number;
  line: number;
  key: string;
  candidates: CandidateScore[];
  /** Candidate indices by reward, highest first. */
  ranking: number[];
}

export type RecordScore = PairScore | CandidatesScore;

export interface ScoresFile {
  header: ScoresHeader;
  records: RecordScore[];
}

export class ScoresFileError extends Error {}

export function serializeScores(file: ScoresFile): string {
  return [file.header, ...file.records].map((value) => JSON.stringify(value)).join('\n') + '\n';
}

export function parseScores(text: string, path: string): ScoresFile {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  let header: ScoresHeader;
  try {
    header = JSON.parse(lines[0] ?? '') as ScoresHeader;
  } catch {
    throw new ScoresFileError(`${path}:1: not a scores file (its first line is not JSON)`);
  }
  if (header?.kind !== SCORES_KIND) throw new ScoresFileError(`${path}:1: not a scores file written by dpo-studio score`);
  if (header.format !== SCORES_FORMAT) throw new ScoresFileError(`${path}:1: scores format ${header.format}; this version reads ${SCORES_FORMAT}: score the data again`);
  const records = lines.slice(1).map((line, i) => {
    try {
      return JSON.parse(line) as RecordScore;
    } catch {
      throw new ScoresFileError(`${path}:${i + 2}: not JSON (a torn write?): score the data again`);
    }
  });
  return { header, records };
}

export function readScoresFile(path: string): ScoresFile {
  return parseScores(readFileSync(path, 'utf8'), path);
}

/**
 * Where a run keeps the scores of one dataset for one checkpoint: the file's name and a short
 * hash of its full path, so two `train.jsonl` of different folders do not share a file.
 */
export function scoresPath(runDir: string, checkpoint: string, data: string): string {
  const stem = basename(data).replace(/\.(jsonl|json|parquet)$/i, '').replace(/[^\w.-]+/g, '_').slice(0, 60) || 'data';
  const tag = createHash('sha256').update(data).digest('hex').slice(0, 8);
  return join(runDir, SCORES_DIR, checkpoint, `${stem}-${tag}.jsonl`);
}

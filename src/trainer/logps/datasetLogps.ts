import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_LINT_OPTIONS, type LintOptions } from '../../core/dataset/lintRules.ts';
import { readValidRecords, validRecordsOfText, type DatasetRecords, type SkippedRecord } from '../../core/dataset/readRecords.ts';
import { isSftFormat } from '../../core/dataset/types.ts';
import type { CausalLM } from '../model/causalLM.ts';
import { tokenizePair, type PairTokens, type TruncationOptions } from '../tokenizer/pairTokens.ts';
import type { TextTokenizer } from '../tokenizer/textTokenizer.ts';
import { pairBatchLogps } from '../train/pairBatchLogps.ts';

/** A dataset read with the core's validation and tokenized, with what had to be left out and why. */

export interface TokenizedRecord extends PairTokens {
  /** 0-based record index in the file. */
  index: number;
  line: number;
}

export interface TokenizedDataset {
  records: TokenizedRecord[];
  skipped: SkippedRecord[];
  /** File-level errors (broken JSON array, ...), located. */
  fileErrors: SkippedRecord[];
}

export type { SkippedRecord, ValidRecord } from '../../core/dataset/readRecords.ts';

/** Validates `text` (named `fileName` for its format: .jsonl or .json): the records without errors, each record with an error as a located skip, and the file's own errors. */
export function validRecords(text: string, fileName: string): DatasetRecords {
  return validRecordsOfText(text, fileName);
}

/** Validates `text` (named `fileName` for its format: .jsonl or .json) and tokenizes every record without errors. */
export function tokenizeDatasetText(text: string, fileName: string, tokenizer: TextTokenizer, truncation: TruncationOptions = {}): TokenizedDataset {
  const valid = validRecords(text, fileName);
  const tokenized = tokenizeRecords(valid, tokenizer, truncation);
  return { records: tokenized.records, skipped: [...valid.skipped, ...tokenized.skipped], fileErrors: valid.fileErrors };
}

/** Tokenizes the valid pairs of a dataset; SFT records and untokenizable ones come back as skips. */
export function tokenizeRecords(valid: DatasetRecords, tokenizer: TextTokenizer, truncation: TruncationOptions = {}): { records: TokenizedRecord[]; skipped: SkippedRecord[] } {
  const records: TokenizedRecord[] = [];
  const skipped: SkippedRecord[] = [];
  for (const { span, value: record, format } of valid.records) {
    if (isSftFormat(format)) {
      skipped.push({ index: span.index, line: span.line, column: span.column, code: 'sft-record', message: `a ${format} record is for supervised fine-tuning, not a preference pair (training.stage: sft trains on it)` });
      continue;
    }
    try {
      records.push({ index: span.index, line: span.line, ...tokenizePair(tokenizer, record, format, truncation) });
    } catch (e) {
      skipped.push({ index: span.index, line: span.line, column: span.column, code: 'not-tokenizable', message: (e as Error).message });
    }
  }
  return { records, skipped };
}

/** A dataset's files (JSON, JSONL or Parquet; `options.columns` maps their names), validated and tokenized. */
export async function tokenizeDatasetFile(files: string | readonly string[], tokenizer: TextTokenizer, truncation: TruncationOptions = {}, options: LintOptions = DEFAULT_LINT_OPTIONS): Promise<TokenizedDataset> {
  const valid = await readValidRecords(typeof files === 'string' ? [files] : files, options);
  const tokenized = tokenizeRecords(valid, tokenizer, truncation);
  return { records: tokenized.records, skipped: [...valid.skipped, ...tokenized.skipped], fileErrors: valid.fileErrors };
}

export interface RecordLogps {
  index: number;
  chosenLogps: number;
  rejectedLogps: number;
}

/**
 * Scores every record, `batchSize` pairs per forward pass. Records are batched by length (less
 * padding) and returned in file order; `onBatch` is told the progress.
 */
export async function datasetLogps(
  model: CausalLM,
  records: readonly TokenizedRecord[],
  padTokenId: number,
  options: { batchSize?: number; onBatch?: (done: number, total: number) => void } = {},
): Promise<RecordLogps[]> {
  const batchSize = Math.max(1, options.batchSize ?? 4);
  const order = records.map((_, i) => i).sort((a, b) => size(records[a]!) - size(records[b]!) || a - b);
  const out = new Array<RecordLogps>(records.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const slice = order.slice(start, start + batchSize);
    const pairs = slice.map((i) => records[i]!);
    const both = tf.tidy(() => {
      // Only the rows that predict an answer token go through the output head (the largest product of a small model).
      const logps = pairBatchLogps(model, pairs, padTokenId, { training: false });
      return tf.stack([logps.chosen, logps.rejected]);
    });
    const values = await both.data();
    both.dispose();
    slice.forEach((recordPosition, j) => {
      out[recordPosition] = { index: records[recordPosition]!.index, chosenLogps: values[j]!, rejectedLogps: values[slice.length + j]! };
    });
    options.onBatch?.(Math.min(start + batchSize, order.length), order.length);
  }
  return out;
}

function size(r: PairTokens): number {
  return r.promptIds.length + Math.max(r.chosenIds.length, r.rejectedIds.length);
}

import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { validateText } from '../../core/dataset/validateText.ts';
import { locateInFile } from '../../core/dataset/datasetValidation.ts';
import { isSftFormat, type RecordFormat } from '../../core/dataset/types.ts';
import type { RecordSpan } from '../../core/dataset/recordSpans.ts';
import type { CausalLM } from '../model/causalLM.ts';
import { tokenizePair, type PairTokens, type TruncationOptions } from '../tokenizer/pairTokens.ts';
import type { TextTokenizer } from '../tokenizer/textTokenizer.ts';
import { pairLogps } from './sequenceLogps.ts';

/** A dataset read with the core's validation and tokenized, with what had to be left out and why. */

export interface TokenizedRecord extends PairTokens {
  /** 0-based record index in the file. */
  index: number;
  line: number;
}

export interface SkippedRecord {
  index: number;
  line: number;
  column: number;
  code: string;
  message: string;
}

export interface TokenizedDataset {
  records: TokenizedRecord[];
  skipped: SkippedRecord[];
  /** File-level errors (broken JSON array, ...), located. */
  fileErrors: SkippedRecord[];
}

/** A record that passed validation, ready to tokenize. */
export interface ValidRecord {
  span: RecordSpan;
  value: Record<string, unknown>;
  format: RecordFormat;
}

/**
 * Validates `text` (named `fileName` for its format: .jsonl or .json) with the dataset core: the
 * records without errors, each record with an error as a located skip, and the file's own errors.
 */
export function validRecords(text: string, fileName: string): { records: ValidRecord[]; skipped: SkippedRecord[]; fileErrors: SkippedRecord[] } {
  const result = validateText(text, fileName);
  const records: ValidRecord[] = [];
  const skipped: SkippedRecord[] = [];
  const fileErrors = result.problems
    .filter((p) => p.severity === 'error' && p.recordIndex === undefined)
    .map((p) => ({ index: p.recordIndex ?? -1, line: p.line, column: p.column, code: p.code, message: p.message }));
  for (const { span, analysis } of result.records) {
    const error = analysis.problems.find((p) => p.severity === 'error');
    if (error) {
      const located = locateInFile(span, error);
      skipped.push({ index: span.index, line: located.line, column: located.column, code: error.code, message: error.message });
      continue;
    }
    records.push({ span, value: analysis.value as Record<string, unknown>, format: analysis.summary!.format });
  }
  return { records, skipped, fileErrors };
}

/** Validates `text` (named `fileName` for its format: .jsonl or .json) and tokenizes every record without errors. */
export function tokenizeDatasetText(text: string, fileName: string, tokenizer: TextTokenizer, truncation: TruncationOptions = {}): TokenizedDataset {
  const valid = validRecords(text, fileName);
  const records: TokenizedRecord[] = [];
  const { skipped, fileErrors } = valid;
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
  return { records, skipped, fileErrors };
}

export function tokenizeDatasetFile(path: string, tokenizer: TextTokenizer, truncation: TruncationOptions = {}): TokenizedDataset {
  return tokenizeDatasetText(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''), path, tokenizer, truncation);
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
      const logps = pairLogps(model, pairs, padTokenId);
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

import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '../model/causalLM.ts';
import { tokenLogProbs } from '../model/transformer.ts';
import type { PairTokens } from '../tokenizer/pairTokens.ts';

/**
 * Sums of log-probabilities over completion tokens, the quantity every DPO-family loss is built
 * from: log pi(y | x) = sum over answer tokens t of log pi(y_t | x, y_<t). Prompt and padding
 * tokens are masked out. Everything stays a differentiable tensor for the trainer.
 */

export interface ScoredSequence {
  promptIds: readonly number[];
  completionIds: readonly number[];
}

export type PaddingSide = 'right' | 'left';

export interface PaddedBatch {
  batch: number;
  length: number;
  /** [batch, length] int32 */
  inputIds: Int32Array;
  /** [batch, length]: 1 for tokens, 0 for padding. */
  attentionMask: Int32Array;
  /** [batch, length - 1]: 1 where the next-token target is a completion token. */
  completionMask: Float32Array;
  /** Completion tokens scored per sequence. */
  completionTokens: number[];
}

/** Answer tokens that get a log-probability: all of them, but the first when there is no prompt to predict it from. */
export function scoredAnswerTokens(promptLength: number, answerLength: number): number {
  return Math.max(0, answerLength - (promptLength > 0 ? 0 : 1));
}

/**
 * Lays sequences (prompt + completion) out in one padded batch. Right padding by default,
 * as TRL trains; left padding gives the same numbers (positions come from the mask).
 */
export function padSequences(sequences: readonly ScoredSequence[], padTokenId: number, side: PaddingSide = 'right'): PaddedBatch {
  const batch = sequences.length;
  const length = Math.max(2, ...sequences.map((s) => s.promptIds.length + s.completionIds.length));
  const inputIds = new Int32Array(batch * length).fill(padTokenId);
  const attentionMask = new Int32Array(batch * length);
  const completionMask = new Float32Array(batch * (length - 1));
  const completionTokens: number[] = [];
  sequences.forEach((s, b) => {
    const n = s.promptIds.length + s.completionIds.length;
    const start = side === 'right' ? 0 : length - n;
    const row = b * length;
    inputIds.set(s.promptIds, row + start);
    inputIds.set(s.completionIds, row + start + s.promptIds.length);
    attentionMask.fill(1, row + start, row + start + n);
    // Target at index i is predicted from position i - 1; a completion token with no token
    // before it (empty prompt) has nothing to be predicted from and is not scored.
    for (let i = Math.max(start + s.promptIds.length, start + 1); i < start + n; i++) completionMask[b * (length - 1) + i - 1] = 1;
    completionTokens.push(scoredAnswerTokens(s.promptIds.length, s.completionIds.length));
  });
  return { batch, length, inputIds, attentionMask, completionMask, completionTokens };
}

/** [batch] summed completion log-probabilities of a padded batch. Call inside tf.tidy. */
export function batchCompletionLogps(model: CausalLM, batch: PaddedBatch, options: { training?: boolean } = {}): tf.Tensor1D {
  const ids = tf.tensor2d(batch.inputIds, [batch.batch, batch.length], 'int32');
  const mask = tf.tensor2d(batch.attentionMask, [batch.batch, batch.length], 'int32');
  const perToken = tokenLogProbs(model, ids, { attentionMask: mask, training: options.training ?? false });
  return tf.sum(tf.mul(perToken, tf.tensor2d(batch.completionMask, [batch.batch, batch.length - 1])), 1) as tf.Tensor1D;
}

export interface PairLogps {
  /** [pairs] */
  chosen: tf.Tensor1D;
  rejected: tf.Tensor1D;
  chosenTokens: number[];
  rejectedTokens: number[];
}

/**
 * Chosen and rejected answers of several pairs in one forward pass (TRL's concatenated
 * forward: the 2N sequences share one batch). Call inside tf.tidy or tf.variableGrads.
 */
export function pairLogps(model: CausalLM, pairs: readonly PairTokens[], padTokenId: number, options: { training?: boolean; paddingSide?: PaddingSide } = {}): PairLogps {
  const sequences = [
    ...pairs.map((p) => ({ promptIds: p.promptIds, completionIds: p.chosenIds })),
    ...pairs.map((p) => ({ promptIds: p.promptIds, completionIds: p.rejectedIds })),
  ];
  const batch = padSequences(sequences, padTokenId, options.paddingSide);
  const sums = batchCompletionLogps(model, batch, options);
  const [chosen, rejected] = tf.split(sums, 2) as [tf.Tensor1D, tf.Tensor1D];
  return { chosen, rejected, chosenTokens: batch.completionTokens.slice(0, pairs.length), rejectedTokens: batch.completionTokens.slice(pairs.length) };
}

/** Inference convenience: the summed log-probabilities as numbers, tensors freed. */
export async function scoreSequences(model: CausalLM, sequences: readonly ScoredSequence[], padTokenId: number, paddingSide: PaddingSide = 'right'): Promise<number[]> {
  if (sequences.length === 0) return [];
  const sums = tf.tidy(() => batchCompletionLogps(model, padSequences(sequences, padTokenId, paddingSide)));
  try {
    return Array.from(await sums.data());
  } finally {
    sums.dispose();
  }
}

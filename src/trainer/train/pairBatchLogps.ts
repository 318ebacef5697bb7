import * as tf from '@tensorflow/tfjs-core';
import { padSequences } from '../logps/sequenceLogps.ts';
import { param, type CausalLM } from '../model/causalLM.ts';
import { lmHeadName } from '../model/parameterSpecs.ts';
import { forward, targetLogProbs } from '../model/transformer.ts';
import type { PairTokens } from '../tokenizer/pairTokens.ts';

/**
 * The training forward pass over a micro-batch of pairs: chosen and rejected answers of every
 * pair in one padded batch (TRL's concatenated forward), summed answer log-probabilities, and
 * the mean answer logit TRL reports as `logits/chosen` and `logits/rejected`.
 *
 * Unlike the logps module's pairLogps, only the rows that predict an answer token go through
 * the output head: prompt positions need no log-probability, and the head (vocabulary × hidden
 * per row, forward and twice backward) is the largest single product of a small model.
 */

export interface PairBatchLogps {
  /** [pairs] summed log-probabilities of each chosen / rejected answer (differentiable). */
  chosen: tf.Tensor1D;
  rejected: tf.Tensor1D;
  chosenTokens: number[];
  rejectedTokens: number[];
  /** Mean over the answers' tokens and the whole vocabulary of the logits (TRL's logits/chosen). */
  chosenMeanLogit: tf.Scalar;
  rejectedMeanLogit: tf.Scalar;
  /** Non-padding tokens that went through the model (prompts counted once per answer). */
  tokens: number;
}

/** Rows of the flattened [batch × length] hidden states that predict an answer token. */
interface ScoredRows {
  rows: Int32Array;
  targets: Int32Array;
  /** Which sequence each row belongs to (sequences ascending, so chosen rows come first). */
  sequences: Int32Array;
}

function scoredRows(batch: ReturnType<typeof padSequences>): ScoredRows {
  const { length, inputIds, completionMask } = batch;
  const rows: number[] = [];
  const targets: number[] = [];
  const sequences: number[] = [];
  for (let b = 0; b < batch.batch; b++) {
    for (let i = 0; i < length - 1; i++) {
      if (completionMask[b * (length - 1) + i] !== 1) continue;
      rows.push(b * length + i);
      targets.push(inputIds[b * length + i + 1]!);
      sequences.push(b);
    }
  }
  return { rows: Int32Array.from(rows), targets: Int32Array.from(targets), sequences: Int32Array.from(sequences) };
}

/** Call inside tf.tidy or tf.variableGrads. */
export function pairBatchLogps(model: CausalLM, pairs: readonly PairTokens[], padTokenId: number, options: { training: boolean }): PairBatchLogps {
  const sequences = [
    ...pairs.map((p) => ({ promptIds: p.promptIds, completionIds: p.chosenIds })),
    ...pairs.map((p) => ({ promptIds: p.promptIds, completionIds: p.rejectedIds })),
  ];
  const batch = padSequences(sequences, padTokenId, 'right');
  const scored = scoredRows(batch);
  const hiddenSize = model.config.hiddenSize;
  const ids = tf.tensor2d(batch.inputIds, [batch.batch, batch.length], 'int32');
  const mask = tf.tensor2d(batch.attentionMask, [batch.batch, batch.length], 'int32');
  const { hidden } = forward(model, ids, { attentionMask: mask, training: options.training });
  const flat = tf.reshape(hidden, [batch.batch * batch.length, hiddenSize]);
  const h = tf.gather(flat, tf.tensor1d(scored.rows, 'int32')) as tf.Tensor2D;
  const tokenLogps = targetLogProbs(model, h, scored.targets);
  const sums = tf.unsortedSegmentSum(tokenLogps, tf.tensor1d(scored.sequences, 'int32'), batch.batch) as tf.Tensor1D;
  const [chosen, rejected] = tf.split(sums, 2) as [tf.Tensor1D, tf.Tensor1D];

  // mean_v(h · w_v) = h · mean_v(w_v): the mean logit over the vocabulary without the logits.
  const meanHeadRow = tf.reshape(tf.mean(param(model, lmHeadName(model.config)), 0), [hiddenSize, 1]);
  const rowMeans = tf.reshape(tf.matMul(h, meanHeadRow), [-1]);
  const chosenRows = scored.sequences.findIndex((s) => s >= pairs.length);
  const split = chosenRows < 0 ? scored.rows.length : chosenRows;
  const meanOf = (start: number, size: number) => (size > 0 ? (tf.mean(tf.slice(rowMeans, [start], [size])) as tf.Scalar) : tf.scalar(0));
  let tokens = 0;
  for (const m of batch.attentionMask) tokens += m;
  return {
    chosen,
    rejected,
    chosenTokens: batch.completionTokens.slice(0, pairs.length),
    rejectedTokens: batch.completionTokens.slice(pairs.length),
    chosenMeanLogit: meanOf(0, split),
    rejectedMeanLogit: meanOf(split, scored.rows.length - split),
    tokens,
  };
}

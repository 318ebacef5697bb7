import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '../model/causalLM.ts';
import { forward, targetLogProbs, type TargetHits } from '../model/transformer.ts';
import { targetPositions } from '../tokenizer/sftTokens.ts';
import type { SftExample } from './trainingData.ts';

/**
 * Supervised fine-tuning's forward and backward pass, as transformers computes a causal LM loss
 * under TRL's SFTTrainer: the summed negative log-likelihood of the trained targets (completion
 * or assistant tokens, or all of them), divided by the trained targets of the whole optimizer
 * step (`num_items_in_batch`), so gradient accumulation gives the same update as one big batch.
 * Packed rows attend within each record only, with positions restarting per record, and a
 * record's first token is never predicted from the one before it.
 */

export interface SftContext {
  policy: CausalLM;
  trainables: ReadonlyMap<string, tf.Variable>;
  padTokenId: number;
}

/** What one micro-batch contributes to the metrics. */
export interface SftMicroBatchStats {
  /** Summed negative log-likelihood of the trained targets. */
  nll: number;
  targets: number;
  /** Targets that were the model's top token. */
  correct: number;
  /** Input tokens, padding excluded (TRL's num_tokens counts these). */
  tokens: number;
  rows: number;
}

interface SftBatch {
  batch: number;
  length: number;
  inputIds: Int32Array;
  segmentIds: Int32Array;
  /** Flattened [batch × length] rows that predict a trained target, and the targets. */
  rows: Int32Array;
  targets: Int32Array;
  tokens: number;
}

function sftBatch(examples: readonly SftExample[], padTokenId: number): SftBatch {
  const batch = examples.length;
  const length = Math.max(2, ...examples.map((e) => e.inputIds.length));
  const inputIds = new Int32Array(batch * length).fill(padTokenId);
  const segmentIds = new Int32Array(batch * length);
  const rows: number[] = [];
  const targets: number[] = [];
  let tokens = 0;
  examples.forEach((example, b) => {
    const row = b * length;
    inputIds.set(example.inputIds, row);
    tokens += example.inputIds.length;
    let at = 0;
    (example.seqLengths ?? [example.inputIds.length]).forEach((n, segment) => {
      segmentIds.fill(segment + 1, row + at, row + at + n);
      at += n;
    });
    for (const t of targetPositions(example)) {
      rows.push(row + t - 1);
      targets.push(example.inputIds[t]!);
    }
  });
  return { batch, length, inputIds, segmentIds, rows: Int32Array.from(rows), targets: Int32Array.from(targets), tokens };
}

/** Per trained target: its log-probability, and (kept, in `hits`) whether it was the top token. Call inside a tidy. */
function targetScores(model: CausalLM, batch: SftBatch, training: boolean, hits: TargetHits): tf.Tensor1D {
  const ids = tf.tensor2d(batch.inputIds, [batch.batch, batch.length], 'int32');
  const { hidden } = forward(model, ids, { segmentIds: batch.segmentIds, training });
  const flat = tf.reshape(hidden, [batch.batch * batch.length, model.config.hiddenSize]);
  const h = tf.gather(flat, tf.tensor1d(batch.rows, 'int32')) as tf.Tensor2D;
  return targetLogProbs(model, h, batch.targets, undefined, hits);
}

function readHits(hits: TargetHits): number {
  if (!hits.value) return 0;
  const correct = (hits.value.sum().dataSync() as Float32Array)[0]!;
  hits.value.dispose();
  return correct;
}

/**
 * Gradients of `scale` × the summed NLL of the micro-batch (scale = 1 / the trained targets of
 * the whole step), by trainable name, and the micro-batch's statistics.
 */
export function sftMicroBatchGradients(ctx: SftContext, examples: readonly SftExample[], scale: number): { grads: Map<string, tf.Tensor>; stats: SftMicroBatchStats } {
  const batch = sftBatch(examples, ctx.padTokenId);
  const hits: TargetHits = {};
  let nll: tf.Scalar | undefined;
  const variables = [...ctx.trainables.values()];
  const { value, grads } = tf.variableGrads(() => {
    const sum = tf.neg(tf.sum(targetScores(ctx.policy, batch, true, hits))) as tf.Scalar;
    nll = tf.keep(sum);
    return tf.mul(sum, scale) as tf.Scalar;
  }, variables);
  value.dispose();
  const nllValue = (nll!.dataSync() as Float32Array)[0]!;
  nll!.dispose();
  const byName = new Map<string, tf.Tensor>();
  for (const [name, variable] of ctx.trainables) {
    const grad = grads[variable.name];
    if (grad) byName.set(name, grad);
  }
  return { grads: byName, stats: { nll: nllValue, targets: batch.targets.length, correct: readHits(hits), tokens: batch.tokens, rows: batch.batch } };
}

/** The same statistics without gradients or dropout, for evaluation. */
export function sftMicroBatchEval(ctx: SftContext, examples: readonly SftExample[]): SftMicroBatchStats {
  const batch = sftBatch(examples, ctx.padTokenId);
  const hits: TargetHits = {};
  const nll = tf.tidy(() => tf.neg(tf.sum(targetScores(ctx.policy, batch, false, hits))));
  const nllValue = (nll.dataSync() as Float32Array)[0]!;
  nll.dispose();
  return { nll: nllValue, targets: batch.targets.length, correct: readHits(hits), tokens: batch.tokens, rows: batch.batch };
}

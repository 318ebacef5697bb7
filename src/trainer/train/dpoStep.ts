import * as tf from '@tensorflow/tfjs-core';
import { preferenceLoss, type LossOptions } from '../dpo/dpoLoss.ts';
import type { CausalLM } from '../model/causalLM.ts';
import { pairBatchLogps } from './pairBatchLogps.ts';
import type { Reference, ReferenceLogps } from './reference.ts';
import type { MicroBatchStats } from './trainMetrics.ts';
import type { TrainingExample } from './trainingData.ts';

/** What a micro-batch's loss needs besides its examples. */
export interface StepContext {
  policy: CausalLM;
  /** Trained variables by checkpoint name (`<module>.lora_A.weight`, or HF names for full fine-tuning). */
  trainables: ReadonlyMap<string, tf.Variable>;
  padTokenId: number;
  reference: Reference;
  /** Loss options except beta, which may follow a schedule. */
  loss: Omit<LossOptions, 'beta'>;
}

interface BatchLoss {
  loss: tf.Scalar;
  /** [chosen rewards, rejected rewards, chosen logps, rejected logps] per pair, then chosen / rejected mean logit, loss, nll. */
  packed: tf.Tensor1D;
  hasNll: boolean;
  tokens: number;
}

function batchLoss(ctx: StepContext, examples: readonly TrainingExample[], reference: ReferenceLogps | undefined, beta: number, training: boolean): BatchLoss {
  const policy = pairBatchLogps(ctx.policy, examples, ctx.padTokenId, { training });
  const out = preferenceLoss(
    {
      policy: { chosen: policy.chosen, rejected: policy.rejected },
      ...(reference ? { reference: { chosen: tf.tensor1d(reference.chosen), rejected: tf.tensor1d(reference.rejected) } } : {}),
      chosenTokens: tf.tensor1d(policy.chosenTokens),
      rejectedTokens: tf.tensor1d(policy.rejectedTokens),
    },
    { ...ctx.loss, beta },
  );
  const scalars = [policy.chosenMeanLogit, policy.rejectedMeanLogit, out.loss, ...(out.nllLoss ? [out.nllLoss] : [])].map((s) => tf.reshape(s, [1]));
  const packed = tf.concat([out.chosenRewards, out.rejectedRewards, policy.chosen, policy.rejected, ...scalars]) as tf.Tensor1D;
  return { loss: out.loss, packed, hasNll: out.nllLoss !== undefined, tokens: policy.tokens };
}

function unpack(values: Float32Array, pairs: number, hasNll: boolean, tokens: number): MicroBatchStats {
  const at = 4 * pairs;
  return {
    pairs,
    chosenRewards: values.subarray(0, pairs),
    rejectedRewards: values.subarray(pairs, 2 * pairs),
    chosenLogps: values.subarray(2 * pairs, 3 * pairs),
    rejectedLogps: values.subarray(3 * pairs, 4 * pairs),
    chosenMeanLogit: values[at]!,
    rejectedMeanLogit: values[at + 1]!,
    loss: values[at + 2]!,
    ...(hasNll ? { nllLoss: values[at + 3]! } : {}),
    tokens,
  };
}

/**
 * Forward and backward pass of one micro-batch: gradients of `scale` × its mean loss (scale is
 * 1 / micro-batches per optimizer step, so accumulated gradients average), by trainable name.
 */
export function microBatchGradients(ctx: StepContext, examples: readonly TrainingExample[], beta: number, scale: number): { grads: Map<string, tf.Tensor>; stats: MicroBatchStats } {
  const reference = ctx.reference.logps(examples);
  let packed: tf.Tensor1D | undefined;
  let hasNll = false;
  let tokens = 0;
  const variables = [...ctx.trainables.values()];
  const { value, grads } = tf.variableGrads(() => {
    const out = batchLoss(ctx, examples, reference, beta, true);
    // Kept past variableGrads' tidy: the metrics are read after the backward pass.
    packed = tf.keep(out.packed);
    hasNll = out.hasNll;
    tokens = out.tokens;
    return tf.mul(out.loss, scale) as tf.Scalar;
  }, variables);
  value.dispose();
  const values = packed!.dataSync() as Float32Array;
  packed!.dispose();
  const byName = new Map<string, tf.Tensor>();
  for (const [name, variable] of ctx.trainables) {
    const grad = grads[variable.name];
    if (grad) byName.set(name, grad);
  }
  return { grads: byName, stats: unpack(values, examples.length, hasNll, tokens) };
}

/** The same numbers without gradients, dropout or updates, for evaluation. */
export function microBatchEval(ctx: StepContext, examples: readonly TrainingExample[], beta: number): MicroBatchStats {
  const reference = ctx.reference.logps(examples);
  let hasNll = false;
  let tokens = 0;
  const packed = tf.tidy(() => {
    const out = batchLoss(ctx, examples, reference, beta, false);
    hasNll = out.hasNll;
    tokens = out.tokens;
    return out.packed;
  });
  const values = packed.dataSync() as Float32Array;
  packed.dispose();
  return unpack(values, examples.length, hasNll, tokens);
}

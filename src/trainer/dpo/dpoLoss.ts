import * as tf from '@tensorflow/tfjs-core';
import type { LossType } from '../../core/config/types.ts';
import { REFERENCE_FREE } from '../../core/review/implicitReward.ts';

/**
 * The preference-optimisation loss family, one small function per loss over the policy's and
 * the reference's log-probabilities, as in TRL's DPO trainer (and its CPO trainer for SimPO,
 * ORPO's paper for ORPO). Every function returns one loss per example; the caller averages.
 */

/** Summed log-probabilities of each completion, and how many tokens each has. */
export interface CompletionLogps {
  chosen: tf.Tensor1D;
  rejected: tf.Tensor1D;
}

export interface PreferenceBatchLogps {
  policy: CompletionLogps;
  /** Absent for the reference-free losses (simpo, orpo) and for sft without a reference. */
  reference?: CompletionLogps;
  chosenTokens: tf.Tensor1D;
  rejectedTokens: tf.Tensor1D;
}

export interface LossOptions {
  lossType: LossType;
  beta: number;
  labelSmoothing: number;
  simpoGamma: number;
  /** Weight of the NLL on chosen added to any loss (RPO); ORPO and SFT always include it. */
  rpoAlpha: number;
  /** Use per-token average log-probabilities instead of sums (length-normalised DPO). */
  lengthNormalize: boolean;
}

export interface LossOutput {
  /** Per-example preference loss, [batch]. */
  losses: tf.Tensor1D;
  /** The scalar to minimise: mean loss plus any NLL term. */
  loss: tf.Scalar;
  chosenRewards: tf.Tensor1D;
  rejectedRewards: tf.Tensor1D;
  /** Mean per-token NLL of the chosen completions, when the loss uses it. */
  nllLoss?: tf.Scalar;
}

/** The losses that compare with no reference: the rule lives in the core, beside the implicit reward. */
export const REFERENCE_FREE_LOSSES: ReadonlySet<LossType> = REFERENCE_FREE;

/**
 * log σ(x) as −softplus(−x): numerically stable, and unlike tf.logSigmoid its gradient is a
 * registered kernel gradient (tf.logSigmoid's custom gradient reads its input after the tape
 * has disposed it when that input is an intermediate tensor).
 */
const logSigmoid = (x: tf.Tensor) => tf.neg(tf.softplus(tf.neg(x)));

/** −log σ(βz), with cDPO's label smoothing ε: the label is flipped with probability ε. */
export function sigmoidLoss(logits: tf.Tensor1D, beta: number, labelSmoothing: number): tf.Tensor1D {
  const scaled = tf.mul(logits, beta);
  return tf.sub(tf.mul(tf.neg(logSigmoid(scaled)), 1 - labelSmoothing), tf.mul(logSigmoid(tf.neg(scaled)), labelSmoothing)) as tf.Tensor1D;
}

/** max(0, 1 − βz): the SLiC hinge. */
export function hingeLoss(logits: tf.Tensor1D, beta: number): tf.Tensor1D {
  return tf.relu(tf.sub(1, tf.mul(logits, beta))) as tf.Tensor1D;
}

/** (z − 1/(2β))²: IPO regresses the log-ratio gap to a fixed target instead of pushing it to infinity. */
export function ipoLoss(logits: tf.Tensor1D, beta: number): tf.Tensor1D {
  return tf.square(tf.sub(logits, 1 / (2 * beta))) as tf.Tensor1D;
}

/** The unbiased robust DPO loss for a known label-noise rate ε (Chowdhury et al.). */
export function robustLoss(logits: tf.Tensor1D, beta: number, labelSmoothing: number): tf.Tensor1D {
  const scaled = tf.mul(logits, beta);
  const numerator = tf.add(tf.mul(tf.neg(logSigmoid(scaled)), 1 - labelSmoothing), tf.mul(logSigmoid(tf.neg(scaled)), labelSmoothing));
  return tf.div(numerator, 1 - 2 * labelSmoothing) as tf.Tensor1D;
}

/**
 * KTO on pairs: each side is compared with the batch's (clamped) KL estimate of the other
 * side, and the losses of both sides are averaged per example.
 */
export function ktoPairLoss(chosenLogratios: tf.Tensor1D, rejectedLogratios: tf.Tensor1D, beta: number): tf.Tensor1D {
  const chosenKl = tf.maximum(tf.mean(chosenLogratios), 0);
  const rejectedKl = tf.maximum(tf.mean(rejectedLogratios), 0);
  const chosenLosses = tf.sub(1, tf.sigmoid(tf.mul(tf.sub(chosenLogratios, rejectedKl), beta)));
  const rejectedLosses = tf.sub(1, tf.sigmoid(tf.mul(tf.sub(chosenKl, rejectedLogratios), beta)));
  return tf.div(tf.add(chosenLosses, rejectedLosses), 2) as tf.Tensor1D;
}

/** SimPO: reference-free, on average log-probabilities, with a target margin γ. */
export function simpoLoss(chosenAvg: tf.Tensor1D, rejectedAvg: tf.Tensor1D, beta: number, gamma: number, labelSmoothing: number): tf.Tensor1D {
  const logits = tf.sub(tf.sub(chosenAvg, rejectedAvg), gamma / beta) as tf.Tensor1D;
  return sigmoidLoss(logits, beta, labelSmoothing);
}

/** ORPO's odds-ratio term −β·log σ(log odds(chosen) − log odds(rejected)) on average log-probabilities. */
export function orpoOddsRatioLoss(chosenAvg: tf.Tensor1D, rejectedAvg: tf.Tensor1D, beta: number): tf.Tensor1D {
  // log odds(p) = log p − log(1 − p); log(1 − e^x) computed as log(−expm1(x)) for accuracy near 0.
  const log1mExp = (x: tf.Tensor) => tf.log(tf.neg(tf.sub(tf.exp(x), 1)));
  const logOdds = tf.sub(tf.sub(chosenAvg, rejectedAvg), tf.sub(log1mExp(chosenAvg), log1mExp(rejectedAvg)));
  return tf.mul(tf.neg(logSigmoid(logOdds)), beta) as tf.Tensor1D;
}

/** Mean per-token negative log-likelihood of the chosen completions over the whole batch. */
export function chosenNll(chosenLogps: tf.Tensor1D, chosenTokens: tf.Tensor1D): tf.Scalar {
  return tf.div(tf.neg(tf.sum(chosenLogps)), tf.maximum(tf.sum(chosenTokens), 1)) as tf.Scalar;
}

/** Computes the configured loss and the rewards TRL reports. */
export function preferenceLoss(batch: PreferenceBatchLogps, options: LossOptions): LossOutput {
  const { lossType, beta, labelSmoothing } = options;
  const average = (logps: tf.Tensor1D, tokens: tf.Tensor1D) => tf.div(logps, tf.maximum(tokens, 1)) as tf.Tensor1D;
  const policyChosenAvg = average(batch.policy.chosen, batch.chosenTokens);
  const policyRejectedAvg = average(batch.policy.rejected, batch.rejectedTokens);

  if (REFERENCE_FREE_LOSSES.has(lossType) && !(lossType === 'sft' && batch.reference)) {
    const nll = chosenNll(batch.policy.chosen, batch.chosenTokens);
    let losses: tf.Tensor1D;
    if (lossType === 'simpo') losses = simpoLoss(policyChosenAvg, policyRejectedAvg, beta, options.simpoGamma, labelSmoothing);
    else if (lossType === 'orpo') losses = orpoOddsRatioLoss(policyChosenAvg, policyRejectedAvg, beta);
    else losses = tf.zerosLike(policyChosenAvg);
    const nllWeight = lossType === 'simpo' ? options.rpoAlpha : 1;
    const loss = tf.add(tf.mean(losses), tf.mul(nll, nllWeight)) as tf.Scalar;
    return { losses, loss, chosenRewards: tf.mul(policyChosenAvg, beta) as tf.Tensor1D, rejectedRewards: tf.mul(policyRejectedAvg, beta) as tf.Tensor1D, ...(nllWeight > 0 ? { nllLoss: nll } : {}) };
  }
  if (!batch.reference) throw new Error(`The "${lossType}" loss needs reference log-probabilities`);

  // IPO is defined on average log-probabilities; length-normalised DPO makes every loss so.
  const normalize = options.lengthNormalize || lossType === 'ipo';
  const side = (policy: tf.Tensor1D, reference: tf.Tensor1D, tokens: tf.Tensor1D) =>
    (normalize ? average(tf.sub(policy, reference) as tf.Tensor1D, tokens) : tf.sub(policy, reference)) as tf.Tensor1D;
  const chosenLogratios = side(batch.policy.chosen, batch.reference.chosen, batch.chosenTokens);
  const rejectedLogratios = side(batch.policy.rejected, batch.reference.rejected, batch.rejectedTokens);
  const logits = tf.sub(chosenLogratios, rejectedLogratios) as tf.Tensor1D;

  let losses: tf.Tensor1D;
  switch (lossType) {
    case 'sigmoid':
      losses = sigmoidLoss(logits, beta, labelSmoothing);
      break;
    case 'hinge':
      losses = hingeLoss(logits, beta);
      break;
    case 'ipo':
      losses = ipoLoss(logits, beta);
      break;
    case 'robust':
      losses = robustLoss(logits, beta, labelSmoothing);
      break;
    case 'kto_pair':
      losses = ktoPairLoss(chosenLogratios, rejectedLogratios, beta);
      break;
    case 'sft':
      losses = tf.zerosLike(logits);
      break;
    default:
      throw new Error(`Unknown loss type "${String(lossType)}"`);
  }
  const nllWeight = lossType === 'sft' ? 1 : options.rpoAlpha;
  const nll = nllWeight > 0 ? chosenNll(batch.policy.chosen, batch.chosenTokens) : undefined;
  const loss = (nll ? tf.add(tf.mean(losses), tf.mul(nll, nllWeight)) : tf.mean(losses)) as tf.Scalar;
  return {
    losses,
    loss,
    chosenRewards: tf.mul(chosenLogratios, beta) as tf.Tensor1D,
    rejectedRewards: tf.mul(rejectedLogratios, beta) as tf.Tensor1D,
    ...(nll ? { nllLoss: nll } : {}),
  };
}

/** β at a step when the config schedules it from `beta` to `beta_end` (linearly). */
export function scheduledBeta(beta: number, betaEnd: number | undefined, step: number, totalSteps: number): number {
  if (betaEnd === undefined || totalSteps <= 1) return beta;
  const progress = Math.min(1, Math.max(0, step / (totalSteps - 1)));
  return beta + (betaEnd - beta) * progress;
}

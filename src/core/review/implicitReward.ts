import type { LossType } from '../config/types.ts';

/**
 * The implicit reward DPO's policy assigns an answer, computed exactly as the trainer reports
 * `rewards/chosen` and `rewards/rejected` for the run's loss: β·(log π − log π_ref), per token
 * for IPO and length-normalised DPO; for the reference-free losses (SimPO, ORPO) β times the
 * policy's average log-probability per token. The margin is chosen minus rejected: negative when
 * the model prefers the answer the data calls worse.
 */

export const REFERENCE_FREE: ReadonlySet<LossType> = new Set(['simpo', 'orpo', 'sft']);

export interface RewardRule {
  lossType: LossType;
  beta: number;
  lengthNormalize: boolean;
}

export interface AnswerLogps {
  /** Summed over the answer's tokens. */
  policy: number;
  /** The reference's sum; absent for reference-free losses. */
  reference?: number;
  tokens: number;
}

export function needsReference(rule: RewardRule): boolean {
  return !REFERENCE_FREE.has(rule.lossType);
}

export function implicitReward(rule: RewardRule, answer: AnswerLogps): number {
  const tokens = Math.max(answer.tokens, 1);
  if (!needsReference(rule)) return (rule.beta * answer.policy) / tokens;
  if (answer.reference === undefined) throw new Error(`the "${rule.lossType}" loss compares with the reference: its log-probabilities are missing`);
  const ratio = answer.policy - answer.reference;
  return rule.beta * (rule.lengthNormalize || rule.lossType === 'ipo' ? ratio / tokens : ratio);
}

/** Agrees: the label's chosen answer gets the higher reward. A tie is not agreement. */
export function agreesWithLabel(margin: number): boolean {
  return margin > 0;
}

import { setFields, swapFields } from './recordEdits.ts';

/** Which answer the labeler preferred, named by the field that held it when they saw it. */
export type Preference = 'chosen' | 'rejected' | 'tie';

export interface DecisionContext {
  annotator?: string;
  /** Milliseconds the labeler spent on the record. */
  timeMs?: number;
  /** When the decision was made (ISO 8601). */
  at?: string;
}

/**
 * The fields a labeled record carries. `decision` is "chosen" once a person confirmed that the
 * chosen field holds the better answer, or "tie" when neither is better (trainers skip ties).
 */
export const DECISION_FIELD = 'decision';

/**
 * Writes a labeler's decision into a pair record: when they preferred the answer stored as
 * rejected, the two texts are exchanged so that `chosen` always holds the better one.
 */
export function applyPairDecision(source: string, preference: Preference, context: DecisionContext = {}, fields: { chosen: string; rejected: string } = { chosen: 'chosen', rejected: 'rejected' }): string {
  const swapped = preference === 'rejected' ? swapFields(source, fields.chosen, fields.rejected) : source;
  return setFields(swapped, {
    [DECISION_FIELD]: preference === 'tie' ? 'tie' : 'chosen',
    ...decisionMeta(context),
  });
}

export interface CandidateChoice {
  best?: number;
  worst?: number;
  /** Candidate indices from best to worst; replaces best/worst when given. */
  ranking?: number[];
}

/** Writes a choice among candidates: best and worst, or a full ranking. */
export function applyCandidateChoice(source: string, choice: CandidateChoice, context: DecisionContext = {}): string {
  const fields: Record<string, unknown> = choice.ranking
    ? { ranking: choice.ranking, best: choice.ranking[0], worst: choice.ranking[choice.ranking.length - 1] }
    : { best: choice.best, worst: choice.worst };
  return setFields(source, { ...fields, ...decisionMeta(context) });
}

/** Removes a decision, leaving the record as it was before labeling (texts stay where they are). */
export function clearDecision(source: string): string {
  return setFields(source, { [DECISION_FIELD]: undefined, time_ms: undefined, labeled_at: undefined });
}

function decisionMeta(context: DecisionContext): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  if (context.annotator) meta.annotator = context.annotator;
  if (context.timeMs !== undefined) meta.time_ms = Math.round(context.timeMs);
  if (context.at) meta.labeled_at = context.at;
  return meta;
}

/**
 * Blind mode shows each record's answers in an order the labeler can't predict but that stays
 * the same when they come back to the record: a hash of the session seed and the record.
 */
export function blindSwap(seed: number, recordIndex: number): boolean {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ recordIndex;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) & 1) === 1;
}

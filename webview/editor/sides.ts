import { blindOrder } from '../../src/core/pairEditor/blindOrder.ts';
import type { CandidatesRecordView, PairRecordView, TextField } from '../../src/protocol/pairEditorMessages.ts';

export type StoredSide = 'chosen' | 'rejected';

export interface ShownAnswer {
  /** The field the answer is stored in: what a decision for it must name. */
  stored: StoredSide;
  field: TextField;
}

/**
 * Which stored answer shows on the left and which on the right. Normally chosen is on the left;
 * in blind mode the order comes from the session's seed and the record's index, so the labeler
 * can't tell which one is currently "chosen" - and a pick is still written for the right field.
 */
export function pairSides(record: PairRecordView, blind: boolean, seed: number): [ShownAnswer, ShownAnswer] {
  const chosen: ShownAnswer = { stored: 'chosen', field: record.chosen };
  const rejected: ShownAnswer = { stored: 'rejected', field: record.rejected };
  if (blind && blindOrder(seed, record.index, 2)[0] === 1) return [rejected, chosen];
  return [chosen, rejected];
}

/** Candidate indices in the order they are shown (a seeded shuffle in blind mode). */
export function candidateOrder(record: CandidatesRecordView, blind: boolean, seed: number): number[] {
  const n = record.candidates.length;
  return blind ? blindOrder(seed, record.index, n) : Array.from({ length: n }, (_, i) => i);
}

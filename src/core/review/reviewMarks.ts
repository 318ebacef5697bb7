import { agreesWithLabel } from './implicitReward.ts';
import type { RecordKeys } from './recordKey.ts';
import type { CandidatesScore, PairScore, RecordScore, ScoresFile } from './scoresFile.ts';

/**
 * What the pair editor shows of a record's score: current (the texts scored are the texts
 * there now, wherever the record moved), swapped (chosen and rejected were exchanged since:
 * the same score, seen from the other side), stale (the texts changed: the old margin is shown
 * only as what it was), or none.
 */
export type ReviewMark =
  | { state: 'current' | 'swapped'; kind: 'pair'; margin: number; agrees: boolean; chosenReward: number; rejectedReward: number }
  | { state: 'current'; kind: 'candidates'; rewards: number[]; ranking: number[] }
  | { state: 'stale'; was?: number }
  | { state: 'unscored' };

export class ScoreIndex {
  private readonly byIndex = new Map<number, RecordScore>();
  private readonly byKey = new Map<string, RecordScore>();
  private readonly bySwappedKey = new Map<string, PairScore>();

  constructor(readonly file: ScoresFile) {
    for (const score of file.records) {
      this.byIndex.set(score.index, score);
      this.byKey.set(score.key, score);
      if (score.kind === 'pair') this.bySwappedKey.set(score.swapped_key, score);
    }
  }

  /** The mark of the record at `index` whose texts hash to `keys` (undefined: not a valid record now). */
  mark(index: number, keys: RecordKeys | undefined): ReviewMark {
    const atIndex = this.byIndex.get(index);
    if (keys) {
      if (atIndex?.key === keys.key) return current(atIndex);
      if (atIndex?.kind === 'pair' && atIndex.swapped_key === keys.key) return swapped(atIndex);
      const moved = this.byKey.get(keys.key);
      if (moved) return current(moved);
      const movedSwapped = this.bySwappedKey.get(keys.key);
      if (movedSwapped) return swapped(movedSwapped);
    }
    if (atIndex) return { state: 'stale', ...(atIndex.kind === 'pair' ? { was: atIndex.margin } : {}) };
    return { state: 'unscored' };
  }
}

function current(score: RecordScore): ReviewMark {
  if (score.kind === 'candidates') return candidatesMark(score);
  return { state: 'current', kind: 'pair', margin: score.margin, agrees: score.agrees, chosenReward: score.chosen_reward, rejectedReward: score.rejected_reward };
}

function swapped(score: PairScore): ReviewMark {
  const margin = -score.margin;
  return { state: 'swapped', kind: 'pair', margin, agrees: agreesWithLabel(margin), chosenReward: score.rejected_reward, rejectedReward: score.chosen_reward };
}

function candidatesMark(score: CandidatesScore): ReviewMark {
  return { state: 'current', kind: 'candidates', rewards: score.candidates.map((c) => c.reward), ranking: score.ranking };
}

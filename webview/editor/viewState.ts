import { RECORD_FILTERS, type RecordFilter } from '../../src/core/pairEditor/recordFlags.ts';
import { REVIEW_ORDERS, type ReviewOrder } from '../../src/core/review/reviewOrder.ts';

/** What survives the webview being hidden and shown again (vscode.setState). */
export interface ViewState {
  index: number;
  blind: boolean;
  diff: boolean;
  filter: RecordFilter;
  /** Blind mode's seed: one per editor session, so the order stays put while labeling. */
  seed: number;
  /** Candidates: rank every answer instead of picking best and worst. */
  rankMode: boolean;
  /** The review order the labeler works in (null: file order), while a model review is on. */
  reviewOrder: ReviewOrder | null;
}

export function restoreViewState(saved: unknown): ViewState {
  const s = (saved && typeof saved === 'object' ? saved : {}) as Partial<ViewState>;
  return {
    index: Number.isInteger(s.index) && s.index! >= 0 ? s.index! : 0,
    blind: s.blind === true,
    diff: s.diff === true,
    filter: RECORD_FILTERS.includes(s.filter as RecordFilter) ? s.filter! : 'all',
    seed: Number.isInteger(s.seed) ? s.seed! : crypto.getRandomValues(new Uint32Array(1))[0]! | 0,
    rankMode: s.rankMode === true,
    reviewOrder: REVIEW_ORDERS.includes(s.reviewOrder as ReviewOrder) ? s.reviewOrder! : null,
  };
}

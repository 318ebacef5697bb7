import type { PairScore, RecordScore } from './scoresFile.ts';

/**
 * The orders a reviewer works through a scored dataset in, and the numbers the dashboard
 * shows of it. Only pairs have a margin; candidates records keep their place at the end.
 */

export const REVIEW_ORDERS = ['disagrees', 'uncertain', 'confident'] as const;
export type ReviewOrder = (typeof REVIEW_ORDERS)[number];

export const REVIEW_ORDER_LABELS: Record<ReviewOrder, string> = {
  disagrees: 'Model disagrees (likely mislabeled first)',
  uncertain: 'Uncertain (margin nearest zero first)',
  confident: 'Confident (largest margin first)',
};

function pairs(scores: readonly RecordScore[]): PairScore[] {
  return scores.filter((s): s is PairScore => s.kind === 'pair' && Number.isFinite(s.margin));
}

/**
 * Record indices in the order: *disagrees* holds only the pairs the model disagrees with, most
 * negative margin first; *uncertain* every scored pair by |margin|, smallest first; *confident*
 * the pairs it agrees with, largest margin first. Ties keep file order.
 */
export function reviewOrder(scores: readonly RecordScore[], order: ReviewOrder): number[] {
  const scored = pairs(scores);
  const by = (pick: (s: PairScore) => boolean, key: (s: PairScore) => number) =>
    scored
      .filter(pick)
      .sort((a, b) => key(a) - key(b) || a.index - b.index)
      .map((s) => s.index);
  switch (order) {
    case 'disagrees':
      return by((s) => !s.agrees, (s) => s.margin);
    case 'uncertain':
      return by(() => true, (s) => Math.abs(s.margin));
    case 'confident':
      return by((s) => s.agrees, (s) => -s.margin);
  }
}

export interface MarginHistogram {
  /** Bin edges, `bins + 1` of them, symmetric around zero so the agree/disagree line is an edge. */
  edges: number[];
  counts: number[];
}

export function marginHistogram(scores: readonly RecordScore[], bins = 20): MarginHistogram {
  const margins = pairs(scores).map((s) => s.margin);
  const reach = Math.max(1e-6, ...margins.map(Math.abs));
  const half = Math.max(1, Math.floor(bins / 2));
  const width = reach / half;
  const edges = Array.from({ length: 2 * half + 1 }, (_, i) => (i - half) * width);
  const counts = new Array<number>(2 * half).fill(0);
  for (const m of margins) counts[Math.min(2 * half - 1, Math.max(0, Math.floor(m / width) + half))]!++;
  return { edges, counts };
}

export interface ReviewSummary {
  pairs: number;
  agreeing: number;
  /** agreeing / pairs; null when nothing was scored. */
  agreement: number | null;
  histogram: MarginHistogram;
  /** The pairs the model disagrees with most, for the "Pairs to review" table. */
  top: Array<{ index: number; line: number; margin: number }>;
}

export function reviewSummary(scores: readonly RecordScore[], topCount = 20): ReviewSummary {
  const scored = pairs(scores);
  const agreeing = scored.filter((s) => s.agrees).length;
  const byIndex = new Map(scored.map((s) => [s.index, s]));
  return {
    pairs: scored.length,
    agreeing,
    agreement: scored.length ? agreeing / scored.length : null,
    histogram: marginHistogram(scored),
    top: reviewOrder(scored, 'disagrees')
      .slice(0, topCount)
      .map((index) => ({ index, line: byIndex.get(index)!.line, margin: byIndex.get(index)!.margin })),
  };
}

/** Lower-cases and collapses whitespace so that formatting noise does not hide sameness. */
export function normalizeForComparison(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * Similarity of two texts in [0, 1]: the Sørensen–Dice coefficient over character bigrams of
 * the normalised texts. Linear in the texts' length (an edit distance would be quadratic, too
 * slow for 100,000 records), and it tolerates reordering and small edits, which is what
 * "these two answers say the same thing" looks like in practice.
 *
 * When the caller only cares whether the similarity reaches `floor`, pairs whose lengths alone
 * rule that out return 0 without the bigram work: Dice can't exceed 2·min/(min+max).
 */
export function textSimilarity(a: string, b: string, floor = 0): number {
  const x = normalizeForComparison(a);
  const y = normalizeForComparison(b);
  if (x === y) return 1;
  if (x.length < 2 || y.length < 2) return 0;
  const m = Math.min(x.length, y.length) - 1;
  const n = Math.max(x.length, y.length) - 1;
  if ((2 * m) / (m + n) < floor) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < x.length - 1; i++) {
    const bigram = (x.charCodeAt(i) << 16) | x.charCodeAt(i + 1);
    counts.set(bigram, (counts.get(bigram) ?? 0) + 1);
  }
  let shared = 0;
  for (let i = 0; i < y.length - 1; i++) {
    const bigram = (y.charCodeAt(i) << 16) | y.charCodeAt(i + 1);
    const left = counts.get(bigram);
    if (left) {
      shared++;
      counts.set(bigram, left - 1);
    }
  }
  return (2 * shared) / (m + n);
}

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
  if (floor > 0 && lengthsRuleOut(a, b, floor)) return 0;
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

/**
 * True when the raw texts alone show that their similarity is below `floor`, before paying for
 * normalisation. Normalising keeps every non-space character and (but for a few letters such as
 * U+0130 that lower-case to two code units) never lengthens a text, so the
 * shorter raw length bounds the shorter normalised one from above and the longer text's count of
 * non-space characters bounds its normalised length from below; Dice ≤ 2·short/(short + long).
 */
function lengthsRuleOut(a: string, b: string, floor: number): boolean {
  const shorter = Math.min(a.length, b.length);
  const longer = a.length < b.length ? b : a;
  // Dice < floor once the longer text has more than this many non-space characters.
  const needed = (shorter * (2 - floor)) / floor;
  if (longer.length <= needed) return false;
  // One pass that stops as soon as the answer is known (a regular expression or a native search
  // per space costs more than this loop over the characters it needs).
  let nonSpace = 0;
  for (let i = 0, n = longer.length; i < n; i++) {
    if (nonSpace + (n - i) <= needed) return false;
    if (!isWhitespace(longer.charCodeAt(i)) && ++nonSpace > needed) return true;
  }
  return false;
}

/** The characters `\s` matches, without a regular expression in the loop. */
function isWhitespace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

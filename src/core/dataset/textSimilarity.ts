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
  // ASCII texts: their exact normalised lengths come as cheaply as the raw bound below, and rule out more.
  const ascii = asciiSimilarity(a, b, floor);
  if (ascii !== undefined) return ascii;
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
 * `textSimilarity` for ASCII texts, without building normalised strings or a Map: each text is
 * read once, lower-cased and with whitespace runs as one space (what normalizeForComparison
 * makes of ASCII); the first text's bigrams are counted in a 128×128 table (reset by a stamp,
 * not cleared) and the second's counted off against it. The same number as the general path,
 * several times faster: most datasets are ASCII, and this check runs on every pair.
 * Returns undefined when a text is not ASCII.
 */
const BIGRAMS = 128 * 128;
const bigramCounts = new Int32Array(BIGRAMS);
const bigramStamps = new Int32Array(BIGRAMS);
let stamp = 0;
/** The two texts' bigrams (as indices into the table), grown as needed. */
const bigramBuffers = [new Int32Array(1024), new Int32Array(1024)];

/** Set by asciiBigrams (a returned pair would be an allocation per call, on a path run for every record). */
let bigramCount = 0;
let normalisedLength = 0;

/** The normalised text's bigrams (as indices into the table) into `bigramBuffers[store]` when given; sets bigramCount and normalisedLength, both -1 when the text is not ASCII. */
function asciiBigrams(text: string, store?: 0 | 1): void {
  if (store !== undefined && bigramBuffers[store]!.length < text.length) bigramBuffers[store] = new Int32Array(text.length * 2);
  const out = store === undefined ? undefined : bigramBuffers[store]!;
  let count = 0;
  let length = 0;
  let previous = -1;
  let pendingSpace = false;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c > 127) {
      bigramCount = normalisedLength = -1;
      return;
    }
    if (c === 32 || (c >= 9 && c <= 13)) {
      // A run of whitespace is one space, and none at the start or end (trim).
      if (length > 0) pendingSpace = true;
      continue;
    }
    if (c >= 65 && c <= 90) c += 32;
    if (pendingSpace) {
      if (out) out[count] = (previous << 7) | 32;
      count++;
      previous = 32;
      length++;
      pendingSpace = false;
    }
    if (previous >= 0) {
      if (out) out[count] = (previous << 7) | c;
      count++;
    }
    previous = c;
    length++;
  }
  bigramCount = count;
  normalisedLength = length;
}

function asciiSimilarity(a: string, b: string, floor: number): number | undefined {
  // Cheapest first: the raw length of the shorter text bounds its normalised length from above,
  // so the longer text's normalised length, counted only until it is past what that allows, often
  // rules the pair out after one partial pass.
  if (floor > 0 && asciiLongerRulesOut(a.length <= b.length ? a : b, a.length <= b.length ? b : a, floor)) return 0;
  // Both texts' normalised bigrams next; their lengths often rule the pair out with no counting.
  asciiBigrams(a, 0);
  const countA = bigramCount;
  const lengthA = normalisedLength;
  if (lengthA < 0) return undefined;
  asciiBigrams(b, 1);
  const countB = bigramCount;
  const lengthB = normalisedLength;
  if (lengthB < 0) return undefined;
  const [first, second] = bigramBuffers as [Int32Array, Int32Array];
  if (lengthA < 2 || lengthB < 2) return normalizeForComparison(a) === normalizeForComparison(b) ? 1 : 0;
  const m = Math.min(lengthA, lengthB) - 1;
  const n = Math.max(lengthA, lengthB) - 1;
  if (countA === countB && first.subarray(0, countA).every((g, i) => g === second[i])) return 1;
  if ((2 * m) / (m + n) < floor) return 0;
  if (++stamp === 0x7fffffff) {
    bigramStamps.fill(0);
    stamp = 1;
  }
  for (let i = 0; i < countA; i++) {
    const g = first[i]!;
    if (bigramStamps[g] !== stamp) {
      bigramStamps[g] = stamp;
      bigramCounts[g] = 1;
    } else bigramCounts[g]!++;
  }
  let shared = 0;
  for (let i = 0; i < countB; i++) {
    const g = second[i]!;
    if (bigramStamps[g] === stamp && bigramCounts[g]! > 0) {
      shared++;
      bigramCounts[g]!--;
    }
  }
  return (2 * shared) / (m + n);
}

/**
 * Dice ≤ 2m/(m + n) with m, n the normalised lengths less one, smaller and larger; m is at most
 * the shorter raw length less one, n at least the longer text's normalised length less one. True
 * when that bound is below `floor`; false when it is not, or the longer text is not ASCII.
 */
function asciiLongerRulesOut(shorter: string, longer: string, floor: number): boolean {
  const m = shorter.length - 1;
  const needed = (m * (2 - floor)) / floor;
  if (longer.length - 1 <= needed) return false;
  let length = 0;
  let pendingSpace = false;
  for (let i = 0; i < longer.length; i++) {
    const c = longer.charCodeAt(i);
    if (c > 127) return false;
    if (c === 32 || (c >= 9 && c <= 13)) {
      if (length > 0) pendingSpace = true;
      continue;
    }
    length += pendingSpace ? 2 : 1;
    pendingSpace = false;
    if (length - 1 > needed) return true;
  }
  return false;
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

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
  if (isAscii(a) && isAscii(b)) return asciiSimilarity(a, b, floor);
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

const ASCII_ONLY = /^[\x00-\x7f]*$/;

function isAscii(text: string): boolean {
  return ASCII_ONLY.test(text);
}

/**
 * `textSimilarity` for ASCII texts, without building normalised strings or a Map: the bigrams
 * of each text, lower-cased and with whitespace runs as one space (what normalizeForComparison
 * makes of ASCII), go into reused typed arrays and are counted against each other in an
 * open-addressing table. The same number as the general path, several times faster: most
 * datasets are ASCII, and this check runs on every pair.
 */
let bigramsA = new Int32Array(1024);
let bigramsB = new Int32Array(1024);
let tableKeys = new Int32Array(2048);
let tableCounts = new Int32Array(2048);
let tableStamp = new Int32Array(2048);
let stamp = 0;

/** The normalised text's bigrams into `out` (grown as needed); returns [count, normalised length]. */
function asciiBigrams(text: string, which: 'a' | 'b'): [number, number] {
  let out = which === 'a' ? bigramsA : bigramsB;
  if (out.length < text.length) {
    out = new Int32Array(text.length * 2);
    if (which === 'a') bigramsA = out;
    else bigramsB = out;
  }
  let count = 0;
  let length = 0;
  let previous = -1;
  let pendingSpace = false;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) {
      // A run of whitespace is one space, and none at the start or end (trim).
      if (length > 0) pendingSpace = true;
      continue;
    }
    if (c >= 65 && c <= 90) c += 32;
    if (pendingSpace) {
      out[count++] = (previous << 16) | 32;
      previous = 32;
      length++;
      pendingSpace = false;
    }
    if (previous >= 0) out[count++] = (previous << 16) | c;
    previous = c;
    length++;
  }
  return [count, length];
}

function asciiSimilarity(a: string, b: string, floor: number): number {
  const [countA, lengthA] = asciiBigrams(a, 'a');
  const [countB, lengthB] = asciiBigrams(b, 'b');
  if (lengthA < 2 || lengthB < 2) return lengthA === lengthB && countA === countB && sameBigrams(countA) && sameText(a, b) ? 1 : 0;
  const m = Math.min(lengthA, lengthB) - 1;
  const n = Math.max(lengthA, lengthB) - 1;
  if (countA === countB && sameBigrams(countA)) return 1;
  if ((2 * m) / (m + n) < floor) return 0;
  let size = tableKeys.length;
  if (size < countA * 2) {
    size = 1 << Math.ceil(Math.log2(countA * 2));
    tableKeys = new Int32Array(size);
    tableCounts = new Int32Array(size);
    tableStamp = new Int32Array(size);
    stamp = 0;
  }
  if (++stamp === 0x7fffffff) {
    tableStamp.fill(0);
    stamp = 1;
  }
  const mask = size - 1;
  for (let i = 0; i < countA; i++) {
    const key = bigramsA[i]!;
    let slot = Math.imul(key, 0x9e3779b1) >>> 0;
    for (;;) {
      slot &= mask;
      if (tableStamp[slot] !== stamp) {
        tableStamp[slot] = stamp;
        tableKeys[slot] = key;
        tableCounts[slot] = 1;
        break;
      }
      if (tableKeys[slot] === key) {
        tableCounts[slot]!++;
        break;
      }
      slot++;
    }
  }
  let shared = 0;
  for (let i = 0; i < countB; i++) {
    const key = bigramsB[i]!;
    let slot = Math.imul(key, 0x9e3779b1) >>> 0;
    for (;;) {
      slot &= mask;
      if (tableStamp[slot] !== stamp) break;
      if (tableKeys[slot] === key) {
        if (tableCounts[slot]! > 0) {
          shared++;
          tableCounts[slot]!--;
        }
        break;
      }
      slot++;
    }
  }
  return (2 * shared) / (m + n);
}

/** Whether the two bigram lists just built are the same sequence (the normalised texts are equal). */
function sameBigrams(count: number): boolean {
  for (let i = 0; i < count; i++) if (bigramsA[i] !== bigramsB[i]) return false;
  return true;
}

/** Normalised texts shorter than two characters have no bigrams: compare them directly. */
function sameText(a: string, b: string): boolean {
  return normalizeForComparison(a) === normalizeForComparison(b);
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

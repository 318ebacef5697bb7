/**
 * A 52-bit fingerprint of a string (two 32-bit multiplicative lanes, kept to what a double
 * holds exactly). Used for prompts, whose count of distinct values is a statistic: numbers
 * instead of the texts keep a 100,000-record file's bookkeeping to a few megabytes.
 */
export function textFingerprint(text: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h2 >>> 12) * 0x100000000 + (h1 >>> 0);
}

/**
 * A 32-bit key that equal texts always share and different texts rarely do: the length and a
 * few characters sampled across the text. It costs the same for a 10 MB answer as for a word;
 * every match it finds is confirmed against the real texts before anything is reported, so a
 * rare false match costs a re-read, never a wrong warning.
 */
export function sampledTextKey(text: string): number {
  const n = text.length;
  let h = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b);
  if (n === 0) return h >>> 0;
  const step = n / 12;
  for (let k = 0; k < 12; k++) h = Math.imul(h ^ text.charCodeAt(Math.floor(k * step)), 0x01000193);
  h = Math.imul(h ^ text.charCodeAt(n - 1), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * One small integer for (prompt, first answer, second answer), order-sensitive so that a pair
 * and its swap get different keys. Lossy by design (30 bits, so V8 keeps it unboxed and map
 * look-ups stay cheap): every match is confirmed against the texts.
 */
export function pairKey(promptFingerprint: number, first: number, second: number): number {
  let h = (promptFingerprint >>> 0) ^ Math.imul(Math.floor(promptFingerprint / 0x100000000), 0x85ebca6b);
  h = Math.imul(h ^ first, 0x165667b1);
  h = Math.imul(h ^ second, 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 2;
}

/** FNV-1a over UTF-16 units, seeded with the length: one multiply a character. */
export function textHash32(text: string): number {
  let h = 0x811c9dc5 ^ text.length;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A 64-bit (two independent 32-bit FNV-1a lanes) fingerprint of a string, as hex. The dataset
 * lints compare records by fingerprint rather than by keeping every text in memory: a 100,000
 * record file then costs a few megabytes of keys instead of a second copy of the file.
 */
export function textFingerprint(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h1 >>> 0).toString(36) + '.' + (h2 >>> 0).toString(36);
}

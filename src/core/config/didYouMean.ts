/** Edit distance counting a swap of two neighbours as one edit (the commonest typo: `trainnig`). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2][j - 2] + 1);
      d[i][j] = best;
    }
  }
  return d[a.length][b.length];
}

// Case and `-` vs `_` are not typos worth counting: `Learning-Rate` means `learning_rate`.
function fold(word: string): string {
  return word.toLowerCase().replace(/-/g, '_');
}

/**
 * The candidate closest to `word`, if it is close enough to be a plausible typo (about a third
 * of the word may differ); undefined rather than a wild guess.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const folded = fold(word);
  const limit = Math.min(3, Math.max(1, Math.round(folded.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(folded, fold(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

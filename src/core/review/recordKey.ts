import { createHash } from 'node:crypto';
import type { NormalizedRecord } from '../dataset/types.ts';

/**
 * What a score is attached to: a hash of the texts the model scored (prompt and answers, after
 * the column mapping), not of the line. A decision, a note or reformatted JSON leave it alone;
 * an edited answer or a swap changes it, which is how a score is known to be stale. A pair's
 * `swappedKey` is the key it would have with chosen and rejected exchanged: a record swapped
 * after scoring still has a known score (its margin, negated).
 */
export interface RecordKeys {
  key: string;
  swappedKey?: string;
}

function hash(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 20);
}

export function recordKeys(normalized: NormalizedRecord): RecordKeys | undefined {
  if (normalized.kind === 'pair')
    return { key: hash(['pair', normalized.promptText, normalized.chosenText, normalized.rejectedText]), swappedKey: hash(['pair', normalized.promptText, normalized.rejectedText, normalized.chosenText]) };
  if (normalized.kind === 'candidates') return { key: hash(['candidates', normalized.promptText, ...normalized.candidates]) };
  return undefined;
}

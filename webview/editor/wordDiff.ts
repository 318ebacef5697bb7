import { diffWordsWithSpace } from 'diff';

export interface DiffSegment {
  text: string;
  /** True for words only this side has. */
  changed: boolean;
}

/** Past this, a word diff could take longer than a keypress should: it is abandoned. */
const DIFF_TIMEOUT_MS = 25;

/**
 * Word-level differences between the two answers, as segments of each side. Undefined when the
 * texts are too different (or too long) to diff within a few milliseconds.
 */
export function wordDiffSegments(left: string, right: string): { left: DiffSegment[]; right: DiffSegment[] } | undefined {
  // Whitespace counts as tokens, so each side's segments join back to exactly its own text.
  const changes = diffWordsWithSpace(left, right, { timeout: DIFF_TIMEOUT_MS });
  if (!changes) return undefined;
  const out = { left: [] as DiffSegment[], right: [] as DiffSegment[] };
  for (const change of changes) {
    if (change.removed) out.left.push({ text: change.value, changed: true });
    else if (change.added) out.right.push({ text: change.value, changed: true });
    else {
      out.left.push({ text: change.value, changed: false });
      out.right.push({ text: change.value, changed: false });
    }
  }
  return out;
}

import type { CandidateEntry, CandidatesRecord, PromptItem } from './types.ts';

/**
 * Turns a prompt's answers into its output record: identical answers are dropped (a labeler
 * can learn nothing from a pair of equal texts, and the validator flags them as
 * `duplicate-candidates`), the rest keep their order and their meta.
 */

/** Two answers count as identical when they differ only in surrounding whitespace. */
export function dropDuplicateCandidates(candidates: readonly CandidateEntry[]): { kept: CandidateEntry[]; dropped: number } {
  const seen = new Set<string>();
  const kept: CandidateEntry[] = [];
  for (const candidate of candidates) {
    const key = candidate.text.trim();
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(candidate);
  }
  return { kept, dropped: candidates.length - kept.length };
}

export interface BuiltRecord {
  record: CandidatesRecord;
  dropped: number;
}

/**
 * The record for one prompt: `id` (when the input had one), the prompt exactly as read, the
 * distinct candidates, and where the prompt came from.
 */
export function buildCandidatesRecord(item: PromptItem, candidates: readonly CandidateEntry[], source?: string): BuiltRecord {
  const { kept, dropped } = dropDuplicateCandidates(candidates);
  // Key order as a person reads the line: id, prompt, candidates, meta.
  const record: CandidatesRecord = { ...(item.id !== undefined ? { id: item.id } : {}), prompt: item.prompt, candidates: kept };
  const meta: Record<string, unknown> = {};
  if (source !== undefined) meta.source = `${source}:${item.line}`;
  if (dropped > 0) meta.duplicates_dropped = dropped;
  if (Object.keys(meta).length > 0) record.meta = meta;
  return { record, dropped };
}

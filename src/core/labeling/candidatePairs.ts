import type { ChatMessage } from '../dataset/types.ts';

export type PairExportMode = { kind: 'best-worst' } | { kind: 'ranked'; minGap: number };

interface CandidatesValue {
  id?: unknown;
  prompt: unknown;
  candidates: Array<string | { text: string; meta?: unknown }>;
  best?: number;
  worst?: number;
  ranking?: number[];
}

function candidateText(candidate: string | { text: string }): string {
  return typeof candidate === 'string' ? candidate : candidate.text;
}

/**
 * Turns a labeled candidates record into preference pairs: the best against the worst, or
 * every two ranked candidates at least `minGap` places apart (more pairs per prompt, as
 * ranking-based datasets like UltraFeedback are used). Unlabeled records give no pairs.
 * Conversational prompts get their answers as assistant turns, as TRL expects.
 */
export function candidatesToPairs(record: CandidatesValue, mode: PairExportMode): Array<Record<string, unknown>> {
  const answer = (index: number): string | ChatMessage[] => {
    const text = candidateText(record.candidates[index]!);
    return Array.isArray(record.prompt) ? [{ role: 'assistant', content: text }] : text;
  };
  const differ = (a: number, b: number) => candidateText(record.candidates[a]!) !== candidateText(record.candidates[b]!);
  const pair = (better: number, worse: number) => ({
    ...(record.id !== undefined ? { id: `${String(record.id)}:${better}>${worse}` } : {}),
    prompt: record.prompt,
    chosen: answer(better),
    rejected: answer(worse),
    source: 'candidates',
    meta: { chosen_index: better, rejected_index: worse, ...(record.id !== undefined ? { candidates_id: record.id } : {}) },
  });
  const count = record.candidates.length;
  const valid = (i: number | undefined): i is number => i !== undefined && Number.isInteger(i) && i >= 0 && i < count;
  if (mode.kind === 'best-worst') {
    const best = record.best ?? record.ranking?.[0];
    const worst = record.worst ?? record.ranking?.[record.ranking.length - 1];
    if (!valid(best) || !valid(worst) || best === worst || !differ(best, worst)) return [];
    return [pair(best, worst)];
  }
  const ranking = record.ranking?.filter(valid) ?? (valid(record.best) && valid(record.worst) && record.best !== record.worst ? [record.best, record.worst] : []);
  const pairs: Array<Record<string, unknown>> = [];
  for (let i = 0; i < ranking.length; i++) {
    for (let j = i + Math.max(1, mode.minGap); j < ranking.length; j++) {
      if (differ(ranking[i]!, ranking[j]!)) pairs.push(pair(ranking[i]!, ranking[j]!));
    }
  }
  return pairs;
}

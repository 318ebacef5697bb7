import type { ChatMessage } from './types.ts';

const ASSISTANT_TURN = '\n\nAssistant:';

/**
 * Splits an implicit-prompt pair of strings (Anthropic HH style) into prompt and completions.
 * The prompt is the longest common prefix; when that prefix contains an assistant turn marker
 * it is cut just after the last one, because HH pairs often agree on the first words of the
 * answer too, and those words belong to the answer, not to the prompt.
 */
export function splitImplicitText(chosen: string, rejected: string): { prompt: string; chosen: string; rejected: string } {
  let common = 0;
  const limit = Math.min(chosen.length, rejected.length);
  while (common < limit && chosen.charCodeAt(common) === rejected.charCodeAt(common)) common++;
  const marker = chosen.lastIndexOf(ASSISTANT_TURN, common - ASSISTANT_TURN.length);
  if (marker >= 0) common = marker + ASSISTANT_TURN.length;
  return { prompt: chosen.slice(0, common), chosen: chosen.slice(common), rejected: rejected.slice(common) };
}

/** Message-wise longest common prefix: the shared turns are the prompt, the rest the completions. */
export function splitImplicitMessages(
  chosen: ChatMessage[],
  rejected: ChatMessage[],
): { prompt: ChatMessage[]; chosen: ChatMessage[]; rejected: ChatMessage[] } {
  let common = 0;
  const limit = Math.min(chosen.length, rejected.length);
  while (
    common < limit &&
    chosen[common]!.role === rejected[common]!.role &&
    chosen[common]!.content === rejected[common]!.content
  ) {
    common++;
  }
  return { prompt: chosen.slice(0, common), chosen: chosen.slice(common), rejected: rejected.slice(common) };
}

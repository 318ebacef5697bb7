import { createHash } from 'node:crypto';
import type { PromptValue } from '../dataset/types.ts';

/**
 * The identity of a prompt for resuming: a hash of its canonical JSON. Canonical means only
 * what the model sees counts (a message's extra fields and the key order of an instruction
 * object do not), so the same prompt read from a prompts file, a preference file or an earlier
 * candidates output gets the same key. 64 bits of SHA-256: collisions are out of reach for any
 * dataset size, and keys stay short in memory.
 */
export function promptKey(prompt: PromptValue): string {
  return createHash('sha256').update(canonicalPrompt(prompt)).digest('hex').slice(0, 16);
}

function canonicalPrompt(prompt: PromptValue): string {
  if (typeof prompt === 'string') return JSON.stringify(prompt);
  if (Array.isArray(prompt)) return JSON.stringify(prompt.map((m) => [m.role, m.content]));
  return JSON.stringify({ instruction: prompt.instruction, input: prompt.input ?? '' });
}

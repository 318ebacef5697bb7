import { normalizeRecord, promptToText } from '../../core/dataset/formats.ts';
import { splitImplicitMessages } from '../../core/dataset/implicitPrompt.ts';
import type { ChatMessage, PromptValue, RecordFormat } from '../../core/dataset/types.ts';
import type { TextTokenizer } from './textTokenizer.ts';

/**
 * A preference record turned into token ids the way TRL's DPO trainer does it, so that
 * log-probabilities and losses here mean the same as there:
 * - conversational: prompt = template(prompt turns, add_generation_prompt), each answer =
 *   template(prompt turns + answer turns) minus the prompt's tokens (no EOS added: the
 *   template closes the turn);
 * - standard / instruction / implicit text: the prompt text and the answer text tokenized
 *   separately, EOS appended to each answer;
 * - implicit chat turns: the shared leading turns are the prompt, then as conversational;
 * - labelled candidates: best as chosen, worst as rejected.
 */

export interface PairTokens {
  promptIds: number[];
  chosenIds: number[];
  rejectedIds: number[];
  /** Things worth telling the user (template prefix mismatch, truncation). */
  warnings: string[];
}

export type TruncationMode = 'keep_end' | 'keep_start';

/** TRL's max_length / max_prompt_length / truncation_mode. */
export interface TruncationOptions {
  /** Longest prompt + answer, in tokens. */
  maxLength?: number;
  /** Longest prompt, in tokens, cut before max_length is applied. */
  maxPromptLength?: number;
  /** keep_end (TRL's default): drop prompt tokens from the start first; keep_start: drop answer tokens from the end. */
  truncationMode?: TruncationMode;
}

type JsonObject = Record<string, unknown>;

function asMessages(value: unknown): ChatMessage[] {
  return typeof value === 'string' ? [{ role: 'assistant', content: value }] : (value as ChatMessage[]);
}

function startsWith(ids: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > ids.length) return false;
  for (let i = 0; i < prefix.length; i++) if (ids[i] !== prefix[i]) return false;
  return true;
}

function conversationTokens(tokenizer: TextTokenizer, prompt: ChatMessage[], chosen: ChatMessage[], rejected: ChatMessage[]): PairTokens {
  const warnings: string[] = [];
  const promptIds = tokenizer.encode(tokenizer.applyChatTemplate(prompt, { addGenerationPrompt: true }));
  const completion = (answer: ChatMessage[], which: string) => {
    const full = tokenizer.encode(tokenizer.applyChatTemplate([...prompt, ...answer]));
    if (!startsWith(full, promptIds))
      warnings.push(`the tokens of the prompt are not a prefix of the tokens of prompt + ${which} (chat template or tokenizer merges across the boundary); the ${which} answer is taken as everything after the prompt's ${promptIds.length} tokens`);
    return full.slice(promptIds.length);
  };
  return { promptIds, chosenIds: completion(chosen, 'chosen'), rejectedIds: completion(rejected, 'rejected'), warnings };
}

function textTokens(tokenizer: TextTokenizer, prompt: string, chosen: string, rejected: string): PairTokens {
  const eos = tokenizer.eosTokenId === undefined ? [] : [tokenizer.eosTokenId];
  return { promptIds: tokenizer.encode(prompt), chosenIds: [...tokenizer.encode(chosen), ...eos], rejectedIds: [...tokenizer.encode(rejected), ...eos], warnings: [] };
}

/** Cuts a tokenized pair to the limits (see TruncationOptions); warns when it had to. */
export function truncatePair(pair: PairTokens, options: TruncationOptions): PairTokens {
  let { promptIds, chosenIds, rejectedIds } = pair;
  const warnings = [...pair.warnings];
  const keepEnd = (options.truncationMode ?? 'keep_end') === 'keep_end';
  if (options.maxPromptLength !== undefined && promptIds.length > options.maxPromptLength) {
    warnings.push(`prompt cut from ${promptIds.length} to ${options.maxPromptLength} tokens (max_prompt_length)`);
    promptIds = keepEnd ? promptIds.slice(promptIds.length - options.maxPromptLength) : promptIds.slice(0, options.maxPromptLength);
  }
  const max = options.maxLength;
  if (max !== undefined) {
    const longest = promptIds.length + Math.max(chosenIds.length, rejectedIds.length);
    if (longest > max) {
      warnings.push(`prompt + answer cut from ${longest} to ${max} tokens (max_length, ${keepEnd ? 'keep_end' : 'keep_start'})`);
      // At least one prompt token stays, so the first answer token keeps a context to be scored in.
      if (keepEnd) promptIds = promptIds.slice(Math.min(longest - max, Math.max(promptIds.length - 1, 0)));
      else if (promptIds.length >= max) promptIds = promptIds.slice(0, Math.max(max - 1, 1));
      const room = Math.max(max - promptIds.length, 0);
      chosenIds = chosenIds.slice(0, room);
      rejectedIds = rejectedIds.slice(0, room);
    }
  }
  return { promptIds, chosenIds, rejectedIds, warnings };
}

/**
 * Tokenizes a record that passed the dataset core's validation as `format` (a pair format, not
 * candidates). Records whose chat turns have to go through a template need one in the tokenizer.
 */
export function tokenizePair(tokenizer: TextTokenizer, record: JsonObject, format: RecordFormat, options: TruncationOptions = {}): PairTokens {
  let pair: PairTokens;
  switch (format) {
    case 'conversational':
      pair = conversationTokens(tokenizer, record.prompt as ChatMessage[], asMessages(record.chosen), asMessages(record.rejected));
      break;
    case 'standard':
    case 'instruction':
      pair = textTokens(tokenizer, promptToText(record.prompt as PromptValue), record.chosen as string, record.rejected as string);
      break;
    case 'implicit': {
      if (Array.isArray(record.chosen)) {
        const split = splitImplicitMessages(record.chosen as ChatMessage[], record.rejected as ChatMessage[]);
        pair = conversationTokens(tokenizer, split.prompt, split.chosen, split.rejected);
      } else {
        const normalized = normalizeRecord(record, 'implicit');
        if (normalized.kind !== 'pair') throw new Error('unreachable');
        pair = textTokens(tokenizer, normalized.promptText, normalized.chosenText, normalized.rejectedText);
      }
      break;
    }
    case 'candidates': {
      // A labelled candidates record is a pair: best is chosen, worst rejected.
      const normalized = normalizeRecord(record, 'candidates');
      if (normalized.kind !== 'candidates' || normalized.best === undefined || normalized.worst === undefined) throw new Error('a candidates record without "best" and "worst" is not a pair yet: label it first');
      const chosen = normalized.candidates[normalized.best]!;
      const rejected = normalized.candidates[normalized.worst]!;
      pair = Array.isArray(record.prompt)
        ? conversationTokens(tokenizer, record.prompt as ChatMessage[], asMessages(chosen), asMessages(rejected))
        : textTokens(tokenizer, promptToText(record.prompt as PromptValue), chosen, rejected);
      break;
    }
    default:
      throw new Error(`a ${format} record is for supervised fine-tuning, not a preference pair: train it with training.stage: sft`);
  }
  if (pair.promptIds.length === 0 && tokenizer.bosTokenId !== undefined) {
    // With no prompt the first answer token would have nothing to be predicted from.
    pair.promptIds = [tokenizer.bosTokenId];
    pair.warnings.push('empty prompt: the BOS token is used as the prompt');
  }
  return truncatePair(pair, options);
}

import { promptToText } from '../../core/dataset/formats.ts';
import type { ChatMessage, SftFormat } from '../../core/dataset/types.ts';
import type { TextTokenizer } from './textTokenizer.ts';

/**
 * An SFT record turned into token ids the way TRL's SFTTrainer does it, with the mask of the
 * tokens the loss trains on:
 * - prompt/completion text: prompt + completion + EOS tokenized as one text, as `tokenizer(text)`
 *   does it (with the post-processor's special tokens: Llama's BOS), the completion being
 *   everything after the prompt's tokens; as chat turns: template(prompt, add_generation_prompt)
 *   then template(prompt + completion);
 * - instruction/input/output (TRL has no such format): the prompt rendered and tokenized exactly
 *   as the DPO instruction format's prompt is (pairTokens.ts), so the SFT model learns on the
 *   prompts DPO will show it, then output + EOS;
 * - messages: template(messages), every assistant turn trained (its tokens are those that
 *   template(turns up to it) adds to template(turns before it, add_generation_prompt));
 * - text: every token, as `tokenizer(text)` gives them, EOS appended.
 * With completion_only_loss false every token trains, as TRL's does.
 */

export interface SftTokens {
  inputIds: number[];
  /** 1 for a token the loss trains on (as a target), per input token. */
  labelMask: number[];
  warnings: string[];
}

type JsonObject = Record<string, unknown>;

function startsWith(ids: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > ids.length) return false;
  for (let i = 0; i < prefix.length; i++) if (ids[i] !== prefix[i]) return false;
  return true;
}

function withEos(tokenizer: TextTokenizer, ids: number[]): number[] {
  const eos = tokenizer.eosTokenId;
  return eos === undefined || ids[ids.length - 1] === eos ? ids : [...ids, eos];
}

function split(promptIds: number[], inputIds: number[], warnings: string[]): SftTokens {
  if (!startsWith(inputIds, promptIds))
    warnings.push(`the tokens of the prompt are not a prefix of the tokens of prompt + completion (chat template or tokenizer merges across the boundary); the completion is taken as everything after the prompt's ${promptIds.length} tokens`);
  const cut = Math.min(promptIds.length, inputIds.length);
  return { inputIds, labelMask: inputIds.map((_, i) => (i < cut ? 0 : 1)), warnings };
}

function conversationTokens(tokenizer: TextTokenizer, messages: readonly ChatMessage[]): SftTokens {
  const warnings: string[] = [];
  const inputIds = tokenizer.encode(tokenizer.applyChatTemplate(messages));
  const labelMask = new Array<number>(inputIds.length).fill(0);
  messages.forEach((message, i) => {
    if (message.role !== 'assistant') return;
    const before = tokenizer.encode(tokenizer.applyChatTemplate(messages.slice(0, i), { addGenerationPrompt: true }));
    const through = tokenizer.encode(tokenizer.applyChatTemplate(messages.slice(0, i + 1)));
    if (!startsWith(inputIds, through) || !startsWith(through, before)) {
      warnings.push(`assistant turn ${i}: the chat template does not render the conversation as a growing prefix, so this turn's tokens were located by its turns' lengths`);
    }
    for (let t = Math.min(before.length, inputIds.length); t < Math.min(through.length, inputIds.length); t++) labelMask[t] = 1;
  });
  return { inputIds, labelMask, warnings };
}

/** Tokenizes a record that passed the dataset core's validation as the SFT `format`. */
export function tokenizeSft(tokenizer: TextTokenizer, record: JsonObject, format: SftFormat, options: { completionOnlyLoss: boolean }): SftTokens {
  let tokens: SftTokens;
  switch (format) {
    case 'prompt-completion': {
      if (Array.isArray(record.prompt)) {
        const prompt = record.prompt as ChatMessage[];
        const promptIds = tokenizer.encode(tokenizer.applyChatTemplate(prompt, { addGenerationPrompt: true }));
        tokens = split(promptIds, tokenizer.encode(tokenizer.applyChatTemplate([...prompt, ...(record.completion as ChatMessage[])])), []);
      } else {
        const prompt = record.prompt as string;
        tokens = split(tokenizer.encodeWithSpecialTokens(prompt), withEos(tokenizer, tokenizer.encodeWithSpecialTokens(prompt + (record.completion as string))), []);
      }
      break;
    }
    case 'alpaca': {
      const promptIds = tokenizer.encode(promptToText({ instruction: record.instruction as string, ...(typeof record.input === 'string' ? { input: record.input } : {}) }));
      const outputIds = withEos(tokenizer, tokenizer.encode(record.output as string));
      tokens = { inputIds: [...promptIds, ...outputIds], labelMask: [...promptIds.map(() => 0), ...outputIds.map(() => 1)], warnings: [] };
      break;
    }
    case 'messages':
      tokens = conversationTokens(tokenizer, record.messages as ChatMessage[]);
      break;
    case 'text': {
      const inputIds = withEos(tokenizer, tokenizer.encodeWithSpecialTokens(record.text as string));
      tokens = { inputIds, labelMask: inputIds.map(() => 1), warnings: [] };
      break;
    }
  }
  if (!options.completionOnlyLoss) tokens.labelMask = tokens.labelMask.map(() => 1);
  return tokens;
}

/** Cuts a record to `maxLength` tokens, keeping its start, as TRL's SFTTrainer truncates by default. */
export function truncateSft(tokens: SftTokens, maxLength: number): SftTokens {
  if (tokens.inputIds.length <= maxLength) return tokens;
  return {
    inputIds: tokens.inputIds.slice(0, maxLength),
    labelMask: tokens.labelMask.slice(0, maxLength),
    warnings: [...tokens.warnings, `cut from ${tokens.inputIds.length} to ${maxLength} tokens (max_length)`],
  };
}

/** Tokens and mask of a record, or of several packed into one row (`seqLengths`: each record's tokens). */
export interface TargetLayout {
  inputIds: readonly number[];
  labelMask: readonly number[];
  seqLengths?: readonly number[];
}

/**
 * Where an example's trained targets are: token t > 0 with its mask set, in the same record as
 * token t - 1 (a packed record's first token is not predicted from the record before it).
 */
export function targetPositions(example: TargetLayout): number[] {
  const starts = new Set<number>();
  let at = 0;
  for (const length of example.seqLengths ?? [example.inputIds.length]) {
    starts.add(at);
    at += length;
  }
  const positions: number[] = [];
  for (let t = 1; t < example.inputIds.length; t++) if (example.labelMask[t] === 1 && !starts.has(t)) positions.push(t);
  return positions;
}

/** How many targets an example trains on (a record with none has nothing to learn from). */
export const exampleTargets = (example: TargetLayout): number => targetPositions(example).length;

import { splitImplicitMessages, splitImplicitText } from './implicitPrompt.ts';
import type { ChatMessage, NormalizedRecord, NormalizedSft, PromptValue, RecordFormat, SftFormat } from './types.ts';

type JsonObject = Record<string, unknown>;

/**
 * Decides which format a record claims to be from its shape alone, before validation, so that
 * schema errors can be reported against the format the user meant ("chosen must be a string")
 * instead of a union of every format's complaints. Returns undefined when the record has none
 * of the keys any format uses.
 */
export function detectFormat(record: JsonObject): RecordFormat | undefined {
  if ('candidates' in record) return 'candidates';
  if (!('chosen' in record) && !('rejected' in record)) {
    const sft = detectSftFormat(record);
    if (sft) return sft;
  }
  if ('prompt' in record) {
    const prompt = record.prompt;
    if (Array.isArray(prompt)) return 'conversational';
    if (prompt !== null && typeof prompt === 'object') return 'instruction';
    return 'standard';
  }
  if ('chosen' in record || 'rejected' in record) return 'implicit';
  return undefined;
}

/** An SFT record's format from its keys; a preference record's keys (chosen, rejected) were ruled out. */
function detectSftFormat(record: JsonObject): SftFormat | undefined {
  if ('messages' in record) return 'messages';
  if ('completion' in record) return 'prompt-completion';
  if ('output' in record || ('instruction' in record && !('prompt' in record))) return 'alpaca';
  if ('text' in record && !('prompt' in record)) return 'text';
  return undefined;
}

export function messagesToText(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `${m.role}: ${m.content}`).join('\n');
}

/** The prompt as one text, for lints and statistics (not for tokenisation: that is the trainer's). */
export function promptToText(prompt: PromptValue): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt)) return messagesToText(prompt);
  return prompt.input ? `${prompt.instruction}\n\n${prompt.input}` : prompt.instruction;
}

/** An answer's text: for chat turns, what was said without the role labels, which would
 * otherwise make every pair of answers look alike to the similarity lint. */
function completionToText(value: unknown): string {
  return Array.isArray(value) ? (value as ChatMessage[]).map((m) => m.content).join('\n') : (value as string);
}

export function candidateText(candidate: unknown): string {
  return typeof candidate === 'string' ? candidate : (candidate as { text: string }).text;
}

/** Index of the last assistant turn when the conversation ends with one, else -1. */
export function finalAssistantTurn(messages: readonly ChatMessage[]): number {
  return messages.length > 0 && messages[messages.length - 1]!.role === 'assistant' ? messages.length - 1 : -1;
}

function normalizeSft(record: JsonObject, format: SftFormat): NormalizedSft {
  switch (format) {
    case 'alpaca':
      return { kind: 'sft', format, promptText: promptToText({ instruction: record.instruction as string, ...(typeof record.input === 'string' ? { input: record.input } : {}) }), completionText: record.output as string };
    case 'prompt-completion': {
      if (Array.isArray(record.prompt) && Array.isArray(record.completion)) {
        const prompt = record.prompt as ChatMessage[];
        const completion = record.completion as ChatMessage[];
        return { kind: 'sft', format, promptText: messagesToText(prompt), completionText: completionToText(completion), messages: [...prompt, ...completion] };
      }
      return { kind: 'sft', format, promptText: promptToText(record.prompt as PromptValue), completionText: completionToText(record.completion) };
    }
    case 'messages': {
      const messages = record.messages as ChatMessage[];
      const last = finalAssistantTurn(messages);
      const context = last < 0 ? messages : messages.slice(0, last);
      return { kind: 'sft', format, promptText: messagesToText(context), completionText: last < 0 ? '' : messages[last]!.content, messages };
    }
    case 'text':
      return { kind: 'sft', format, promptText: '', completionText: record.text as string };
  }
}

/** Reduces a record that already passed its format's schema to plain texts. */
export function normalizeRecord(record: JsonObject, format: RecordFormat): NormalizedRecord {
  switch (format) {
    case 'alpaca':
    case 'prompt-completion':
    case 'messages':
    case 'text':
      return normalizeSft(record, format);
    case 'candidates':
      return {
        kind: 'candidates',
        format,
        promptText: promptToText(record.prompt as PromptValue),
        candidates: (record.candidates as unknown[]).map(candidateText),
        ...(typeof record.best === 'number' ? { best: record.best } : {}),
        ...(typeof record.worst === 'number' ? { worst: record.worst } : {}),
        ...(Array.isArray(record.ranking) ? { ranking: record.ranking as number[] } : {}),
      };
    case 'implicit': {
      if (Array.isArray(record.chosen)) {
        const split = splitImplicitMessages(record.chosen as ChatMessage[], record.rejected as ChatMessage[]);
        return {
          kind: 'pair',
          format,
          promptText: messagesToText(split.prompt),
          promptMessages: split.prompt,
          chosenText: completionToText(split.chosen),
          rejectedText: completionToText(split.rejected),
        };
      }
      const split = splitImplicitText(record.chosen as string, record.rejected as string);
      return { kind: 'pair', format, promptText: split.prompt, chosenText: split.chosen, rejectedText: split.rejected };
    }
    case 'conversational':
      return {
        kind: 'pair',
        format,
        promptText: messagesToText(record.prompt as ChatMessage[]),
        promptMessages: record.prompt as ChatMessage[],
        chosenText: completionToText(record.chosen),
        rejectedText: completionToText(record.rejected),
      };
    case 'standard':
    case 'instruction':
      return {
        kind: 'pair',
        format,
        promptText: promptToText(record.prompt as PromptValue),
        chosenText: completionToText(record.chosen),
        rejectedText: completionToText(record.rejected),
      };
  }
}

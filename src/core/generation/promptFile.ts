import { applyColumnMapping, type ColumnMapping } from '../dataset/columnMapping.ts';
import { splitImplicitMessages, splitImplicitText } from '../dataset/implicitPrompt.ts';
import { parquetRowBatches } from '../dataset/parquetTable.ts';
import { splitRecords } from '../dataset/recordSpans.ts';
import type { ChatMessage, PromptValue } from '../dataset/types.ts';
import { fileKindOf } from '../dataset/validateText.ts';
import { promptKey } from './promptKey.ts';
import type { PromptItem } from './types.ts';

/**
 * Reads the prompts to answer from whatever file a user already has: a prompts file (JSON
 * Lines or a JSON array of records with a `prompt`), any preference file (the prompt of each
 * pair, the implicit ones included), a candidates file (to answer its prompts again), Alpaca
 * style `instruction`/`input` records, chat `messages` records, or plain text with one prompt
 * per line.
 */

export interface PromptFileIssue {
  line: number;
  message: string;
}

export interface PromptFile {
  /** `records` for JSON / JSON Lines, `lines` for plain text. */
  kind: 'records' | 'lines';
  /** Unique prompts in file order. */
  items: PromptItem[];
  /** Lines that hold no usable prompt; they are skipped. */
  issues: PromptFileIssue[];
  /** Prompts seen earlier in the file (a preference file often repeats a prompt): answered once. */
  duplicates: Array<{ line: number; firstLine: number }>;
}

const TEXT_EXTENSIONS = /\.(txt|text|md|prompts)$/i;
const JSON_EXTENSIONS = /\.(jsonl|ndjson|json)$/i;
/** Dataset-shape complaints the validator makes that do not stop reading the prompts. */
const HARMLESS_FILE_ISSUES = new Set(['json-array-in-jsonl', 'jsonl-in-json-file']);

export function readPromptFile(text: string, fileName: string): PromptFile {
  return isPlainText(text, fileName) ? readLines(text) : readRecords(text, fileName);
}

/** `.txt`-like names are text; `.jsonl`/`.json` are records; anything else is sniffed. */
function isPlainText(text: string, fileName: string): boolean {
  if (TEXT_EXTENSIONS.test(fileName)) return true;
  if (JSON_EXTENSIONS.test(fileName)) return false;
  const body = text.replace(/^\uFEFF/, '').trim();
  if (!body.startsWith('{') && !body.startsWith('[')) return true;
  // JSON Lines parse line by line, a (pretty-printed) JSON array as a whole; a line such as
  // "[draft] write a poem" parses as neither and is a prompt.
  for (const candidate of [body.split('\n', 1)[0]!, body]) {
    try {
      JSON.parse(candidate);
      return false;
    } catch {
      // Try the next reading.
    }
  }
  return true;
}

function collector(kind: PromptFile['kind']) {
  const file: PromptFile = { kind, items: [], issues: [], duplicates: [] };
  const firstLineOf = new Map<string, number>();
  const add = (prompt: PromptValue, line: number, id?: unknown) => {
    const key = promptKey(prompt);
    const first = firstLineOf.get(key);
    if (first !== undefined) {
      file.duplicates.push({ line, firstLine: first });
      return;
    }
    firstLineOf.set(key, line);
    const item: PromptItem = { key, prompt, line };
    if (typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id))) item.id = id;
    file.items.push(item);
  };
  return { file, add };
}

function readLines(text: string): PromptFile {
  const { file, add } = collector('lines');
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((raw, i) => {
      const prompt = raw.trim();
      if (prompt) add(prompt, i + 1);
    });
  if (file.items.length === 0) file.issues.push({ line: 1, message: 'The file holds no prompts (one prompt per line)' });
  return file;
}

function readRecords(text: string, fileName: string): PromptFile {
  const { file, add } = collector('records');
  const split = splitRecords(text, fileKindOf(fileName));
  for (const issue of split.issues) if (!HARMLESS_FILE_ISSUES.has(issue.code)) file.issues.push({ line: issue.line, message: issue.message });
  for (const span of split.spans) {
    let value: unknown;
    try {
      value = JSON.parse(span.source);
    } catch (error) {
      file.issues.push({ line: span.line, message: `Not valid JSON: ${(error as Error).message}` });
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      file.issues.push({ line: span.line, message: 'A record must be a JSON object' });
      continue;
    }
    const record = value as Record<string, unknown>;
    const found = promptOf(record);
    if (typeof found === 'string') file.issues.push({ line: span.line, message: found });
    else add(found.prompt, span.line, record.id);
  }
  return file;
}

/** The prompts of Parquet files (a file, or a Hub split's shards), a row group at a time, the column mapping applied; `line` is the row. */
export async function readPromptTable(files: readonly string[], columns?: ColumnMapping): Promise<PromptFile> {
  const { file, add } = collector('records');
  for await (const batch of parquetRowBatches(files)) {
    batch.rows.forEach((row, i) => {
      const record = applyColumnMapping(row, columns);
      const found = promptOf(record);
      if (typeof found === 'string') file.issues.push({ line: batch.start + i + 1, message: found });
      else add(found.prompt, batch.start + i + 1, record.id);
    });
  }
  return file;
}

const isBlank = (text: string) => text.trim().length === 0;

function isMessages(value: unknown): value is ChatMessage[] {
  return Array.isArray(value) && value.every((m) => m !== null && typeof m === 'object' && typeof (m as ChatMessage).role === 'string' && typeof (m as ChatMessage).content === 'string');
}

/** The prompt of a record, or why it has none. */
function promptOf(record: Record<string, unknown>): { prompt: PromptValue } | string {
  if ('prompt' in record) return checkedPrompt(record.prompt, '"prompt"');
  if ('chosen' in record || 'rejected' in record) {
    // Implicit-prompt pairs: the prompt is the shared beginning, as the validator reads it.
    const { chosen, rejected } = record;
    if (typeof chosen === 'string' && typeof rejected === 'string') {
      const prompt = splitImplicitText(chosen, rejected).prompt;
      return isBlank(prompt) ? 'No prompt: "chosen" and "rejected" share no beginning' : { prompt };
    }
    if (isMessages(chosen) && isMessages(rejected)) {
      const prompt = splitImplicitMessages(chosen, rejected).prompt;
      return prompt.length === 0 ? 'No prompt: "chosen" and "rejected" share no turn' : { prompt };
    }
    return 'No prompt: a pair without "prompt" needs "chosen" and "rejected" as two strings or two message lists';
  }
  if (typeof record.instruction === 'string') {
    const input = record.input;
    return checkedPrompt(typeof input === 'string' && input.length > 0 ? { instruction: record.instruction, input } : { instruction: record.instruction }, '"instruction"');
  }
  if ('messages' in record) {
    if (!isMessages(record.messages)) return '"messages" must be a list of {"role", "content"} turns';
    // A whole conversation: everything before its final answer is the prompt.
    const turns = record.messages;
    const prompt = turns.length > 0 && turns[turns.length - 1]!.role === 'assistant' ? turns.slice(0, -1) : turns;
    return prompt.length === 0 ? '"messages" holds no turn before the answer' : { prompt };
  }
  return 'No prompt: expected a "prompt" field (or "chosen"/"rejected", "instruction", "messages")';
}

function checkedPrompt(value: unknown, field: string): { prompt: PromptValue } | string {
  if (typeof value === 'string') return isBlank(value) ? `${field} is empty` : { prompt: value };
  if (isMessages(value)) {
    if (value.length === 0) return `${field} has no turns`;
    if (value.every((m) => isBlank(m.content))) return `${field} has only empty turns`;
    return { prompt: value };
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const { instruction, input } = value as { instruction?: unknown; input?: unknown };
    if (typeof instruction !== 'string') return `${field} must have an "instruction" string`;
    if (input !== undefined && typeof input !== 'string') return `${field}'s "input" must be a string`;
    if (isBlank(instruction) && (input === undefined || isBlank(input))) return `${field} is empty`;
    return { prompt: input === undefined ? { instruction } : { instruction, input } };
  }
  return `${field} must be a string, an {"instruction", "input"} object or a list of {"role", "content"} messages`;
}

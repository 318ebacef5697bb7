import { detectFormat, finalAssistantTurn, normalizeRecord } from './formats.ts';
import type { LintCode, LintOptions } from './lintRules.ts';
import { describeJsonSyntaxError, locatePointer } from './locate.ts';
import { findDuplicateKey } from './duplicateKeys.ts';
import { applyColumnMapping, unmapPointer } from './columnMapping.ts';
import { validateRecordSchema } from './schemaValidation.ts';
import { sampledTextKey, textFingerprint } from './textHash.ts';
import { textSimilarity } from './textSimilarity.ts';
import type { ChatMessage, NormalizedRecord, NormalizedSft, RecordFormat, Severity } from './types.ts';

/** A problem located relative to its record's source text. */
export interface RecordProblem {
  severity: Severity;
  code: string;
  message: string;
  pointer: string;
  offset: number;
  length: number;
}

/** What the dataset-level lints and statistics need to know of a valid record. */
export interface RecordSummary {
  format: RecordFormat;
  promptKey: number;
  promptLength: number;
  /** Pairs: sampled keys (see `sampledTextKey`) and lengths of the answers. */
  chosenKey?: number;
  rejectedKey?: number;
  chosenLength?: number;
  rejectedLength?: number;
  /** SFT records: a key of the completion (chosenKey holds it too) and its length. */
  completionLength?: number;
  /** Candidates records: how many answers, and whether a choice was made. */
  candidateCount?: number;
  labeled?: boolean;
}

export interface RecordAnalysis {
  /** The parsed value, undefined when the source is not valid JSON. */
  value: unknown;
  problems: RecordProblem[];
  normalized?: NormalizedRecord;
  summary?: RecordSummary;
}

interface PendingProblem {
  severity: Severity;
  code: string;
  message: string;
  pointer: string;
  locationPointer?: string;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Parses, validates and lints one record, independently of every other record. Independence
 * is what makes incremental validation possible: an editor can cache this by source text and
 * redo only the lines that changed.
 */
export function analyzeRecord(source: string, options: LintOptions): RecordAnalysis {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    const nul = source.indexOf('\u0000');
    if (nul >= 0)
      return { value: undefined, problems: [{ severity: 'error', code: 'binary-line', message: 'This line holds NUL bytes (binary data, e.g. left by a crash or a disk error), not a record', pointer: '', offset: nul, length: 1 }] };
    const where = describeJsonSyntaxError(source, error);
    return { value: undefined, problems: [{ severity: 'error', code: 'invalid-json', message: where.message, pointer: '', offset: where.offset, length: where.length }] };
  }
  return analyzeValue(source, value, options);
}

/** Like `analyzeRecord` for a value already parsed from `source`. */
export function analyzeValue(source: string, value: unknown, options: LintOptions): RecordAnalysis {
  const mapping = options.columns;
  const mapped = mapping && value !== null && typeof value === 'object' && !Array.isArray(value) ? applyColumnMapping(value as Record<string, unknown>, mapping) : value;
  const { pending, result } = analyzeParsed(mapped, options);
  result.problems = pending.map((p) => {
    const pointer = unmapPointer(p.pointer, mapping);
    const span = locatePointer(source, unmapPointer(p.locationPointer ?? p.pointer, mapping));
    return { severity: p.severity, code: p.code, message: p.message, pointer, offset: span.offset, length: span.length };
  });
  if (!options.disabled.has('duplicate-key') && typeof value === 'object' && value !== null) {
    const duplicate = findDuplicateKey(source, value);
    if (duplicate)
      result.problems.push({
        severity: 'warning',
        code: 'duplicate-key',
        message: `"${duplicate.key}" appears twice in this object: readers keep only the last value, so what trains may not be what you read`,
        pointer: `${duplicate.pointer}/${duplicate.key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        offset: duplicate.offset,
        length: duplicate.length,
      });
  }
  return result;
}

/**
 * A row of a table (Parquet) as a record, its column mapping applied: there is no source text,
 * so problems carry the column (`pointer`, in the file's own column names) instead of an offset.
 */
export function analyzeRow(row: Record<string, unknown>, options: LintOptions): RecordAnalysis {
  const mapping = options.columns;
  const value = applyColumnMapping(row, mapping);
  const { pending, result } = analyzeParsed(value, options);
  result.problems = pending.map((p) => ({ severity: p.severity, code: p.code, message: p.message, pointer: unmapPointer(p.pointer, mapping), offset: 0, length: 0 }));
  return result;
}

function analyzeParsed(value: unknown, options: LintOptions): { pending: PendingProblem[]; result: RecordAnalysis } {
  const pending: PendingProblem[] = [];
  const result: RecordAnalysis = { value, problems: [] };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    pending.push({ severity: 'error', code: 'not-an-object', message: `A record must be a JSON object, found ${typeName(value)}`, pointer: '' });
  } else {
    const record = value as Record<string, unknown>;
    const format = detectFormat(record);
    if (!format) {
      const keys = Object.keys(record);
      pending.push({
        severity: 'error',
        code: 'unknown-format',
        message:
          'Not a preference or SFT record: expected "prompt", "chosen" and "rejected" (or "chosen" and "rejected" sharing a prompt prefix, or "prompt" and "candidates") for DPO, ' +
          'or "instruction"/"input"/"output", "prompt"/"completion", "messages" or "text" for SFT' +
          (keys.length ? `; found ${keys.slice(0, 8).map((k) => JSON.stringify(k)).join(', ')} (other names: map them with data.columns or --columns)` : '; the object is empty'),
        pointer: '',
      });
    } else {
      const schemaIssues = validateRecordSchema(record, format);
      for (const issue of schemaIssues) pending.push({ severity: 'error', ...issue });
      if (schemaIssues.length === 0) {
        const normalized = normalizeRecord(record, format);
        result.normalized = normalized;
        result.summary = lintRecord(record, normalized, options, pending);
      }
    }
  }
  return { pending, result };
}

/** No character but whitespace (what trim() removes): a search that stops at the first other character, with no copy of the text. */
const NOT_WHITESPACE = /\S/;
const isBlank = (text: string) => !NOT_WHITESPACE.test(text);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** String.prototype.isWellFormed (native in Node 20) where it exists. */
function isWellFormed(text: string): boolean {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  return native ? native.call(text) : !LONE_SURROGATE.test(text);
}

/** The texts of a prompt, answer or message list, each with the pointer of the field holding it. */
function fieldTexts(value: unknown, pointer: string): Array<[string, string]> {
  if (typeof value === 'string') return [[pointer, value]];
  if (Array.isArray(value)) return (value as ChatMessage[]).map((m, i) => [`${pointer}/${i}/content`, m.content]);
  if (value && typeof value === 'object') return [[`${pointer}/instruction`, (value as { instruction: string }).instruction]];
  return [];
}

type Report = (code: LintCode, message: string, pointer: string) => void;
type CheckTexts = (fields: Array<[string, string]>, what: string) => void;

/** An SFT record's lints: empty or over-long texts, and a conversation that gives the model no last word to learn. */
function lintSftRecord(record: Record<string, unknown>, normalized: NormalizedSft, report: Report, checkTexts: CheckTexts): RecordSummary {
  switch (normalized.format) {
    case 'alpaca':
      checkTexts([['/instruction', record.instruction as string]], 'The instruction');
      checkTexts([['/output', record.output as string]], 'The output');
      break;
    case 'prompt-completion':
      checkTexts(fieldTexts(record.prompt, '/prompt'), 'The prompt');
      checkTexts(fieldTexts(record.completion, '/completion'), 'The completion');
      break;
    case 'messages': {
      const messages = record.messages as ChatMessage[];
      checkTexts(fieldTexts(messages, '/messages'), 'A message');
      if (finalAssistantTurn(messages) < 0) {
        const assistantTurns = messages.filter((m) => m.role === 'assistant').length;
        report(
          'no-final-assistant-turn',
          assistantTurns === 0
            ? 'The conversation has no assistant turn: with the loss on assistant tokens only, there is nothing to learn from it'
            : `The conversation ends with a "${messages[messages.length - 1]!.role}" turn, not an assistant turn: that last turn teaches nothing and was probably cut off`,
          `/messages/${messages.length - 1}`,
        );
      }
      break;
    }
    case 'text':
      checkTexts([['/text', record.text as string]], 'The text');
      break;
  }
  const completionKey = sampledTextKey(normalized.completionText);
  return {
    format: normalized.format,
    promptKey: textFingerprint(normalized.promptText),
    promptLength: normalized.promptText.length,
    chosenKey: completionKey,
    rejectedKey: completionKey,
    completionLength: normalized.completionText.length,
  };
}

function lintRecord(record: Record<string, unknown>, normalized: NormalizedRecord, options: LintOptions, out: PendingProblem[]): RecordSummary {
  const report: Report = (code, message, pointer) => {
    if (!options.disabled.has(code)) out.push({ severity: 'warning', code, message, pointer });
  };
  const checkText = (pointer: string, text: string, what: string) => {
    if (isBlank(text)) report('empty-text', `${what} is empty`, pointer);
    else if (!isWellFormed(text)) report('lone-surrogate', `${what} holds a lone UTF-16 surrogate (half of a pair, e.g. \\ud800): tokenizers turn it into a replacement character`, pointer);
    else if (text.length > options.maxTextLength) report('text-too-long', `${what} is ${text.length} characters long, over the maximum of ${options.maxTextLength}`, pointer);
  };
  const checkTexts: CheckTexts = (fields, what) => {
    for (const [pointer, text] of fields) checkText(pointer, text, what);
  };
  if (normalized.kind === 'sft') return lintSftRecord(record, normalized, report, checkTexts);

  if (normalized.kind === 'candidates') {
    checkTexts(fieldTexts(record.prompt, '/prompt'), 'The prompt');
    const firstIndexOf = new Map<string, number>();
    normalized.candidates.forEach((text, i) => {
      const pointer = typeof (record.candidates as unknown[])[i] === 'string' ? `/candidates/${i}` : `/candidates/${i}/text`;
      checkTexts([[pointer, text]], `Candidate ${i}`);
      const earlier = firstIndexOf.get(text);
      if (earlier !== undefined) report('duplicate-candidates', `Candidate ${i} is the same text as candidate ${earlier}`, pointer);
      else firstIndexOf.set(text, i);
    });
    const count = normalized.candidates.length;
    if (count < 2) report('too-few-candidates', `Only ${count} candidate: at least two are needed to make a pair`, '/candidates');
    for (const key of ['best', 'worst'] as const) {
      const index = normalized[key];
      if (index !== undefined && index >= count)
        out.push({ severity: 'error', code: 'invalid-choice', message: `"${key}" is ${index}, but there are only ${count} candidates (indices 0 to ${count - 1})`, pointer: `/${key}` });
    }
    if (normalized.best !== undefined && normalized.best === normalized.worst && count > 1)
      out.push({ severity: 'error', code: 'invalid-choice', message: '"best" and "worst" are the same candidate', pointer: '/worst' });
    if (normalized.ranking) {
      const ranking = normalized.ranking;
      const outOfRange = ranking.find((i) => i >= count);
      if (outOfRange !== undefined)
        out.push({ severity: 'error', code: 'invalid-choice', message: `"ranking" names candidate ${outOfRange}, but there are only ${count} candidates`, pointer: '/ranking' });
    }
    return {
      format: 'candidates',
      promptKey: textFingerprint(normalized.promptText),
      promptLength: normalized.promptText.length,
      candidateCount: count,
      labeled: normalized.best !== undefined || normalized.worst !== undefined || (normalized.ranking?.length ?? 0) > 0,
    };
  }

  if (normalized.format === 'implicit') {
    if (normalized.promptText.length === 0)
      report('no-common-prefix', 'chosen and rejected share no common beginning, so this implicit-prompt pair has an empty prompt', '');
    checkTexts([['/chosen', normalized.chosenText]], 'The chosen answer (after the shared prompt)');
    checkTexts([['/rejected', normalized.rejectedText]], 'The rejected answer (after the shared prompt)');
  } else {
    // Plain strings (most records) are checked as they are, without a list of one field each.
    const checkField = (value: unknown, pointer: string, what: string) => (typeof value === 'string' ? checkText(pointer, value, what) : checkTexts(fieldTexts(value, pointer), what));
    checkField(record.prompt, '/prompt', 'The prompt');
    checkField(record.chosen, '/chosen', 'The chosen answer');
    checkField(record.rejected, '/rejected', 'The rejected answer');
  }
  const { chosenText, rejectedText } = normalized;
  if (chosenText === rejectedText) {
    report('identical-answers', 'chosen and rejected are identical: this pair gives DPO nothing to learn', '/rejected');
  } else if (!options.disabled.has('near-identical-answers')) {
    const similarity = textSimilarity(chosenText, rejectedText, options.nearIdenticalThreshold);
    if (similarity >= 1) report('near-identical-answers', 'chosen and rejected differ only in letter case or whitespace: the preference signal is noise', '/rejected');
    else if (similarity >= options.nearIdenticalThreshold)
      report('near-identical-answers', `chosen and rejected are ${Math.floor(similarity * 100)}% similar: the preference signal is weak`, '/rejected');
  }
  const summary: RecordSummary = {
    format: normalized.format,
    promptKey: textFingerprint(normalized.promptText),
    promptLength: normalized.promptText.length,
    chosenKey: sampledTextKey(chosenText),
    rejectedKey: sampledTextKey(rejectedText),
    chosenLength: chosenText.length,
    rejectedLength: rejectedText.length,
  };
  return summary;
}

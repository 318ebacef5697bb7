import { locateInFile } from '../dataset/datasetValidation.ts';
import { splitImplicitMessages, splitImplicitText } from '../dataset/implicitPrompt.ts';
import type { RecordAnalysis } from '../dataset/recordAnalysis.ts';
import type { ReviewMark } from '../review/reviewMarks.ts';
import type { RecordSpan } from '../dataset/recordSpans.ts';
import { textFingerprint } from '../dataset/textHash.ts';
import type { ChatMessage, Problem, PairFormat, Severity } from '../dataset/types.ts';

/**
 * What the pair editor's webview shows of one record: plain data, ready to render, with the
 * JSON pointer of every editable text so an edit in place can be written back exactly there.
 */

export interface TextTurn {
  role: string;
  content: string;
  /** Where the turn's content lives; absent when it can't be edited on its own. */
  pointer?: string;
}

export interface TextField {
  /** What the labeler reads. */
  text: string;
  /** Where an edit in place writes (a JSON string); absent when the text can't be edited as one. */
  pointer?: string;
  /** The stored string when it is not `text` (an implicit-prompt answer also holds the prompt). */
  editValue?: string;
  /** The field as chat turns (conversational records, instruction prompts). */
  turns?: TextTurn[];
  /** Extra facts shown small (a candidate's generation settings). */
  caption?: string;
  /** Characters, counted the way the dataset statistics count them. */
  length: number;
}

export interface ProblemView {
  severity: Severity;
  code: string;
  message: string;
  pointer: string;
  line: number;
  column: number;
}

/** The optional labeling fields a record may carry. */
export interface LabelFields {
  id?: string;
  note?: string;
  annotator?: string;
  timeMs?: number;
  labeledAt?: string;
}

interface RecordViewBase extends LabelFields {
  index: number;
  /** 1-based line of the record's first character. */
  line: number;
  /** Fingerprint of the record's source: an action on a stale view is refused, not misapplied. */
  revision: number;
  problems: ProblemView[];
  /** Read-only tables (Parquet): the row of the file (1-based), which differs from index + 1 when sorted. */
  row?: number;
  /** Columns that are not part of the record (scores, sources): shown beside it. */
  extras?: Array<{ name: string; value: string }>;
  /** While reviewing with a model: what its score says of this record (current, swapped, stale). */
  review?: ReviewMark;
}

export interface PairRecordView extends RecordViewBase {
  kind: 'pair';
  format: PairFormat;
  prompt: TextField;
  chosen: TextField;
  rejected: TextField;
  /** "chosen" (a person confirmed chosen is better), "tie", or another value found in the file. */
  decision?: string;
}

export interface CandidatesRecordView extends RecordViewBase {
  kind: 'candidates';
  format: 'candidates';
  prompt: TextField;
  candidates: TextField[];
  best?: number;
  worst?: number;
  ranking?: number[];
}

/** A record that is not valid JSON or fails its schema: shown as its source with its problems. */
export interface InvalidRecordView extends RecordViewBase {
  kind: 'invalid';
  source: string;
  /** True when `source` was cut to keep the message small. */
  truncated: boolean;
}

export type RecordView = PairRecordView | CandidatesRecordView | InvalidRecordView;

/** Longest record source sent for an invalid record: enough to see what is wrong. */
const MAX_INVALID_SOURCE = 20_000;

type JsonObject = Record<string, unknown>;

export function recordRevision(source: string): number {
  return textFingerprint(source);
}

/** Whether a record counts as labeled: a `decision` (pairs) or a best/worst/ranking (candidates). */
export function isLabeledValue(value: unknown): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const record = value as JsonObject;
  if ('candidates' in record) return record.best !== undefined || record.worst !== undefined || Array.isArray(record.ranking);
  return record.decision !== undefined;
}

function toProblemViews(problems: readonly Problem[]): ProblemView[] {
  return problems.map((p) => ({ severity: p.severity, code: p.code, message: p.message, pointer: p.pointer, line: p.line, column: p.column }));
}

/**
 * Builds the view of one record. `fileProblems` are the record's problems from the latest
 * whole-file validation (which knows about duplicates and contradictions); without them the
 * record's own problems are shown.
 */
export function toRecordView(span: RecordSpan, analysis: RecordAnalysis, fileProblems?: readonly Problem[]): RecordView {
  const problems = toProblemViews(fileProblems ?? analysis.problems.map((p) => locateInFile(span, p)));
  const base = { index: span.index, line: span.line, revision: recordRevision(span.source), problems };
  const record = analysis.value as JsonObject | undefined;
  const normalized = analysis.normalized;
  // The pair editor edits pairs and candidates; an SFT record (no chosen/rejected) is shown as its text.
  if (!record || !normalized || normalized.kind === 'sft') {
    const truncated = span.source.length > MAX_INVALID_SOURCE;
    return { kind: 'invalid', ...base, source: truncated ? span.source.slice(0, MAX_INVALID_SOURCE) : span.source, truncated };
  }
  const labels = labelFields(record);
  if (normalized.kind === 'candidates') {
    return {
      kind: 'candidates',
      format: 'candidates',
      ...base,
      ...labels,
      prompt: promptField(record.prompt),
      candidates: (record.candidates as unknown[]).map(candidateField),
      ...(normalized.best !== undefined ? { best: normalized.best } : {}),
      ...(normalized.worst !== undefined ? { worst: normalized.worst } : {}),
      ...(normalized.ranking ? { ranking: normalized.ranking } : {}),
    };
  }
  const fields = normalized.format === 'implicit' ? implicitFields(record) : { prompt: promptField(record.prompt), chosen: answerField(record.chosen, '/chosen'), rejected: answerField(record.rejected, '/rejected') };
  return {
    kind: 'pair',
    format: normalized.format,
    ...base,
    ...labels,
    ...fields,
    ...(record.decision !== undefined ? { decision: typeof record.decision === 'string' ? record.decision : JSON.stringify(record.decision) } : {}),
  };
}

function labelFields(record: JsonObject): LabelFields {
  const fields: LabelFields = {};
  if (typeof record.id === 'string' || typeof record.id === 'number') fields.id = String(record.id);
  if (typeof record.note === 'string') fields.note = record.note;
  if (typeof record.annotator === 'string') fields.annotator = record.annotator;
  if (typeof record.time_ms === 'number') fields.timeMs = record.time_ms;
  if (typeof record.labeled_at === 'string') fields.labeledAt = record.labeled_at;
  return fields;
}

function turnsField(messages: readonly ChatMessage[], pointerOf: (i: number) => string | undefined, separator = '\n'): TextField {
  const turns = messages.map((m, i) => {
    const pointer = pointerOf(i);
    return { role: m.role, content: m.content, ...(pointer ? { pointer } : {}) };
  });
  const text = messages.map((m) => m.content).join(separator);
  return { text, turns, length: text.length };
}

function promptField(prompt: unknown): TextField {
  if (typeof prompt === 'string') return { text: prompt, pointer: '/prompt', length: prompt.length };
  if (Array.isArray(prompt)) {
    const field = turnsField(prompt as ChatMessage[], (i) => `/prompt/${i}/content`);
    // Statistics count a chat prompt as "role: content" lines.
    return { ...field, length: (prompt as ChatMessage[]).map((m) => `${m.role}: ${m.content}`).join('\n').length };
  }
  const { instruction, input } = prompt as { instruction: string; input?: string };
  const turns: TextTurn[] = [{ role: 'instruction', content: instruction, pointer: '/prompt/instruction' }];
  if (input !== undefined) turns.push({ role: 'input', content: input, pointer: '/prompt/input' });
  const text = input ? `${instruction}\n\n${input}` : instruction;
  return { text, turns, length: text.length };
}

function answerField(answer: unknown, pointer: string): TextField {
  if (typeof answer === 'string') return { text: answer, pointer, length: answer.length };
  return turnsField(answer as ChatMessage[], (i) => `${pointer}/${i}/content`);
}

function candidateField(candidate: unknown, index: number): TextField {
  if (typeof candidate === 'string') return { text: candidate, pointer: `/candidates/${index}`, length: candidate.length };
  const { text, meta } = candidate as { text: string; meta?: unknown };
  return { text, pointer: `/candidates/${index}/text`, length: text.length, ...(meta !== undefined ? { caption: JSON.stringify(meta) } : {}) };
}

/**
 * Implicit-prompt pairs keep the prompt inside both answers. The shared prompt is shown but not
 * editable on its own (it would have to change in two places at once); each answer is edited as
 * the whole stored string.
 */
function implicitFields(record: JsonObject): { prompt: TextField; chosen: TextField; rejected: TextField } {
  if (Array.isArray(record.chosen)) {
    const split = splitImplicitMessages(record.chosen as ChatMessage[], record.rejected as ChatMessage[]);
    const shared = split.prompt.length;
    const prompt = turnsField(split.prompt, () => undefined);
    return {
      prompt: { ...prompt, length: split.prompt.map((m) => `${m.role}: ${m.content}`).join('\n').length },
      chosen: turnsField(split.chosen, (i) => `/chosen/${shared + i}/content`),
      rejected: turnsField(split.rejected, (i) => `/rejected/${shared + i}/content`),
    };
  }
  const chosen = record.chosen as string;
  const rejected = record.rejected as string;
  const split = splitImplicitText(chosen, rejected);
  return {
    prompt: { text: split.prompt, length: split.prompt.length },
    chosen: { text: split.chosen, pointer: '/chosen', editValue: chosen, length: split.chosen.length },
    rejected: { text: split.rejected, pointer: '/rejected', editValue: rejected, length: split.rejected.length },
  };
}

/** The shapes a preference record can take on disk. */
export type RecordFormat = 'standard' | 'instruction' | 'conversational' | 'implicit' | 'candidates';

export type FileKind = 'jsonl' | 'json';

export interface ChatMessage {
  role: string;
  content: string;
}

/** A prompt as users write it: plain text, an instruction object (the guide's method 2) or chat turns. */
export type PromptValue = string | { instruction: string; input?: string } | ChatMessage[];

/**
 * One record of a dataset file. `offset`/`length` locate the record's own source text in the
 * file (UTF-16 units when the file was read as text, which is what an editor works in), so an
 * edit to one record can replace exactly that range and leave every other byte untouched.
 */
export interface SourceRecord {
  /** 0-based position of the record in the file. */
  index: number;
  /** 1-based line where the record's text starts. */
  line: number;
  /** Offset of the record's first character in the text it came from. */
  offset: number;
  /** Length of the record's source text. */
  length: number;
  /** The record's original text, exactly as in the file. */
  source: string;
  /** The parsed JSON value; undefined when the text is not valid JSON. */
  value: unknown;
}

/** A preference pair reduced to plain text, whatever format it came in. */
export interface NormalizedPair {
  kind: 'pair';
  format: Exclude<RecordFormat, 'candidates'>;
  /** The prompt rendered as text (chat turns joined as "role: content" lines). */
  promptText: string;
  chosenText: string;
  rejectedText: string;
  /** Chat turns when the record is conversational (prompt turns only). */
  promptMessages?: ChatMessage[];
}

export interface NormalizedCandidates {
  kind: 'candidates';
  format: 'candidates';
  promptText: string;
  candidates: string[];
  /** Indices of the best and worst candidates when the labeler has chosen. */
  best?: number;
  worst?: number;
  /** Candidate indices from best to worst when ranked. */
  ranking?: number[];
}

export type NormalizedRecord = NormalizedPair | NormalizedCandidates;

export type Severity = 'error' | 'warning' | 'info';

/**
 * A problem located in the file. `line`/`column` are 1-based (as editors and the CLI show
 * them); `offset`/`length` are what an editor needs to underline the exact span.
 */
export interface Problem {
  severity: Severity;
  /** Stable code: lints can be switched off by it, tools can match on it. */
  code: string;
  message: string;
  line: number;
  column: number;
  offset: number;
  length: number;
  /** JSON pointer of the field inside the record ('' for the whole record). */
  pointer: string;
  /** 0-based index of the record the problem belongs to, when it belongs to one. */
  recordIndex?: number;
}

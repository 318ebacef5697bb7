/** The shapes a preference record can take on disk. */
export type PairFormat = 'standard' | 'instruction' | 'conversational' | 'implicit';

/**
 * The shapes a supervised fine-tuning record can take: the guide's `{"instruction", "input",
 * "output"}` (Alpaca), TRL's `{"prompt", "completion"}` (text or chat turns), TRL's
 * conversational `{"messages"}` and plain `{"text"}` for language modeling.
 */
export type SftFormat = 'alpaca' | 'prompt-completion' | 'messages' | 'text';

export type RecordFormat = PairFormat | 'candidates' | SftFormat;

/** What a file is for: preference pairs train DPO, SFT records train SFT, candidates are labelled into pairs. */
export type DatasetStage = 'dpo' | 'sft' | 'labeling';

export const SFT_FORMATS: readonly SftFormat[] = ['alpaca', 'prompt-completion', 'messages', 'text'];

export function isSftFormat(format: string): format is SftFormat {
  return (SFT_FORMATS as readonly string[]).includes(format);
}

export function stageOfFormat(format: RecordFormat): DatasetStage {
  if (format === 'candidates') return 'labeling';
  return isSftFormat(format) ? 'sft' : 'dpo';
}

/** How a dataset file is stored: JSON Lines, a JSON array, or Parquet (read-only: rows, not lines). */
export type FileKind = 'jsonl' | 'json' | 'parquet';

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
  format: PairFormat;
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

/** A supervised fine-tuning record reduced to plain text: what the model reads and what it learns to write. */
export interface NormalizedSft {
  kind: 'sft';
  format: SftFormat;
  /** Everything the loss does not train on by default (empty for plain text). */
  promptText: string;
  /** What the model learns to write (for chat turns: the assistant turns, joined). */
  completionText: string;
  /** Chat turns when the record is conversational. */
  messages?: ChatMessage[];
}

export type NormalizedRecord = NormalizedPair | NormalizedCandidates | NormalizedSft;

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

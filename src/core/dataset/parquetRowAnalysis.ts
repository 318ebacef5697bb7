import type { LintOptions } from './lintRules.ts';
import type { RecordAnalysis, RecordProblem, RecordSummary } from './recordAnalysis.ts';
import type { RecordFormat } from './types.ts';

/**
 * Row analyses packed for the trip from a worker thread: a million small summary objects cost
 * more to copy between threads than to compute, ten numbers per row in one transferable array
 * cost nothing. Problems (rare) travel as they are.
 */

const FORMATS: ReadonlyArray<RecordFormat> = ['standard', 'instruction', 'conversational', 'implicit', 'candidates', 'alpaca', 'prompt-completion', 'messages', 'text'];
const FORMAT_CODES = new Map(FORMATS.map((f, i) => [f, i]));
const FIELDS = ['promptKey', 'promptLength', 'chosenKey', 'rejectedKey', 'chosenLength', 'rejectedLength', 'completionLength', 'candidateCount'] as const;
/** format, labeled, then FIELDS. */
export const PACKED_WIDTH = FIELDS.length + 2;

/**
 * What two records that could be the same pair (or the same pair swapped) must share: the
 * prompt's 52-bit fingerprint, both answers' sampled keys and lengths. Rows whose pair keys
 * collide but whose tuples differ are told apart by these numbers alone; only rows that share a
 * tuple are read again to compare their texts.
 */
export function pairTuple(numbers: Float64Array, row: number, swapped: boolean): string {
  const at = row * PACKED_WIDTH;
  const first = numbers[at + 4]!;
  const second = numbers[at + 5]!;
  // SFT records have a completion length where pairs have two answer lengths.
  const firstLength = Number.isNaN(numbers[at + 6]!) ? numbers[at + 8]! : numbers[at + 6]!;
  const secondLength = Number.isNaN(numbers[at + 7]!) ? numbers[at + 8]! : numbers[at + 7]!;
  return swapped ? `${numbers[at + 2]}|${second}|${first}|${secondLength}|${firstLength}` : `${numbers[at + 2]}|${first}|${second}|${firstLength}|${secondLength}`;
}

export interface PackedAnalyses {
  rows: number;
  /** PACKED_WIDTH numbers per row; NaN for "absent" (no summary: the row has errors). */
  numbers: Float64Array;
  problems: Array<[row: number, problems: RecordProblem[]]>;
}

export function packAnalyses(analyses: readonly RecordAnalysis[]): PackedAnalyses {
  const numbers = new Float64Array(analyses.length * PACKED_WIDTH).fill(NaN);
  const problems: PackedAnalyses['problems'] = [];
  for (let row = 0; row < analyses.length; row++) {
    const analysis = analyses[row]!;
    if (analysis.problems.length) problems.push([row, analysis.problems]);
    const summary = analysis.summary;
    if (!summary) continue;
    const at = row * PACKED_WIDTH;
    numbers[at] = FORMAT_CODES.get(summary.format)!;
    if (summary.labeled !== undefined) numbers[at + 1] = summary.labeled ? 1 : 0;
    numbers[at + 2] = summary.promptKey;
    numbers[at + 3] = summary.promptLength;
    if (summary.chosenKey !== undefined) numbers[at + 4] = summary.chosenKey;
    if (summary.rejectedKey !== undefined) numbers[at + 5] = summary.rejectedKey;
    if (summary.chosenLength !== undefined) numbers[at + 6] = summary.chosenLength;
    if (summary.rejectedLength !== undefined) numbers[at + 7] = summary.rejectedLength;
    if (summary.completionLength !== undefined) numbers[at + 8] = summary.completionLength;
    if (summary.candidateCount !== undefined) numbers[at + 9] = summary.candidateCount;
  }
  return { rows: analyses.length, numbers, problems };
}

/**
 * Visits the analyses again, as DatasetValidation takes them: one analysis object refilled for
 * every row (no value or normalized record: adding a record needs neither, and a million
 * short-lived objects would cost more than the checks).
 */
export function forEachPackedAnalysis(packed: PackedAnalyses, visit: (row: number, analysis: RecordAnalysis) => void): void {
  const problemsOf = new Map(packed.problems);
  const summary: RecordSummary = { format: 'standard', promptKey: 0, promptLength: 0 };
  const analysis: RecordAnalysis = { value: undefined, problems: [] };
  const none: RecordProblem[] = [];
  for (let row = 0; row < packed.rows; row++) {
    const at = row * PACKED_WIDTH;
    const format = packed.numbers[at]!;
    analysis.problems = problemsOf.get(row) ?? none;
    if (Number.isNaN(format)) analysis.summary = undefined;
    else {
      const n = packed.numbers;
      const optional = (value: number) => (Number.isNaN(value) ? undefined : value);
      summary.format = FORMATS[format]!;
      const labeled = n[at + 1]!;
      summary.labeled = Number.isNaN(labeled) ? undefined : labeled === 1;
      summary.promptKey = n[at + 2]!;
      summary.promptLength = n[at + 3]!;
      summary.chosenKey = optional(n[at + 4]!);
      summary.rejectedKey = optional(n[at + 5]!);
      summary.chosenLength = optional(n[at + 6]!);
      summary.rejectedLength = optional(n[at + 7]!);
      summary.completionLength = optional(n[at + 8]!);
      summary.candidateCount = optional(n[at + 9]!);
      analysis.summary = summary;
    }
    visit(row, analysis);
  }
}

/** Lint options as a worker receives them (a Set does not survive the trip as one). */
export interface PortableLintOptions extends Omit<LintOptions, 'disabled'> {
  disabled: string[];
}

export function portableOptions(options: LintOptions): PortableLintOptions {
  return { ...options, disabled: [...options.disabled] };
}

export function lintOptionsFrom(portable: PortableLintOptions): LintOptions {
  return { ...portable, disabled: new Set(portable.disabled) };
}

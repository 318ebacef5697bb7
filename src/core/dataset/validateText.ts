import { samePairTexts } from './datasetLinter.ts';
import { DatasetValidation, type ValidationResult } from './datasetValidation.ts';
import type { LintOptions } from './lintRules.ts';
import { DEFAULT_LINT_OPTIONS } from './lintRules.ts';
import { analyzeRecord, type RecordAnalysis } from './recordAnalysis.ts';
import { splitRecords, type RecordSpan } from './recordSpans.ts';
import type { FileKind } from './types.ts';

export interface TextValidationResult extends ValidationResult {
  records: Array<{ span: RecordSpan; analysis: RecordAnalysis }>;
}

/** `jsonl` for .jsonl/.ndjson names, `json` otherwise. */
export function fileKindOf(fileName: string): FileKind {
  return /\.(jsonl|ndjson)$/i.test(fileName) ? 'jsonl' : 'json';
}

type Analyze = (source: string) => RecordAnalysis;

/**
 * The validation of a whole text, one record per step, so that the same code can run in one
 * go (tests, small files) or in slices that give the event loop back (a big file in an editor,
 * where a 100,000-record pass must not freeze everything else for seconds).
 */
function* validationSteps(text: string, fileName: string, options: LintOptions, analyze: Analyze): Generator<void, TextValidationResult> {
  const split = splitRecords(text, fileKindOf(fileName));
  const validation = new DatasetValidation(options, split.kind);
  for (const issue of split.issues) validation.addFileIssue(issue);
  const records: TextValidationResult['records'] = [];
  for (const span of split.spans) {
    const analysis = analyze(span.source);
    validation.addRecord(span, analysis);
    records.push({ span, analysis });
    yield;
  }
  const byIndex = (index: number) => records[index]!;
  const result = validation.finish({
    compare: (earlier, later, relation) => samePairTexts(byIndex(earlier).analysis.normalized, byIndex(later).analysis.normalized, relation),
    spanOf: (index) => byIndex(index).span,
  });
  return { ...result, records };
}

/**
 * Validates a whole dataset held in memory (an editor's document). `analyze` lets a caller
 * reuse analyses of records whose text did not change since the last run.
 */
export function validateText(
  text: string,
  fileName: string,
  options: LintOptions = DEFAULT_LINT_OPTIONS,
  analyze: Analyze = (source) => analyzeRecord(source, options),
): TextValidationResult {
  const steps = validationSteps(text, fileName, options, analyze);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * `validateText` in slices of about `sliceMs`, awaiting `pause` between them. Returns undefined
 * when `isStale` says the text changed meanwhile: that result would describe a past version.
 */
export async function validateTextInSlices(
  text: string,
  fileName: string,
  options: LintOptions,
  analyze: Analyze,
  pause: () => Promise<void>,
  isStale: () => boolean,
  sliceMs = 15,
): Promise<TextValidationResult | undefined> {
  const steps = validationSteps(text, fileName, options, analyze);
  let sliceStart = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await pause();
      if (isStale()) return undefined;
      sliceStart = performance.now();
    }
  }
}

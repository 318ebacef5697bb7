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

/**
 * Validates a whole dataset held in memory (an editor's document). `analyze` lets a caller
 * reuse analyses of records whose text did not change since the last run.
 */
export function validateText(
  text: string,
  fileName: string,
  options: LintOptions = DEFAULT_LINT_OPTIONS,
  analyze: (source: string) => RecordAnalysis = (source) => analyzeRecord(source, options),
): TextValidationResult {
  const split = splitRecords(text, fileKindOf(fileName));
  const validation = new DatasetValidation(options, split.kind);
  for (const issue of split.issues) validation.addFileIssue(issue);
  const records: TextValidationResult['records'] = [];
  for (const span of split.spans) {
    const analysis = analyze(span.source);
    validation.addRecord(span, analysis, (earlier, relation) => samePairTexts(records[earlier.index]?.analysis.normalized, analysis.normalized, relation));
    records.push({ span, analysis });
  }
  return { ...validation.finish(), records };
}

import { candidatesToPairs, type PairExportMode } from '../labeling/candidatePairs.ts';
import { DEFAULT_LINT_OPTIONS, type LintOptions } from '../dataset/lintRules.ts';
import { analyzeRecord } from '../dataset/recordAnalysis.ts';
import { splitRecords } from '../dataset/recordSpans.ts';
import { fileKindOf } from '../dataset/validateText.ts';

export interface PairExportResult {
  /** The preference JSONL, one pair per line, ending with a newline (empty when no pairs). */
  jsonl: string;
  pairs: number;
  /** Candidates records that gave at least one pair. */
  exportedRecords: number;
  /** Candidates records without a best/worst or ranking yet. */
  unlabeledRecords: number;
  /** Records that are not valid candidates records (invalid JSON, schema errors, plain pairs). */
  skippedRecords: number;
}

/**
 * Turns the labeled candidates records of a dataset into preference pairs (best vs worst, or
 * every two ranked candidates at least `minGap` places apart). Records that fail validation are
 * skipped rather than guessed at: a training set should not silently gain broken pairs.
 */
export function exportPairs(text: string, fileName: string, mode: PairExportMode, options: LintOptions = DEFAULT_LINT_OPTIONS): PairExportResult {
  const lines: string[] = [];
  let exportedRecords = 0;
  let unlabeledRecords = 0;
  let skippedRecords = 0;
  for (const span of splitRecords(text, fileKindOf(fileName)).spans) {
    const analysis = analyzeRecord(span.source, options);
    const normalized = analysis.normalized;
    if (normalized?.kind !== 'candidates' || analysis.problems.some((p) => p.severity === 'error')) {
      skippedRecords++;
      continue;
    }
    if (normalized.best === undefined && normalized.worst === undefined && !normalized.ranking?.length) {
      unlabeledRecords++;
      continue;
    }
    const pairs = candidatesToPairs(analysis.value as Parameters<typeof candidatesToPairs>[0], mode);
    if (pairs.length) exportedRecords++;
    for (const pair of pairs) lines.push(JSON.stringify(pair));
  }
  return { jsonl: lines.length ? lines.join('\n') + '\n' : '', pairs: lines.length, exportedRecords, unlabeledRecords, skippedRecords };
}

/** `x.candidates.jsonl` → `x.pairs.jsonl`; any other `x.json(l)` → `x.pairs.jsonl`. */
export function defaultExportName(fileName: string): string {
  const base = fileName.replace(/\.(jsonl|ndjson|json)$/i, '').replace(/\.candidates$/i, '');
  return `${base}.pairs.jsonl`;
}

import type { ColumnMapping } from './columnMapping.ts';
import type { LintOptions } from './lintRules.ts';
import { analyzeRecord, type RecordAnalysis } from './recordAnalysis.ts';

/**
 * Remembers each record's analysis by its exact source text, so re-validating a big file after
 * a keystroke re-checks only the records whose text changed. Entries not used by the latest
 * run are dropped, so the cache holds one file's worth at most.
 */
export class AnalysisCache {
  private current = new Map<string, RecordAnalysis>();
  private next = new Map<string, RecordAnalysis>();
  /** Records analysed from scratch since the cache was made: what a keystroke really cost. */
  misses = 0;

  constructor(private options: LintOptions) {}

  /** Settings changed: every cached analysis may be stale. */
  reset(options: LintOptions): void {
    this.options = options;
    this.current.clear();
    this.next.clear();
  }

  analyze = (source: string): RecordAnalysis => {
    let analysis = this.current.get(source) ?? this.next.get(source);
    if (!analysis) {
      analysis = analyzeRecord(source, this.options);
      this.misses++;
    }
    this.next.set(source, analysis);
    return analysis;
  };

  /** Call after each full run: keeps only what that run used. */
  endRun(): void {
    this.current = this.next;
    this.next = new Map();
  }
}

/** How much of a file's start `looksLikePreferenceData` reads. */
export const SNIFFED_CHARS = 16384;

/**
 * A cheap look at the start of a file to tell preference data from any other JSON: it names
 * the fields only preference records have. Decides which open files get dataset diagnostics.
 */
export function looksLikePreferenceData(text: string, columns?: ColumnMapping): boolean {
  const head = text.slice(0, SNIFFED_CHARS);
  if (/"(chosen|rejected|candidates)"\s*:/.test(head)) return true;
  // Other names, mapped to these fields (dpoStudio.datasets.columns).
  const mapped = [columns?.chosen, columns?.rejected, columns?.candidates].filter((c): c is string => c !== undefined);
  return mapped.some((column) => new RegExp(`${JSON.stringify(column).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:`).test(head));
}

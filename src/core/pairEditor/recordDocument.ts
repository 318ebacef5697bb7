import type { DatasetStats } from '../dataset/datasetLinter.ts';
import type { ValidationResult } from '../dataset/datasetValidation.ts';
import type { LintOptions } from '../dataset/lintRules.ts';
import { analyzeRecord, type RecordAnalysis } from '../dataset/recordAnalysis.ts';
import { splitRecords, type RecordSpan } from '../dataset/recordSpans.ts';
import type { FileKind, NormalizedRecord, Problem } from '../dataset/types.ts';
import { fileKindOf, type TextValidationResult } from '../dataset/validateText.ts';
import { RecordFlags } from './recordFlags.ts';
import { isLabeledValue, toRecordView, type ProblemView, type RecordView } from './recordView.ts';

/** What changed in the records after the document's text changed. */
export type RecordChange = { kind: 'none' } | { kind: 'records'; indices: number[] } | { kind: 'reset' };

/** Progress and statistics for the editor's header, as of the latest whole-file validation. */
export interface DatasetSummary {
  total: number;
  labeled: number;
  /** `RecordFlags` in hex: which records are labeled, which have problems. */
  labeledFlags: string;
  problemFlags: string;
  recordsWithProblems: number;
  errorCount: number;
  warningCount: number;
  stats: DatasetStats;
  /** Problems of the file as a whole (length bias, a JSON array in a .jsonl file). */
  fileProblems: ProblemView[];
}

/** The editor's summary of a whole-file check, with the records' flags in the editor's order. */
export function datasetSummary(result: ValidationResult, labeled: number, labeledFlags: RecordFlags, problemFlags: RecordFlags, fileProblems: ProblemView[]): DatasetSummary {
  return {
    total: problemFlags.count,
    labeled,
    labeledFlags: labeledFlags.toHex(),
    problemFlags: problemFlags.toHex(),
    recordsWithProblems: problemFlags.countSet(),
    errorCount: result.errorCount,
    warningCount: result.warningCount,
    stats: result.stats,
    fileProblems,
  };
}

/** More changed records than this after one edit: cheaper for the webview to refetch its window. */
const MAX_PUSHED_CHANGES = 100;
/** Analyses kept for records the latest validation did not cover yet (edited since). */
const LOCAL_CACHE_LIMIT = 2000;

/**
 * The records of one open document, re-split cheaply after every change (a JSONL split is a
 * scan for newlines). Record analyses come from the latest whole-file validation when it is
 * current for that record, otherwise from a small cache of records analysed on demand.
 */
export class RecordDocument {
  private spans: RecordSpan[] = [];
  /** What the content turned out to be at the last split: only JSON Lines are patched in place. */
  private kind: FileKind = 'jsonl';
  private latest?: { result: TextValidationResult; problemsByRecord: Map<number, Problem[]>; summary: DatasetSummary };
  private readonly local = new Map<string, RecordAnalysis>();

  constructor(
    private readonly fileName: string,
    private options: LintOptions,
  ) {}

  get count(): number {
    return this.spans.length;
  }

  span(index: number): RecordSpan | undefined {
    return this.spans[index];
  }

  /** Settings changed: analyses made with the old ones are stale. */
  setOptions(options: LintOptions): void {
    this.options = options;
    this.local.clear();
  }

  /** Re-splits the text; says which records differ from before, or that everything moved. */
  update(text: string): RecordChange {
    const before = this.spans;
    const split = splitRecords(text, fileKindOf(this.fileName));
    const after = split.spans;
    this.spans = after;
    this.kind = split.kind;
    if (before.length !== after.length) return { kind: 'reset' };
    const indices: number[] = [];
    for (let i = 0; i < after.length; i++) {
      const a = before[i]!;
      const b = after[i]!;
      // A shifted line (a record grew a line in a .json array) moves every record after it.
      if (a.line !== b.line) return { kind: 'reset' };
      if (a.source !== b.source) {
        indices.push(i);
        if (indices.length > MAX_PUSHED_CHANGES) return { kind: 'reset' };
      }
    }
    return indices.length ? { kind: 'records', indices } : { kind: 'none' };
  }

  /**
   * Applies one text change without re-reading the document, when it stays inside one line of a
   * JSON Lines file (what labeling a record does): that record's text is patched and the records
   * after it move by the change in length. Returns undefined when the change could add, remove
   * or join records; the caller then re-splits with `update`.
   */
  applyChange(change: { offset: number; removedLength: number; text: string }): RecordChange | undefined {
    if (this.kind !== 'jsonl' || /[\r\n]/.test(change.text)) return undefined;
    const index = this.indexAtOffset(change.offset);
    const span = this.spans[index];
    if (!span) return undefined;
    const start = change.offset - span.offset;
    const end = start + change.removedLength;
    if (start < 0 || end > span.length) return undefined;
    const source = span.source.slice(0, start) + change.text + span.source.slice(end);
    // A record emptied to whitespace is no record any more.
    if (source.trim() === '') return undefined;
    const delta = change.text.length - change.removedLength;
    this.spans[index] = { ...span, length: source.length, source };
    // The spans are this document's own (fresh from splitRecords): moving them in place spares
    // 100,000 allocations per keystroke.
    if (delta !== 0) for (let i = index + 1; i < this.spans.length; i++) this.spans[i]!.offset += delta;
    return { kind: 'records', indices: [index] };
  }

  view(index: number): RecordView | undefined {
    const span = this.spans[index];
    if (!span) return undefined;
    const validated = this.latest?.result.records[index];
    if (validated && validated.span.source === span.source) {
      return toRecordView(span, validated.analysis, this.latest!.problemsByRecord.get(index) ?? []);
    }
    return toRecordView(span, this.analyze(span.source));
  }

  /** The record's texts as validation read them (mapping applied); undefined for a record that is not valid. */
  normalized(index: number): NormalizedRecord | undefined {
    const span = this.spans[index];
    if (!span) return undefined;
    const validated = this.latest?.result.records[index];
    return validated && validated.span.source === span.source ? validated.analysis.normalized : this.analyze(span.source).normalized;
  }

  private analyze(source: string): RecordAnalysis {
    let analysis = this.local.get(source);
    if (!analysis) {
      if (this.local.size >= LOCAL_CACHE_LIMIT) this.local.clear();
      analysis = analyzeRecord(source, this.options);
      this.local.set(source, analysis);
    }
    return analysis;
  }

  /** Takes a whole-file validation of this document (the one the Problems panel shows). */
  setValidation(result: TextValidationResult): DatasetSummary {
    const problemsByRecord = new Map<number, Problem[]>();
    const fileProblems: ProblemView[] = [];
    const total = result.records.length;
    const problemFlags = new RecordFlags(total);
    for (const p of result.problems) {
      if (p.recordIndex === undefined) {
        fileProblems.push({ severity: p.severity, code: p.code, message: p.message, pointer: p.pointer, line: p.line, column: p.column });
        continue;
      }
      let list = problemsByRecord.get(p.recordIndex);
      if (!list) problemsByRecord.set(p.recordIndex, (list = []));
      list.push(p);
      if (p.severity !== 'info') problemFlags.set(p.recordIndex, true);
    }
    const labeledFlags = new RecordFlags(total);
    let labeled = 0;
    result.records.forEach((r, i) => {
      if (isLabeledValue(r.analysis.value)) {
        labeledFlags.set(i, true);
        labeled++;
      }
    });
    const summary = datasetSummary(result, labeled, labeledFlags, problemFlags, fileProblems);
    this.latest = { result, problemsByRecord, summary };
    this.local.clear();
    return summary;
  }

  /** The record whose text contains `offset` (or the nearest one before it). */
  indexAtOffset(offset: number): number {
    let lo = 0;
    let hi = this.spans.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.spans[mid]!.offset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * The next record after `from` (wrapping around) whose text contains `query`, ignoring case.
   * Searches the JSON source, so the query is also tried as JSON would escape it (quotes, newlines).
   */
  search(query: string, from: number, step: 1 | -1): number | undefined {
    const count = this.spans.length;
    if (!query || count === 0) return undefined;
    const escaped = JSON.stringify(query).slice(1, -1);
    const pattern = new RegExp([query, escaped].map(escapeRegExp).join('|'), 'i');
    for (let k = 1; k <= count; k++) {
      const i = (((from + step * k) % count) + count) % count;
      if (pattern.test(this.spans[i]!.source)) return i;
    }
    return undefined;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

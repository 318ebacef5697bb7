import { DatasetLinter, datasetStage, dominantFormat, type DatasetStats, type PairComparer } from './datasetLinter.ts';
import type { LintOptions } from './lintRules.ts';
import type { RecordAnalysis, RecordProblem } from './recordAnalysis.ts';
import type { FileIssue, RecordSpan } from './recordSpans.ts';
import type { DatasetStage, FileKind, Problem, RecordFormat } from './types.ts';

export interface ValidationResult {
  kind: FileKind;
  format: RecordFormat | 'mixed' | null;
  /** What the file trains: DPO (pairs), SFT, or labeling (candidates to pick from). */
  stage: DatasetStage | 'mixed' | null;
  stats: DatasetStats;
  /** Every problem, in file order. */
  problems: Problem[];
  errorCount: number;
  warningCount: number;
}

/**
 * Collects one file's problems and statistics record by record, in file order. Shared by the
 * whole-text path (editor, tests) and the streaming path (CLI), so both say the same things
 * about the same file.
 */
export class DatasetValidation {
  private readonly linter: DatasetLinter;
  private readonly problems: Problem[] = [];

  constructor(
    options: LintOptions,
    private kind: FileKind,
  ) {
    this.linter = new DatasetLinter(options);
  }

  setKind(kind: FileKind): void {
    this.kind = kind;
  }

  addFileIssue(issue: FileIssue): void {
    this.problems.push({ severity: 'error', code: issue.code, message: issue.message, line: issue.line, column: issue.column, offset: issue.offset, length: issue.length, pointer: '' });
  }

  /** Adds a record that was analysed on its own (records come in order). */
  addRecord(span: RecordSpan, analysis: RecordAnalysis): void {
    this.linter.add(span.index, analysis.summary);
    for (const problem of analysis.problems) this.problems.push(locateInFile(span, problem));
  }

  /** Records the cross-record checks will compare (see DatasetLinter.crossRecordCandidates). */
  crossRecordCandidates(): number[] {
    return this.linter.crossRecordCandidates();
  }

  /** Records an extra problem (such as invalid UTF-8 on a line) against a record. */
  addProblem(problem: Problem): void {
    this.problems.push(problem);
  }

  /**
   * Problems between records (duplicates, contradictions: `compare` confirms a match of cheap
   * keys against the texts, `spanOf` says where a record is), of the file as a whole, and the
   * statistics.
   */
  finish(cross: { compare: PairComparer; spanOf: (index: number) => RecordSpan }): ValidationResult {
    for (const finding of this.linter.crossRecordFindings(cross.compare)) {
      const span = cross.spanOf(finding.index);
      const earlier = cross.spanOf(finding.earlier);
      const where = this.kind === 'parquet' ? `row ${earlier.line}` : `record ${finding.earlier + 1} (line ${earlier.line})`;
      const message =
        finding.code === 'duplicate-record' ? `Duplicate of ${where}` : `Contradicts ${where}: same prompt and answers, with chosen and rejected swapped`;
      this.problems.push(locateInFile(span, { severity: 'warning', code: finding.code, message, pointer: '', offset: 0, length: span.length }));
    }
    for (const p of this.linter.datasetProblems()) {
      this.problems.push({ ...p, line: 1, column: 1, offset: 0, length: 0 });
    }
    this.problems.sort((a, b) => a.line - b.line || a.column - b.column);
    const stats = this.linter.stats();
    let errorCount = 0;
    let warningCount = 0;
    for (const p of this.problems) {
      if (p.severity === 'error') errorCount++;
      else if (p.severity === 'warning') warningCount++;
    }
    return { kind: this.kind, format: dominantFormat(stats), stage: datasetStage(stats), stats, problems: this.problems, errorCount, warningCount };
  }
}

/** Turns a record-relative problem into one located in the file. */
export function locateInFile(span: RecordSpan, problem: RecordProblem): Problem {
  let line = span.line;
  let column = span.column + problem.offset;
  const source = span.source;
  const lastNewline = source.lastIndexOf('\n', problem.offset - 1);
  if (lastNewline !== -1) {
    for (let i = source.indexOf('\n'); i !== -1 && i <= lastNewline; i = source.indexOf('\n', i + 1)) line++;
    column = problem.offset - lastNewline;
  }
  return {
    severity: problem.severity,
    code: problem.code,
    message: problem.message,
    line,
    column,
    offset: span.offset + problem.offset,
    length: problem.length,
    pointer: problem.pointer,
    recordIndex: span.index,
  };
}

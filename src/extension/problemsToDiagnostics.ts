import * as vscode from 'vscode';
import type { Problem, Severity } from '../core/dataset/types.ts';

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export const DIAGNOSTIC_SOURCE = 'DPO Studio';

/** A diagnostic remembers which record it belongs to, for quick fixes that act on the record. */
export interface DatasetDiagnostic extends vscode.Diagnostic {
  recordIndex?: number;
  pointer?: string;
}

export function toDiagnostic(document: vscode.TextDocument, problem: Problem): DatasetDiagnostic {
  const start = document.positionAt(problem.offset);
  // A problem of the whole file or record with no span of its own underlines its first line.
  const range =
    problem.length > 0
      ? new vscode.Range(start, document.positionAt(problem.offset + problem.length))
      : document.lineAt(Math.min(problem.line - 1, document.lineCount - 1)).range;
  const diagnostic: DatasetDiagnostic = new vscode.Diagnostic(range, problem.message, SEVERITY[problem.severity]);
  diagnostic.source = DIAGNOSTIC_SOURCE;
  diagnostic.code = problem.code;
  if (problem.recordIndex !== undefined) diagnostic.recordIndex = problem.recordIndex;
  diagnostic.pointer = problem.pointer;
  return diagnostic;
}

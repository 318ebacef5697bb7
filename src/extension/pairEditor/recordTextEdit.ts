import * as vscode from 'vscode';
import type { RecordSpan } from '../../core/dataset/recordSpans.ts';
import { changedSlice } from '../../core/pairEditor/changedSlice.ts';

/**
 * The WorkspaceEdit that turns one record's text into `next`: a replacement inside the record's
 * own span (document.positionAt(offset) .. positionAt(offset + length)), trimmed to the part
 * that differs, so every other line of the file is byte-identical after save.
 */
export function recordTextEdit(document: vscode.TextDocument, span: RecordSpan, next: string): vscode.WorkspaceEdit | undefined {
  const slice = changedSlice(span.source, next);
  if (!slice) return undefined;
  const range = new vscode.Range(document.positionAt(span.offset + slice.start), document.positionAt(span.offset + slice.end));
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document.uri, range, slice.text);
  return edit;
}

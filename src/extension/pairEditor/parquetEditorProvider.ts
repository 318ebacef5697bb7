import * as vscode from 'vscode';
import { ParquetEditorSession, type ParquetSessionServices } from './parquetEditorSession.ts';

export const PARQUET_EDITOR_VIEW_TYPE = 'dpoStudio.parquetPairEditor';

/** Parquet files open in the pair editor, read-only (a CustomReadonlyEditorProvider: VS Code has no text to give). */
export class ParquetEditorProvider implements vscode.CustomReadonlyEditorProvider {
  private readonly sessions = new Set<ParquetEditorSession>();

  constructor(private readonly services: ParquetSessionServices) {}

  static register(services: ParquetSessionServices): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(PARQUET_EDITOR_VIEW_TYPE, new ParquetEditorProvider(services), { supportsMultipleEditorsPerDocument: true });
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => {} };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const session = new ParquetEditorSession(document.uri, panel, this.services);
    this.sessions.add(session);
    panel.onDidDispose(() => {
      this.sessions.delete(session);
      session.dispose();
    });
  }
}

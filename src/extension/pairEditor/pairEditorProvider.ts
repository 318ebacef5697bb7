import * as vscode from 'vscode';
import { PairEditorSession, type SessionServices } from './pairEditorSession.ts';

export const PAIR_EDITOR_VIEW_TYPE = 'dpoStudio.pairEditor';

/**
 * The pair editor is a CustomTextEditorProvider: the file stays a TextDocument, so undo/redo,
 * dirty state, save, hot exit and changes made elsewhere all come from VS Code, and a text
 * editor on the same file stays in step.
 */
export class PairEditorProvider implements vscode.CustomTextEditorProvider {
  private readonly sessions = new Set<PairEditorSession>();
  /** Record to show first in the next pair editor opened on a file (switching from text). */
  private readonly pendingIndex = new Map<string, number>();

  constructor(private readonly services: SessionServices) {}

  static register(services: SessionServices): { provider: PairEditorProvider; registration: vscode.Disposable } {
    const provider = new PairEditorProvider(services);
    // No retainContextWhenHidden: the webview keeps its place with setState and asks again.
    const registration = vscode.window.registerCustomEditorProvider(PAIR_EDITOR_VIEW_TYPE, provider, { supportsMultipleEditorsPerDocument: true });
    return { provider, registration };
  }

  resolveCustomTextEditor(document: vscode.TextDocument, panel: vscode.WebviewPanel): void {
    const key = document.uri.toString();
    const index = this.pendingIndex.get(key);
    this.pendingIndex.delete(key);
    const session = new PairEditorSession(document, panel, this.services, index);
    this.sessions.add(session);
    panel.onDidDispose(() => {
      this.sessions.delete(session);
      session.dispose();
    });
  }

  /** The pair editor the user is looking at, if any. */
  activeSession(): PairEditorSession | undefined {
    for (const session of this.sessions) if (session.panel.active) return session;
    return undefined;
  }

  sessionFor(uri: vscode.Uri): PairEditorSession | undefined {
    const key = uri.toString();
    let found: PairEditorSession | undefined;
    for (const session of this.sessions) {
      if (session.document.uri.toString() !== key) continue;
      if (session.panel.active) return session;
      found ??= session;
    }
    return found;
  }

  /** Opens (or reveals) the pair editor on `uri`, showing record `index`. */
  async openAt(uri: vscode.Uri, index: number, viewColumn?: vscode.ViewColumn): Promise<void> {
    const key = uri.toString();
    this.pendingIndex.set(key, index);
    await vscode.commands.executeCommand('vscode.openWith', uri, PAIR_EDITOR_VIEW_TYPE, viewColumn);
    // Still pending: an existing pair editor was revealed instead of a new one resolved.
    if (this.pendingIndex.delete(key)) this.sessionFor(uri)?.goTo(index);
  }
}

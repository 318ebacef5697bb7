import * as vscode from 'vscode';
import { readLintOptions } from '../settings.ts';
import { RecordDocument } from '../../core/pairEditor/recordDocument.ts';
import type { PairEditorProvider } from './pairEditorProvider.ts';

export const SHOW_TEXT_COMMAND = 'dpoStudio.pairEditor.showText';
export const OPEN_PAIR_EDITOR_COMMAND = 'dpoStudio.pairEditor.open';

/**
 * Switching between the pair editor and the text editor on the same file, at the same record:
 * the text editor opens with the record selected; the pair editor opens at the cursor's record.
 */
export function registerSwitchViewCommands(provider: PairEditorProvider): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(SHOW_TEXT_COMMAND, async (uri?: vscode.Uri) => {
      const session = uri instanceof vscode.Uri ? provider.sessionFor(uri) : provider.activeSession();
      if (!session) {
        void vscode.window.showInformationMessage('Open a dataset in the pair editor first.');
        return;
      }
      const span = session.records.span(Math.max(session.currentIndex, 0));
      const document = session.document;
      const column = session.panel.viewColumn;
      await vscode.commands.executeCommand('vscode.openWith', document.uri, 'default', column);
      const selection = span ? new vscode.Range(document.positionAt(span.offset), document.positionAt(span.offset + span.length)) : undefined;
      const editor = await vscode.window.showTextDocument(document, { viewColumn: column, preview: false, ...(selection ? { selection } : {}) });
      if (selection) editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }),
    vscode.commands.registerCommand(OPEN_PAIR_EDITOR_COMMAND, async (uri?: vscode.Uri) => {
      const editor = vscode.window.activeTextEditor;
      const target = uri instanceof vscode.Uri ? uri : editor?.document.uri;
      if (!target) {
        void vscode.window.showInformationMessage('Open a .jsonl or .json dataset first.');
        return;
      }
      let index = 0;
      if (editor && editor.document.uri.toString() === target.toString()) {
        const records = new RecordDocument(editor.document.fileName, readLintOptions(target));
        records.update(editor.document.getText());
        index = records.indexAtOffset(editor.document.offsetAt(editor.selection.active));
      }
      await provider.openAt(target, index, editor?.viewColumn);
    }),
  );
}

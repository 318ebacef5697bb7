import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PairExportMode } from '../../core/labeling/candidatePairs.ts';
import { defaultExportName, exportPairs } from '../../core/pairEditor/pairExport.ts';
import { readLintOptions } from '../settings.ts';
import type { PairEditorProvider } from './pairEditorProvider.ts';

export const EXPORT_PAIRS_COMMAND = 'dpoStudio.exportPairs';

const MODES: Array<vscode.QuickPickItem & { mode: PairExportMode['kind'] }> = [
  { label: 'Best vs worst', description: 'one pair per labeled record', mode: 'best-worst' },
  { label: 'All ranked pairs', description: 'every two ranked candidates at least N places apart', mode: 'ranked' },
];

/** "DPO: Export Pairs": the labeled candidates records of a file, as a preference JSONL. */
export function registerExportPairsCommand(provider: PairEditorProvider, output: vscode.OutputChannel): vscode.Disposable {
  return vscode.commands.registerCommand(EXPORT_PAIRS_COMMAND, async (uri?: vscode.Uri) => {
    const source = uri instanceof vscode.Uri ? uri : (provider.activeSession()?.document.uri ?? vscode.window.activeTextEditor?.document.uri);
    if (!source) {
      void vscode.window.showInformationMessage('Open a candidates dataset (.jsonl or .json) first.');
      return;
    }
    const picked = await vscode.window.showQuickPick(MODES, { title: 'Export Pairs: which pairs', placeHolder: 'Best vs worst' });
    if (!picked) return;
    let mode: PairExportMode = { kind: 'best-worst' };
    if (picked.mode === 'ranked') {
      const gap = await vscode.window.showInputBox({
        title: 'Export Pairs: smallest rank gap',
        prompt: 'Pair two candidates only when their ranks are at least this far apart (1: every pair)',
        value: '1',
        validateInput: (v) => (/^[1-9]\d{0,3}$/.test(v.trim()) ? undefined : 'A whole number from 1'),
      });
      if (!gap) return;
      mode = { kind: 'ranked', minGap: Number(gap.trim()) };
    }
    // The open document's text, saved or not, is what the labeler sees.
    const document = await vscode.workspace.openTextDocument(source);
    const result = exportPairs(document.getText(), document.fileName, mode, readLintOptions(source));
    if (result.pairs === 0) {
      void vscode.window.showWarningMessage(
        `No pairs to export from ${path.basename(source.fsPath)}: ${result.unlabeledRecords} candidates records are not labeled yet, ${result.skippedRecords} records are not valid candidates records.`,
      );
      return;
    }
    const target = await askTarget(source);
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, Buffer.from(result.jsonl, 'utf8'));
    const summary =
      `Exported ${result.pairs} pairs from ${result.exportedRecords} records of ${vscode.workspace.asRelativePath(source)} to ${vscode.workspace.asRelativePath(target)}` +
      (result.unlabeledRecords ? `; ${result.unlabeledRecords} unlabeled records left out` : '') +
      (result.skippedRecords ? `; ${result.skippedRecords} records skipped (not valid candidates records)` : '');
    output.appendLine(summary);
    const open = await vscode.window.showInformationMessage(summary, 'Open');
    if (open) await vscode.window.showTextDocument(target);
  });
}

async function askTarget(source: vscode.Uri): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.getWorkspaceFolder(source);
  const suggested = defaultExportName(source.fsPath);
  const value = await vscode.window.showInputBox({
    title: 'Export Pairs: write to',
    prompt: folder ? 'Output file, relative to the workspace folder (or an absolute path)' : 'Output file (absolute path)',
    value: folder ? path.relative(folder.uri.fsPath, suggested).split(path.sep).join('/') : suggested,
    validateInput: (v) => (/\.jsonl$/i.test(v.trim()) ? undefined : 'Pairs are written as JSON Lines: end the name with .jsonl'),
  });
  if (!value) return undefined;
  const trimmed = value.trim();
  const target = path.isAbsolute(trimmed) || !folder ? vscode.Uri.file(trimmed) : vscode.Uri.joinPath(folder.uri, trimmed);
  if (target.toString() === source.toString()) {
    void vscode.window.showErrorMessage('Choose another file: exporting would overwrite the candidates.');
    return undefined;
  }
  try {
    await vscode.workspace.fs.stat(target);
    const answer = await vscode.window.showWarningMessage(`${vscode.workspace.asRelativePath(target)} exists. Replace it?`, { modal: true }, 'Replace');
    return answer === 'Replace' ? target : undefined;
  } catch {
    return target;
  }
}

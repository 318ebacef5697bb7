import * as vscode from 'vscode';
import { formatStats } from '../core/dataset/statsSummary.ts';
import type { ValidationResult } from '../core/dataset/datasetValidation.ts';
import { validateFile } from '../core/dataset/validateFile.ts';
import type { DatasetDiagnostics } from './datasetDiagnostics.ts';
import { readLintOptions } from './settings.ts';
import { isParquetPath } from '../core/dataset/parquetTable.ts';
import { rowWhere } from '../core/dataset/readRecords.ts';
import { validateParquet } from '../core/dataset/validateParquet.ts';

/**
 * "DPO: Validate Dataset": the whole report (every problem, not just the Problems panel's
 * share, and the statistics) in the output channel. Works on the active editor, on a file
 * picked in the explorer, or on one chosen from the workspace.
 */
export function registerValidateDatasetCommand(diagnostics: DatasetDiagnostics, output: vscode.OutputChannel): vscode.Disposable {
  return vscode.commands.registerCommand('dpoStudio.validateDataset', async (target?: vscode.Uri) => {
    const uri = target instanceof vscode.Uri ? target : (vscode.window.activeTextEditor?.document.uri ?? activeCustomEditorUri() ?? (await pickDataset()));
    if (!uri) return;
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    const label = vscode.workspace.asRelativePath(uri);
    let result: ValidationResult | undefined;
    try {
      if (uri.scheme === 'file' && isParquetPath(uri.fsPath)) {
        result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Validating ${label}` }, () => validateParquet([uri.fsPath], readLintOptions(uri)));
      } else if (open) {
        result = diagnostics.freshResult(open);
        if (!result) {
          void vscode.window.showWarningMessage(`${label} does not look like a preference dataset (no "chosen", "rejected" or "candidates" fields).`);
          return;
        }
      } else if (uri.scheme === 'file') {
        result = validateFile(uri.fsPath, readLintOptions(uri));
      } else {
        const document = await vscode.workspace.openTextDocument(uri);
        result = diagnostics.freshResult(document);
      }
    } catch (error) {
      void vscode.window.showErrorMessage(`Cannot validate ${label}: ${(error as Error).message}`);
      return;
    }
    if (!result) return;
    output.appendLine(summaryText(label, result).join('\n'));
    output.show(true);
    const verdict = `${label}: ${result.stats.records} records, ${result.errorCount} errors, ${result.warningCount} warnings`;
    if (result.errorCount > 0) void vscode.window.showErrorMessage(verdict, 'Show Problems').then((a) => a && vscode.commands.executeCommand('workbench.actions.view.problems'));
    else void vscode.window.showInformationMessage(verdict);
  });
}

export function summaryText(label: string, result: ValidationResult): string[] {
  const lines = [
    `── ${label} · ${new Date().toLocaleTimeString()}`,
    `${result.stats.records} records · format: ${result.format ?? 'none'} · ${result.errorCount} errors · ${result.warningCount} warnings`,
    ...formatStats(result.stats),
  ];
  for (const p of result.problems) {
    if (result.kind === 'parquet') lines.push(`  ${label}, ${p.recordIndex === undefined ? 'file' : rowWhere(p.line, p.pointer)}  ${p.severity}  ${p.message}  [${p.code}]`);
    else lines.push(`  ${label}:${p.line}:${p.column}  ${p.severity}  ${p.message}  [${p.code}${p.pointer ? ' ' + p.pointer : ''}]`);
  }
  lines.push('');
  return lines;
}

/** The file of the active custom editor (a Parquet file in the pair editor has no text editor). */
function activeCustomEditorUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom ? input.uri : undefined;
}

async function pickDataset(): Promise<vscode.Uri | undefined> {
  const files = await vscode.workspace.findFiles('**/*.{jsonl,json,parquet}', '**/node_modules/**', 500);
  if (files.length === 0) {
    void vscode.window.showInformationMessage('No .jsonl or .json files in the workspace. "DPO: Create Sample Dataset" makes one.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { placeHolder: 'Dataset to validate' },
  );
  return picked?.uri;
}

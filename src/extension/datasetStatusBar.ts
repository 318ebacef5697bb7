import * as vscode from 'vscode';
import type { DatasetDiagnostics } from './datasetDiagnostics.ts';

/** Shows the active dataset's record and problem counts; a click runs the full validation. */
export class DatasetStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('dpoStudio.dataset', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly diagnostics: DatasetDiagnostics) {
    this.item.name = 'DPO Studio dataset';
    this.item.command = 'dpoStudio.validateDataset';
    this.disposables = [
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      diagnostics.onDidValidate((document) => {
        if (document === vscode.window.activeTextEditor?.document) this.update();
      }),
    ];
    this.update();
  }

  private update() {
    const document = vscode.window.activeTextEditor?.document;
    const result = document && this.diagnostics.isDataset(document) ? this.diagnostics.latestResult(document) : undefined;
    if (!result) {
      this.item.hide();
      return;
    }
    const { stats, errorCount, warningCount } = result;
    this.item.text = `$(checklist) ${stats.records} records  $(error) ${errorCount}  $(warning) ${warningCount}`;
    const held = [stats.pairs && `${stats.pairs} pairs (DPO)`, stats.sftRecords && `${stats.sftRecords} SFT records`, stats.candidateRecords && `${stats.candidateRecords} candidates records`].filter(Boolean).join(', ') || 'no valid records';
    this.item.tooltip = `DPO Studio: ${held}, ${errorCount} errors, ${warningCount} warnings. Click for the full report.`;
    this.item.accessibilityInformation = { label: `Dataset: ${stats.records} records, ${errorCount} errors, ${warningCount} warnings` };
    this.item.backgroundColor = errorCount > 0 ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
  }

  dispose() {
    this.disposables.forEach((d) => d.dispose());
  }
}

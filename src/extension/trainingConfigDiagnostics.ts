import * as vscode from 'vscode';
import { isLikelyTrainingConfig, parseTrainingConfig } from '../core/config/trainingConfig.ts';
import { toDiagnostic } from './problemsToDiagnostics.ts';

const CONFIG_FILE = /\.(ya?ml|json)$/i;

/**
 * Checks YAML (and JSON) training configs against the config schema as the user types, with
 * the same located messages `dpo-studio train` would give before starting a run.
 */
export class TrainingConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('dpo-studio-config');
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly disposables: vscode.Disposable[] = [this.collection];

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, 300)),
      vscode.workspace.onDidCloseTextDocument((d) => this.collection.delete(d.uri)),
    );
    vscode.workspace.textDocuments.forEach((d) => this.schedule(d, 0));
  }

  private schedule(document: vscode.TextDocument, delay: number) {
    if (!CONFIG_FILE.test(document.fileName) || document.uri.scheme === 'output') return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (!document.isClosed) this.validate(document);
      }, delay),
    );
  }

  private validate(document: vscode.TextDocument) {
    const text = document.getText();
    if (!isLikelyTrainingConfig(text)) {
      this.collection.delete(document.uri);
      return;
    }
    const { problems } = parseTrainingConfig(text, document.fileName);
    this.collection.set(
      document.uri,
      problems.map((p) => toDiagnostic(document, p)),
    );
  }

  dispose() {
    this.timers.forEach((t) => clearTimeout(t));
    this.disposables.forEach((d) => d.dispose());
  }
}

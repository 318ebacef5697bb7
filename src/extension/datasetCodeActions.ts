import * as vscode from 'vscode';
import { LINT_RULES } from '../core/dataset/lintRules.ts';
import { DIAGNOSTIC_SOURCE } from './problemsToDiagnostics.ts';
import { SECTION } from './settings.ts';

/** Lints whose obvious fix is to drop the record: it adds nothing, or only noise, to training. */
const REMOVABLE: Record<string, string> = {
  'duplicate-record': 'Remove this duplicate record',
  'identical-answers': 'Remove this record (its answers are identical)',
};

/** Quick fixes for dataset lints, and a way to switch a lint off for the workspace. */
export class DatasetCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE || typeof diagnostic.code !== 'string') continue;
      const code = diagnostic.code;
      const title = REMOVABLE[code];
      if (title && document.fileName.match(/\.(jsonl|ndjson)$/i)) {
        const action = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
        const line = diagnostic.range.start.line;
        const edit = new vscode.WorkspaceEdit();
        // The line and its line break go; every other line stays byte for byte.
        edit.delete(document.uri, document.lineAt(line).rangeIncludingLineBreak);
        action.edit = edit;
        action.diagnostics = [diagnostic];
        action.isPreferred = code === 'duplicate-record';
        actions.push(action);
      }
      if (code in LINT_RULES) {
        const action = new vscode.CodeAction(`Turn off the "${code}" lint in workspace settings`, vscode.CodeActionKind.QuickFix);
        action.command = { command: 'dpoStudio.disableLint', title: action.title, arguments: [code] };
        action.diagnostics = [diagnostic];
        actions.push(action);
      }
    }
    return actions;
  }
}

export function registerDisableLintCommand(): vscode.Disposable {
  return vscode.commands.registerCommand('dpoStudio.disableLint', async (code: unknown) => {
    // Reachable from the command palette too, so the argument is checked, not trusted.
    if (typeof code !== 'string' || !(code in LINT_RULES)) return;
    const config = vscode.workspace.getConfiguration(SECTION);
    const disabled = new Set(config.get<string[]>('lint.disabled', []));
    disabled.add(code);
    await config.update('lint.disabled', [...disabled], vscode.ConfigurationTarget.Workspace);
  });
}

import * as vscode from 'vscode';
import type { DatasetDiagnostics } from '../datasetDiagnostics.ts';
import { readLintOptions, readValidationSettings, SECTION } from '../settings.ts';
import { ParquetEditorProvider } from './parquetEditorProvider.ts';
import { registerExportPairsCommand, EXPORT_PAIRS_COMMAND } from './exportPairsCommand.ts';
import { PairEditorProvider } from './pairEditorProvider.ts';
import { registerSwitchViewCommands, SHOW_TEXT_COMMAND } from './switchViewCommands.ts';
import { registerReviewCommand } from '../review/reviewCommand.ts';

/** The pair editor, its commands and the export command: one call from `activate`. */
export function registerPairEditor(context: vscode.ExtensionContext, diagnostics: DatasetDiagnostics, output: vscode.OutputChannel): vscode.Disposable {
  const { provider, registration } = PairEditorProvider.register({
    extensionUri: context.extensionUri,
    validation: (document) => diagnostics.resultFor(document),
    holdChecks: (document, until) => diagnostics.holdWhile(document, until),
    lintOptions: (document) => readLintOptions(document.uri),
    annotator: (document) => vscode.workspace.getConfiguration(SECTION, document.uri).get<string>('labeling.annotator', '').trim(),
    debounceMs: (document) => readValidationSettings(document.uri).debounceMs,
    runCommand: (command, session) => {
      void vscode.commands.executeCommand(command === 'showText' ? SHOW_TEXT_COMMAND : EXPORT_PAIRS_COMMAND, session.document.uri);
    },
    log: (line) => output.appendLine(line),
  });
  const parquet = ParquetEditorProvider.register({
    extensionUri: context.extensionUri,
    lintOptions: (uri) => readLintOptions(uri),
    openForLabeling: (uri) => provider.openAt(uri, 0),
    log: (line) => output.appendLine(line),
  });
  return vscode.Disposable.from(registration, parquet, registerSwitchViewCommands(provider), registerExportPairsCommand(provider, output), registerReviewCommand(provider, context.extensionUri, output));
}

import * as vscode from 'vscode';
import { AnalysisCache } from '../../core/dataset/analysisCache.ts';
import { validateText, type TextValidationResult } from '../../core/dataset/validateText.ts';
import type { DatasetDiagnostics } from '../datasetDiagnostics.ts';
import { readLintOptions, readValidationSettings, SECTION } from '../settings.ts';
import { registerExportPairsCommand, EXPORT_PAIRS_COMMAND } from './exportPairsCommand.ts';
import { PairEditorProvider } from './pairEditorProvider.ts';
import { registerSwitchViewCommands, SHOW_TEXT_COMMAND } from './switchViewCommands.ts';

/** The pair editor, its commands and the export command: one call from `activate`. */
export function registerPairEditor(context: vscode.ExtensionContext, diagnostics: DatasetDiagnostics, output: vscode.OutputChannel): vscode.Disposable {
  // Files the Problems panel does not treat as datasets (opened with "Open With...") get their own check.
  const ownCaches = new WeakMap<vscode.TextDocument, AnalysisCache>();
  const validateOwn = (document: vscode.TextDocument): TextValidationResult => {
    const options = readLintOptions(document.uri);
    let cache = ownCaches.get(document);
    if (!cache) ownCaches.set(document, (cache = new AnalysisCache(options)));
    const result = validateText(document.getText(), document.fileName, options, cache.analyze);
    cache.endRun();
    return result;
  };
  const { provider, registration } = PairEditorProvider.register({
    extensionUri: context.extensionUri,
    validate: (document) => diagnostics.latestResult(document) ?? validateOwn(document),
    lintOptions: (document) => readLintOptions(document.uri),
    annotator: (document) => vscode.workspace.getConfiguration(SECTION, document.uri).get<string>('labeling.annotator', '').trim(),
    debounceMs: (document) => readValidationSettings(document.uri).debounceMs,
    runCommand: (command, session) => {
      void vscode.commands.executeCommand(command === 'showText' ? SHOW_TEXT_COMMAND : EXPORT_PAIRS_COMMAND, session.document.uri);
    },
    log: (line) => output.appendLine(line),
  });
  return vscode.Disposable.from(registration, registerSwitchViewCommands(provider), registerExportPairsCommand(provider, output));
}

import * as vscode from 'vscode';
import { registerCreateSampleCommand } from './createSampleCommand.ts';
import { DatasetCodeActions, registerDisableLintCommand } from './datasetCodeActions.ts';
import { DatasetDiagnostics } from './datasetDiagnostics.ts';
import { DatasetStatusBar } from './datasetStatusBar.ts';
import { registerGeneration } from './generation/registerGeneration.ts';
import { registerPairEditor } from './pairEditor/registerPairEditor.ts';
import { TrainingConfigDiagnostics } from './trainingConfigDiagnostics.ts';
import { registerTraining, stopTrainingOnDeactivate } from './training/registerTraining.ts';
import { registerValidateDatasetCommand } from './validateDatasetCommand.ts';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('DPO Studio');
  const diagnostics = new DatasetDiagnostics();
  context.subscriptions.push(
    output,
    diagnostics,
    new DatasetStatusBar(diagnostics),
    new TrainingConfigDiagnostics(),
    vscode.languages.registerCodeActionsProvider(
      [{ pattern: '**/*.{jsonl,ndjson,json}' }],
      new DatasetCodeActions(),
      { providedCodeActionKinds: DatasetCodeActions.kinds },
    ),
    registerValidateDatasetCommand(diagnostics, output),
    registerCreateSampleCommand(),
    registerDisableLintCommand(),
    registerPairEditor(context, diagnostics, output),
    registerTraining(context),
    registerGeneration(context, output),
  );
}

/** Running trainers are asked to checkpoint and stop before the host goes away. */
export function deactivate(): Promise<void> {
  return stopTrainingOnDeactivate();
}

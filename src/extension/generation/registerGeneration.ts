import * as vscode from 'vscode';
import { registerSetApiKeyCommand } from './apiKeys.ts';
import { registerGenerateCommands } from './generateCommands.ts';

/** Candidate generation's commands: one call from `activate`. */
export function registerGeneration(context: vscode.ExtensionContext, output: vscode.OutputChannel): vscode.Disposable {
  return vscode.Disposable.from(registerGenerateCommands(context, output), registerSetApiKeyCommand(context));
}

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { defaultTrlEnvDir, venvPython } from '../../trlEngine/pythonEnvironment.ts';
import { SECTION } from '../settings.ts';

/**
 * The TRL engine's Python, as VS Code picks it: the config's `training.python` wins (the trainer
 * reads it); else the `dpoStudio.training.python` setting; else the environment "DPO: Set Up
 * TRL Engine" made; else the interpreter selected in the Python extension, when it is there.
 * The setting is machine-scoped: a workspace cannot make the trainer run a program of its choice.
 */

export const SET_UP_TRL_COMMAND = 'dpoStudio.setUpTrl';

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined };
}

/** The interpreter the trainer should use, or undefined to leave it to the config and the set-up environment. */
export function trainerPython(folder?: vscode.Uri): { python: string; source: string } | undefined {
  const setting = vscode.workspace.getConfiguration(SECTION).get<string>('training.python', '').trim();
  if (setting) return { python: setting, source: 'the dpoStudio.training.python setting' };
  if (existsSync(venvPython(defaultTrlEnvDir()))) return undefined;
  const extension = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  const selected = extension?.isActive ? extension.exports?.environments?.getActiveEnvironmentPath(folder)?.path : undefined;
  return selected ? { python: selected, source: "the Python extension's selected interpreter" } : undefined;
}

/** The environment variables that hand the chosen interpreter to the trainer. */
export function trainerPythonEnv(folder?: vscode.Uri): NodeJS.ProcessEnv | undefined {
  const chosen = trainerPython(folder);
  return chosen ? { ...process.env, DPO_STUDIO_PYTHON: chosen.python } : undefined;
}

/**
 * Before a run on engine trl: when nothing names an interpreter and the set-up environment does
 * not exist, offer to set it up instead of starting a run that can only fail. True: go on.
 */
export async function ensureTrlEnvironment(extensionUri: vscode.Uri, configPython: string | undefined, folder: vscode.Uri | undefined, log: vscode.OutputChannel): Promise<boolean> {
  if (configPython !== undefined || trainerPython(folder) || existsSync(venvPython(defaultTrlEnvDir()))) return true;
  const setUp = 'Set Up TRL Engine';
  const choose = 'Use an Interpreter…';
  const choice = await vscode.window.showWarningMessage(
    'This config trains with engine trl (PyTorch, TRL, PEFT), and its Python environment is not set up yet. Set it up now? pip installs the pinned versions from PyPI (several GB with CUDA libraries).',
    { modal: false },
    setUp,
    choose,
  );
  if (choice === choose) {
    await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.training.python`);
    return false;
  }
  if (choice !== setUp) return false;
  return runTrlSetup(extensionUri, log);
}

/** "DPO: Set Up TRL Engine": `dpo-studio setup trl` with a cancellable progress notification. */
export async function runTrlSetup(extensionUri: vscode.Uri, log: vscode.OutputChannel): Promise<boolean> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage('Setting up the TRL engine runs pip: trust this workspace first.');
    return false;
  }
  const cli = vscode.Uri.joinPath(extensionUri, 'dist', 'cli.cjs').fsPath;
  log.appendLine(`\n[${new Date().toLocaleTimeString()}] node dist/cli.cjs setup trl`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'DPO: Setting up the TRL engine', cancellable: true },
    (progress, token) =>
      new Promise<{ code: number | null; last: string }>((done) => {
        const child = spawn(process.execPath, [cli, 'setup', 'trl'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
        let last = '';
        const onText = (chunk: Buffer) => {
          const text = chunk.toString();
          log.append(text);
          // pip redraws its progress bar with carriage returns: the newest piece is the news.
          const line = text.split(/[\r\n]+/).map((l) => l.trim()).filter(Boolean).pop();
          if (line) {
            last = line;
            progress.report({ message: line.length > 120 ? `${line.slice(0, 117)}…` : line });
          }
        };
        child.stdout.on('data', onText);
        child.stderr.on('data', onText);
        token.onCancellationRequested(() => child.kill('SIGTERM'));
        child.on('error', (error) => done({ code: null, last: error.message }));
        child.on('close', (code) => done({ code, last }));
      }),
  );
  if (result.code === 0) {
    void vscode.window.showInformationMessage('DPO: the TRL engine is ready (details in the "DPO Training" output).');
    return true;
  }
  const show = 'Show Log';
  void vscode.window.showErrorMessage(`DPO: setting up the TRL engine failed: ${result.last}`, show).then((c) => c === show && log.show());
  return false;
}

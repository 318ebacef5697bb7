import { spawn } from 'node:child_process';
import * as vscode from 'vscode';
import { trainerPythonEnv } from '../training/trlEnvironment.ts';

/**
 * `dpo-studio score <args>` as its own process (a model does not load in the extension host),
 * with a progress notification that can cancel it. Resolves with `succeeded(exit code)`; a
 * failure is shown with the scorer's own words and the output to read.
 */
export function runScoreProcess(extensionUri: vscode.Uri, output: vscode.OutputChannel, args: readonly string[], title: string, cwd: string | undefined, succeeded: (code: number | null) => boolean): Promise<boolean> {
  const cli = vscode.Uri.joinPath(extensionUri, 'dist', 'cli.cjs').fsPath;
  output.appendLine(`\n[${new Date().toLocaleTimeString()}] node dist/cli.cjs score ${args.join(' ')}`);
  return Promise.resolve(
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) =>
      new Promise<boolean>((resolve) => {
        const child = spawn(process.execPath, [cli, 'score', ...args], { cwd, env: { ...process.env, ...trainerPythonEnv(cwd ? vscode.Uri.file(cwd) : undefined), ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let tail = '';
        const take = (chunk: string) => {
          output.append(chunk);
          tail = (tail + chunk).slice(-4000);
          const match = /: (\d+)\/(\d+) pairs/.exec(chunk);
          if (match) progress.report({ message: `${match[1]}/${match[2]}` });
        };
        child.stdout.setEncoding('utf8').on('data', take);
        child.stderr.setEncoding('utf8').on('data', take);
        token.onCancellationRequested(() => child.kill('SIGTERM'));
        child.on('error', (error) => {
          void vscode.window.showErrorMessage(`Could not start the scorer: ${error.message}`);
          resolve(false);
        });
        child.on('close', (code) => {
          if (token.isCancellationRequested) return resolve(false);
          if (succeeded(code)) return resolve(true);
          const lines = tail.trim().split('\n');
          const reason = lines.filter((l) => l.startsWith('dpo-studio:')).pop() ?? lines.pop() ?? `exit ${code}`;
          void vscode.window.showErrorMessage(`Scoring failed: ${reason.replace(/^dpo-studio: /, '')}`, 'Show Output').then((choice) => choice && output.show());
          resolve(false);
        });
      }),
    ),
  );
}

import { spawn } from 'node:child_process';
import * as vscode from 'vscode';
import { isHubId } from '../../core/hub/hubCache.ts';

/**
 * The Hugging Face side of the extension: "DPO: Set Hugging Face Token" keeps the token in
 * SecretStorage (the OS keychain), never in settings; it reaches only DPO Studio's own processes
 * (trainer, generation worker, downloads) as HF_TOKEN, and only when the environment has none.
 * "DPO: Download Model" runs `dpo-studio download` with a cancellable progress notification.
 */

export const SET_HF_TOKEN_COMMAND = 'dpoStudio.setHuggingFaceToken';
export const DOWNLOAD_MODEL_COMMAND = 'dpoStudio.downloadModel';
const SECRET = 'dpoStudio.huggingFace.token';

let savedToken: string | undefined;

/** Environment for a DPO Studio child process: HF_TOKEN from SecretStorage when the environment has none. */
export function hubEnv(): Record<string, string> {
  return savedToken && !process.env.HF_TOKEN ? { HF_TOKEN: savedToken } : {};
}

export function registerHubCommands(context: vscode.ExtensionContext, log: vscode.OutputChannel): vscode.Disposable {
  void context.secrets.get(SECRET).then((token) => (savedToken = token || undefined));
  return vscode.Disposable.from(
    context.secrets.onDidChange(async (e) => {
      if (e.key === SECRET) savedToken = (await context.secrets.get(SECRET)) || undefined;
    }),
    vscode.commands.registerCommand(SET_HF_TOKEN_COMMAND, async () => {
      const token = await vscode.window.showInputBox({
        title: 'Hugging Face token',
        prompt: 'A token with read access (huggingface.co/settings/tokens), for gated and private models. Empty removes the saved one.',
        password: true,
        ignoreFocusOut: true,
        validateInput: (value) => (value === '' || /^hf_[A-Za-z0-9]{20,}$/.test(value.trim()) ? undefined : 'Hugging Face tokens look like hf_ followed by letters and digits'),
      });
      if (token === undefined) return;
      if (token.trim() === '') {
        await context.secrets.delete(SECRET);
        savedToken = undefined;
        void vscode.window.showInformationMessage('DPO: the saved Hugging Face token was removed.');
        return;
      }
      await context.secrets.store(SECRET, token.trim());
      savedToken = token.trim();
      void vscode.window.showInformationMessage('DPO: Hugging Face token saved (in the OS keychain; used for downloads and training).');
    }),
    vscode.commands.registerCommand(DOWNLOAD_MODEL_COMMAND, (id?: unknown) => downloadModelCommand(context.extensionUri, log, typeof id === 'string' ? id : undefined)),
  );
}

async function downloadModelCommand(extensionUri: vscode.Uri, log: vscode.OutputChannel, given?: string): Promise<string | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage('Downloading a model needs a trusted workspace.');
    return undefined;
  }
  const answer =
    given ??
    (await vscode.window.showInputBox({
      title: 'DPO: Download Model',
      prompt: 'A Hugging Face model id, optionally @revision (branch, tag or commit)',
      placeHolder: 'Qwen/Qwen3-4B',
      ignoreFocusOut: true,
      validateInput: (value) => (isHubId(value.trim().split('@')[0] ?? '') ? undefined : 'org/name, as on the model page (e.g. Qwen/Qwen3-4B or meta-llama/Llama-2-7b-hf)'),
    }));
  if (!answer) return undefined;
  const [repo, revision] = answer.trim().split('@') as [string, string | undefined];
  const cli = vscode.Uri.joinPath(extensionUri, 'dist', 'cli.cjs').fsPath;
  log.appendLine(`\n[${new Date().toLocaleTimeString()}] dpo-studio download ${repo}${revision ? ` --revision ${revision}` : ''}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `DPO: Downloading ${repo}`, cancellable: true },
    (progress, token) =>
      new Promise<{ code: number | null; path: string; last: string }>((done) => {
        const child = spawn(process.execPath, [cli, 'download', repo, ...(revision ? ['--revision', revision] : [])], { env: { ...process.env, ...hubEnv(), ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let path = '';
        let last = '';
        let reported = 0;
        child.stdout.on('data', (d: Buffer) => (path += d.toString()));
        child.stderr.on('data', (d: Buffer) => {
          const text = d.toString();
          log.append(text);
          for (const line of text.split(/[\r\n]+/).filter(Boolean)) {
            last = line.replace(/^dpo-studio: /, '');
            const percent = /\((\d+)%\)/.exec(line);
            const increment = percent ? Math.max(0, Number(percent[1]) - reported) : 0;
            if (percent) reported = Number(percent[1]);
            progress.report({ message: line.replace(/^downloading [^:]+: /, ''), increment });
          }
        });
        token.onCancellationRequested(() => child.kill('SIGTERM'));
        child.on('error', (error) => done({ code: null, path, last: error.message }));
        child.on('close', (code) => done({ code, path: path.trim(), last }));
      }),
  );
  if (result.code === 0) {
    void vscode.window.showInformationMessage(`DPO: ${repo} is in the Hugging Face cache; name it as model.name: ${repo}`);
    return result.path;
  }
  const show = 'Show Log';
  void vscode.window.showErrorMessage(`DPO: downloading ${repo} failed: ${result.last}`, show).then((c) => c === show && log.show());
  return undefined;
}

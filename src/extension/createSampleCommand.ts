import * as vscode from 'vscode';
import { createSampleJsonl, type SampleFormat } from '../core/dataset/sampleDataset.ts';

const FORMATS: Array<vscode.QuickPickItem & { format: SampleFormat }> = [
  { label: 'standard', description: '{"prompt", "chosen", "rejected"} as text', format: 'standard' },
  { label: 'conversational', description: 'chat messages, as TRL reads them', format: 'conversational' },
  { label: 'instruction', description: '"prompt": {"instruction", "input"}', format: 'instruction' },
];

/** "DPO: Create Sample Dataset": the CLI's `sample`, written into the workspace and opened. */
export function registerCreateSampleCommand(): vscode.Disposable {
  return vscode.commands.registerCommand('dpoStudio.createSampleDataset', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      void vscode.window.showErrorMessage('Open a folder first: the sample dataset is written into the workspace.');
      return;
    }
    const relative = await vscode.window.showInputBox({
      title: 'Create Sample Dataset',
      prompt: 'Where to write the sample (relative to the workspace folder)',
      value: 'data/preference_sample.jsonl',
      validateInput: (value) => (/\.jsonl$/i.test(value.trim()) ? undefined : 'The sample is JSON Lines: end the name with .jsonl'),
    });
    if (!relative) return;
    const picked = await vscode.window.showQuickPick(FORMATS, { title: 'Record format', placeHolder: 'standard' });
    if (!picked) return;
    const target = vscode.Uri.joinPath(folder.uri, relative.trim());
    try {
      await vscode.workspace.fs.stat(target);
      const overwrite = await vscode.window.showWarningMessage(`${relative} exists. Replace it?`, { modal: true }, 'Replace');
      if (overwrite !== 'Replace') return;
    } catch {
      // Does not exist yet: nothing to confirm.
    }
    // workspace.fs.writeFile goes through VS Code's file service, which writes atomically.
    await vscode.workspace.fs.writeFile(target, Buffer.from(createSampleJsonl(50, picked.format, 42), 'utf8'));
    await vscode.window.showTextDocument(target);
  });
}

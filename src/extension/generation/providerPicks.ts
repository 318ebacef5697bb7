import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { listModels } from '../../core/generation/providers/openaiCompatible.ts';
import { apiKeyFor, validBaseUrl } from './apiKeys.ts';
import type { GenerationSettings } from './generationSettings.ts';

/**
 * The pickers of the generation commands: which file, which provider, which model. Each returns
 * undefined when the user backs out (Escape), and the command then stops without a word.
 */

export type PickedProvider =
  | { kind: 'local'; modelDir: string; adapterDir?: string }
  | { kind: 'openai'; baseUrl: string; model: string }
  | { kind: 'vscode-lm'; model: vscode.LanguageModelChat };

const BROWSE = 'Browse…';
const EXCLUDE = '{**/node_modules/**,**/.git/**}';

type Item<T> = vscode.QuickPickItem & { value?: T };

async function pick<T>(items: Array<Item<T>>, options: vscode.QuickPickOptions): Promise<Item<T> | undefined> {
  return vscode.window.showQuickPick(items, { ignoreFocusOut: true, matchOnDescription: true, ...options });
}

/** The prompts file: the one open in the editor first, then the workspace's datasets and text files. */
export async function pickInputFile(title: string): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  const files = await vscode.workspace.findFiles('**/*.{jsonl,ndjson,json,txt,parquet}', EXCLUDE, 500);
  // Model folders hold config.json, tokenizer.json and the like: they are never prompts.
  const candidates = files.filter((f) => !/(^|[\\/])(config|tokenizer|tokenizer_config|generation_config|adapter_config|special_tokens_map|package|package-lock|tsconfig|settings|launch|tasks|extensions)\.json$/i.test(f.fsPath));
  candidates.sort((a, b) => vscode.workspace.asRelativePath(a).localeCompare(vscode.workspace.asRelativePath(b)));
  if (active && /\.(jsonl|ndjson|json|txt|parquet)$/i.test(active.fsPath)) {
    const i = candidates.findIndex((f) => f.toString() === active.toString());
    if (i >= 0) candidates.splice(i, 1);
    candidates.unshift(active);
  }
  const items: Array<Item<vscode.Uri>> = candidates.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), value: uri }));
  items.push({ label: BROWSE, description: 'a file outside the workspace' });
  const picked = await pick(items, { title, placeHolder: 'Prompts: a prompts file, a preference or candidates dataset, or text with one prompt per line' });
  if (!picked) return undefined;
  if (picked.value) return picked.value;
  const chosen = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: { Prompts: ['jsonl', 'ndjson', 'json', 'txt'], 'All files': ['*'] } });
  return chosen?.[0];
}

/** Folders in the workspace that hold `marker` (and pass `keep`), as workspace-relative items. */
async function foldersWith(marker: string, keep: (dir: string) => boolean): Promise<string[]> {
  const found = await vscode.workspace.findFiles(`**/${marker}`, EXCLUDE, 200);
  return found
    .map((uri) => path.dirname(uri.fsPath))
    .filter(keep)
    .sort((a, b) => vscode.workspace.asRelativePath(a).localeCompare(vscode.workspace.asRelativePath(b)));
}

async function browseFolder(title: string): Promise<string | undefined> {
  const chosen = await vscode.window.showOpenDialog({ title, canSelectFiles: false, canSelectFolders: true, canSelectMany: false });
  return chosen?.[0]?.fsPath;
}

export async function pickProvider(title: string, settings: GenerationSettings, secrets: vscode.SecretStorage, hint?: PickedProvider): Promise<PickedProvider | undefined> {
  const kinds: Array<Item<PickedProvider['kind']>> = [
    { label: 'Local model', description: 'a model folder (with an optional LoRA adapter), run by DPO Studio', value: 'local' },
    { label: 'OpenAI-compatible endpoint', description: `vLLM, Ollama, llama.cpp server, OpenAI · ${settings.baseUrl}`, value: 'openai' },
    { label: 'VS Code language model', description: 'a chat model another extension provides (e.g. Copilot)', value: 'vscode-lm' },
  ];
  if (hint) kinds.unshift(...kinds.splice(kinds.findIndex((k) => k.value === hint.kind), 1));
  const kind = await pick(kinds, { title, placeHolder: 'Who answers the prompts?' });
  if (!kind?.value) return undefined;
  switch (kind.value) {
    case 'local':
      return pickLocal(title, hint?.kind === 'local' ? hint : undefined);
    case 'openai':
      return pickEndpoint(title, settings, secrets);
    case 'vscode-lm':
      return pickLanguageModel(title);
  }
}

async function pickLocal(title: string, hint?: Extract<PickedProvider, { kind: 'local' }>): Promise<PickedProvider | undefined> {
  const models = await foldersWith('config.json', (dir) => existsSync(path.join(dir, 'tokenizer.json')) && (existsSync(path.join(dir, 'model.safetensors')) || existsSync(path.join(dir, 'model.safetensors.index.json'))));
  const modelItems: Array<Item<string>> = models.map((dir) => ({ label: vscode.workspace.asRelativePath(dir), value: dir }));
  if (hint) {
    const i = modelItems.findIndex((m) => m.value === hint.modelDir);
    if (i > 0) modelItems.unshift(...modelItems.splice(i, 1));
  }
  modelItems.push({ label: BROWSE, description: 'a model folder elsewhere (config.json, model.safetensors, tokenizer.json)' });
  const model = await pick(modelItems, { title, placeHolder: models.length ? 'Model folder' : 'No model folder in the workspace: browse for one (or run "dpo-studio init-model")' });
  if (!model) return undefined;
  const modelDir = model.value ?? (await browseFolder(`${title}: model folder`));
  if (!modelDir) return undefined;

  const adapters = await foldersWith('adapter_config.json', (dir) => existsSync(path.join(dir, 'adapter_model.safetensors')));
  if (adapters.length === 0) return { kind: 'local', modelDir };
  const adapterItems: Array<Item<string>> = [
    { label: 'No adapter', description: 'the model as it is' },
    ...adapters.map((dir) => ({ label: vscode.workspace.asRelativePath(dir), description: 'LoRA adapter', value: dir })),
    { label: BROWSE, description: 'an adapter folder elsewhere', value: '' },
  ];
  const adapter = await pick(adapterItems, { title, placeHolder: 'LoRA adapter on the model (a trained checkpoint, to compare with its reference)' });
  if (!adapter) return undefined;
  if (adapter.value === undefined) return { kind: 'local', modelDir };
  const adapterDir = adapter.value || (await browseFolder(`${title}: adapter folder`));
  return adapterDir ? { kind: 'local', modelDir, adapterDir } : undefined;
}

async function pickEndpoint(title: string, settings: GenerationSettings, secrets: vscode.SecretStorage): Promise<PickedProvider | undefined> {
  const baseUrl = await vscode.window.showInputBox({
    title,
    prompt: 'Base URL of the OpenAI-compatible server (vLLM: http://127.0.0.1:8000/v1, Ollama: http://127.0.0.1:11434/v1, OpenAI: https://api.openai.com/v1)',
    value: settings.baseUrl,
    ignoreFocusOut: true,
    validateInput: validBaseUrl,
  });
  if (!baseUrl) return undefined;
  // The server's own list when it gives one; typing a name is always possible.
  const { key } = await apiKeyFor(secrets, baseUrl, settings.apiKeyEnv);
  const served = await listModels(baseUrl, key, AbortSignal.timeout(3000)).catch(() => [] as string[]);
  let model: string | undefined;
  if (served.length > 0) {
    const items: Array<Item<string>> = served.map((id) => ({ label: id, value: id }));
    const i = items.findIndex((m) => m.value === settings.model);
    if (i > 0) items.unshift(...items.splice(i, 1));
    items.push({ label: 'Another model…', description: 'type its name' });
    const picked = await pick(items, { title, placeHolder: `Model served at ${baseUrl}` });
    if (!picked) return undefined;
    model = picked.value;
  }
  model ??= await vscode.window.showInputBox({
    title,
    prompt: 'Model name, as the server knows it',
    value: settings.model,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : 'A model name is needed'),
  });
  return model ? { kind: 'openai', baseUrl: baseUrl.trim(), model: model.trim() } : undefined;
}

async function pickLanguageModel(title: string): Promise<PickedProvider | undefined> {
  const models = await vscode.lm.selectChatModels();
  if (models.length === 0) {
    void vscode.window.showErrorMessage(
      'No VS Code language model is available: install and sign in to an extension that provides one (GitHub Copilot Chat, for one), or choose a local model or an OpenAI-compatible endpoint.',
    );
    return undefined;
  }
  const picked = await pick(
    models.map((model) => ({ label: model.name, description: `${model.vendor} · ${model.family}`, value: model })),
    { title, placeHolder: 'Language model (VS Code may ask you to allow DPO Studio to use it)' },
  );
  return picked?.value ? { kind: 'vscode-lm', model: picked.value } : undefined;
}

/** Answers per prompt: a whole number from 1 to 64. */
export async function pickCount(title: string, value: number, what: string): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title,
    prompt: what,
    value: String(value),
    ignoreFocusOut: true,
    validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 64 ? undefined : 'A whole number from 1 to 64'),
  });
  return text === undefined ? undefined : Number(text.trim());
}

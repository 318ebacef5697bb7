import { hubEnv } from '../hub/hubCommands.ts';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LockedError } from '../../core/files/fileLock.ts';
import { CandidatesFileError, CandidatesWriter, scanCandidatesText } from '../../core/generation/candidatesFile.ts';
import { readPromptFile, readPromptTable, type PromptFile } from '../../core/generation/promptFile.ts';
import { isParquetPath } from '../../core/dataset/parquetTable.ts';
import { readColumnMapping } from '../settings.ts';
import { OpenAICompatibleProvider } from '../../core/generation/providers/openaiCompatible.ts';
import { formatDuration, runGeneration, type GenerationSummary } from '../../core/generation/runner.ts';
import type { TemperatureSpread } from '../../core/generation/temperatures.ts';
import { ProviderError, type CandidateProvider } from '../../core/generation/types.ts';
import { LocalProcessProvider } from '../../generation/localProcessProvider.ts';
import { OPEN_PAIR_EDITOR_COMMAND } from '../pairEditor/switchViewCommands.ts';
import { apiKeyFor, SET_API_KEY_COMMAND } from './apiKeys.ts';
import { readGenerationSettings, type GenerationSettings } from './generationSettings.ts';
import { LanguageModelProvider } from './languageModelProvider.ts';
import { pickCount, pickInputFile, pickProvider, type PickedProvider } from './providerPicks.ts';

/**
 * "DPO: Generate Candidates" and "DPO: Compare Models": pick the prompts, who answers and how
 * many times, then generate into a candidates file with a cancellable progress notification,
 * and offer to open the result in the pair editor. The rules (reading prompts, resuming, the
 * concurrency limit, retries, dedup) are core's; this file only asks and shows.
 */

export const GENERATE_COMMAND = 'dpoStudio.generateCandidates';
export const COMPARE_COMMAND = 'dpoStudio.compareModels';
const OPEN_IN_PAIR_EDITOR = 'Open in Pair Editor';

interface Flow {
  title: string;
  /** Output name: <stem><suffix>.candidates.jsonl. */
  suffix: string;
  compare: boolean;
}

export function registerGenerateCommands(context: vscode.ExtensionContext, output: vscode.OutputChannel): vscode.Disposable {
  const run = (flow: Flow) => async (uri?: vscode.Uri) => {
    try {
      await generateFlow(context, output, flow, uri instanceof vscode.Uri ? uri : undefined);
    } catch (error) {
      output.appendLine(`${flow.title}: ${(error as Error).stack ?? String(error)}`);
      void vscode.window.showErrorMessage(`${flow.title}: ${(error as Error).message}`);
    }
  };
  return vscode.Disposable.from(
    vscode.commands.registerCommand(GENERATE_COMMAND, run({ title: 'Generate Candidates', suffix: '', compare: false })),
    vscode.commands.registerCommand(COMPARE_COMMAND, run({ title: 'Compare Models', suffix: '.compare', compare: true })),
  );
}

async function generateFlow(context: vscode.ExtensionContext, output: vscode.OutputChannel, flow: Flow, given?: vscode.Uri): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    // Generation runs model code and sends prompts (and a key) to a server the workspace's settings name.
    const choice = await vscode.window.showWarningMessage(`${flow.title} runs models and sends your prompts to servers, so it needs a trusted workspace.`, 'Manage Workspace Trust');
    if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
    return;
  }
  const input = given ?? (await pickInputFile(`${flow.title}: prompts`));
  if (!input) return;
  const settings = readGenerationSettings(input);
  // A Parquet file (opened in the read-only pair editor) has no text document: its rows are read directly.
  const prompts = isParquetPath(input.fsPath)
    ? await readPromptTable([input.fsPath], readColumnMapping(input))
    : readPromptFile((await vscode.workspace.openTextDocument(input)).getText(), input.fsPath);
  const inputName = vscode.workspace.asRelativePath(input);
  if (prompts.items.length === 0) {
    void vscode.window.showErrorMessage(`${inputName} holds no prompts${prompts.issues[0] ? ` (line ${prompts.issues[0].line}: ${prompts.issues[0].message})` : ''}.`);
    return;
  }
  logInputIssues(output, inputName, prompts);

  const picks: PickedProvider[] = [];
  const steps = flow.compare ? ['the reference model', 'the model to compare with it'] : [undefined];
  for (const [i, step] of steps.entries()) {
    const title = step ? `${flow.title} (${i + 1}/2): ${step}` : `${flow.title}: provider`;
    const picked = await pickProvider(title, settings, context.secrets, picks[0]);
    if (!picked) return;
    picks.push(picked);
  }
  const n = await pickCount(`${flow.title}: answers`, flow.compare ? Math.max(1, Math.floor(settings.candidates / 2)) : settings.candidates, flow.compare ? 'Answers per prompt from each model' : 'Answers per prompt');
  if (n === undefined) return;
  const target = await pickOutput(input, prompts, flow);
  if (!target) return;

  const summary = await generateWithProgress(context, output, { flow, input, inputName, prompts, picks, n, settings, target: target.uri, fresh: target.fresh });
  if (summary) await report(output, flow, summary, target.uri);
}

function logInputIssues(output: vscode.OutputChannel, name: string, prompts: PromptFile): void {
  for (const issue of prompts.issues) output.appendLine(`${name}:${issue.line}: skipped: ${issue.message}`);
  if (prompts.duplicates.length) output.appendLine(`${name}: ${prompts.duplicates.length} repeated prompt(s) answered once`);
}

/** Where to write: <input>.candidates.jsonl beside the input; an existing file is resumed unless the user says otherwise. */
async function pickOutput(input: vscode.Uri, prompts: PromptFile, flow: Flow): Promise<{ uri: vscode.Uri; fresh: boolean } | undefined> {
  const dir = path.dirname(input.fsPath);
  const stem = path.basename(input.fsPath).replace(/\.(jsonl|ndjson|json|txt)$/i, '').replace(/\.(candidates|pairs|prompts)$/i, '');
  let file = path.join(dir, `${stem}${flow.suffix}.candidates.jsonl`);
  if (file === input.fsPath) file = path.join(dir, `${stem}${flow.suffix}.new.candidates.jsonl`);
  const uri = vscode.Uri.file(file);
  if (!existsSync(file)) return { uri, fresh: false };
  const { resume } = peekOutput(file);
  const missing = prompts.items.filter((item) => !resume.doneKeys.has(item.key)).length;
  const items: Array<vscode.QuickPickItem & { action: 'resume' | 'replace' | 'other' }> = [
    { label: 'Resume', description: `${prompts.items.length - missing} of ${prompts.items.length} prompts are answered there: answer the ${missing} missing`, action: 'resume' },
    { label: 'Write to another file…', action: 'other' },
    { label: 'Start over', description: `replace ${path.basename(file)}`, action: 'replace' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `${flow.title}: ${vscode.workspace.asRelativePath(uri)} exists`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.action === 'resume') return { uri, fresh: false };
  if (picked.action === 'replace') {
    const sure = await vscode.window.showWarningMessage(`Replace ${vscode.workspace.asRelativePath(uri)}? Its records, labels included, are lost.`, { modal: true }, 'Replace');
    return sure === 'Replace' ? { uri, fresh: true } : undefined;
  }
  const other = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(path.join(dir, `${stem}${flow.suffix}.2.candidates.jsonl`)), filters: { 'Candidates (JSON Lines)': ['jsonl'] } });
  return other ? { uri: other, fresh: true } : undefined;
}

/** Which prompts a file already answers, read without changing it (opening it for writing would). */
function peekOutput(file: string) {
  return { resume: scanCandidatesText(readFileSync(file, 'utf8')) };
}

interface Run {
  flow: Flow;
  input: vscode.Uri;
  inputName: string;
  prompts: PromptFile;
  picks: PickedProvider[];
  n: number;
  settings: GenerationSettings;
  target: vscode.Uri;
  fresh: boolean;
}

async function generateWithProgress(context: vscode.ExtensionContext, output: vscode.OutputChannel, run: Run): Promise<GenerationSummary | undefined> {
  const { settings } = run;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: run.flow.title, cancellable: true }, async (progress, token) => {
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort(new Error('cancelled')));
    const providers: CandidateProvider[] = [];
    try {
      for (const pick of run.picks) {
        progress.report({ message: pick.kind === 'local' ? `loading ${vscode.workspace.asRelativePath(pick.modelDir)}…` : 'connecting…' });
        providers.push(await buildProvider(context, output, pick, settings, controller.signal));
      }
      if (settings.systemPrompt && providers.some((p) => !p.supportsSystemPrompt)) output.appendLine(`${run.flow.title}: the system prompt is left out for ${providers.filter((p) => !p.supportsSystemPrompt).map((p) => p.identity.model).join(', ')} (no system turn there)`);
      const { writer, resume } = CandidatesWriter.open(run.target.fsPath, { fresh: run.fresh, inputPath: run.input.fsPath });
      if (resume.cutTail) output.appendLine(`${run.target.fsPath}:${resume.cutTail.line}: removed a half-written last line left by an interrupted run`);
      const spread: TemperatureSpread | undefined = settings.temperatureSpread.length === 2 ? [Math.min(...settings.temperatureSpread), Math.max(...settings.temperatureSpread)] : undefined;
      let reported = 0;
      output.appendLine(`${run.flow.title}: ${run.inputName} → ${vscode.workspace.asRelativePath(run.target)}, ${run.n} answer(s) per prompt from ${providers.map((p) => describe(p)).join(' and ')}`);
      try {
        return await runGeneration({
          items: run.prompts.items,
          sources: providers.map((provider) => ({ provider, n: run.n })),
          settings: { temperature: settings.temperature, maxTokens: settings.maxTokens, ...(settings.topP < 1 ? { topP: settings.topP } : {}), ...(settings.systemPrompt ? { system: settings.systemPrompt } : {}) },
          ...(spread ? { temperatureSpread: spread } : {}),
          // A local model computes one batch at a time: more calls in flight would only queue.
          concurrency: run.picks.every((p) => p.kind === 'local') ? 1 : Math.max(1, settings.concurrency),
          done: resume.doneKeys,
          sourceName: path.basename(run.input.fsPath),
          signal: controller.signal,
          write: (record) => writer.append(record),
          onPromptFailed: (item, message) => output.appendLine(`${run.inputName}:${item.line}: failed: ${message}`),
          onProgress: (p) => {
            const percent = p.total ? (p.finished / p.total) * 100 : 100;
            const eta = p.etaMs !== undefined && p.finished < p.total ? ` · about ${formatDuration(p.etaMs)} left` : '';
            progress.report({ increment: percent - reported, message: `${p.finished}/${p.total} prompts · ${p.candidates} candidates${p.failed ? ` · ${p.failed} failed` : ''}${eta}` });
            reported = percent;
          },
        });
      } finally {
        await writer.close();
      }
    } catch (error) {
      if (controller.signal.aborted) return undefined;
      if (error instanceof ProviderError) {
        void showProviderError(run.flow.title, error.message);
        return undefined;
      }
      if (error instanceof CandidatesFileError || error instanceof LockedError) {
        void vscode.window.showErrorMessage(`${run.flow.title}: ${error.message}`);
        return undefined;
      }
      throw error;
    } finally {
      await Promise.all(providers.map((p) => Promise.resolve(p.dispose?.()).catch(() => undefined)));
    }
  });
}

function describe(provider: CandidateProvider): string {
  const { identity } = provider;
  return `${identity.model}${identity.adapter ? ` + ${identity.adapter}` : ''}${identity.base_url ? ` at ${identity.base_url}` : ''}`;
}

async function buildProvider(context: vscode.ExtensionContext, output: vscode.OutputChannel, pick: PickedProvider, settings: GenerationSettings, signal: AbortSignal): Promise<CandidateProvider> {
  switch (pick.kind) {
    case 'local':
      return LocalProcessProvider.start(
        {
          command: process.execPath,
          cliArgs: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.cjs').fsPath],
          modelDir: pick.modelDir,
          modelLabel: vscode.workspace.asRelativePath(pick.modelDir),
          ...(pick.adapterDir ? { adapterDir: pick.adapterDir, adapterLabel: vscode.workspace.asRelativePath(pick.adapterDir) } : {}),
          onLog: (line) => output.appendLine(`[local model] ${line}`),
          env: hubEnv(),
        },
        signal,
      );
    case 'openai': {
      const key = await apiKeyFor(context.secrets, pick.baseUrl, settings.apiKeyEnv);
      return new OpenAICompatibleProvider({
        baseUrl: pick.baseUrl,
        model: pick.model,
        api: settings.api,
        ...(key.key ? { apiKey: key.key } : {}),
        keyHint: key.hint,
        timeoutMs: settings.requestTimeoutSeconds * 1000,
        maxRetries: settings.maxRetries,
        onRetry: (r) => output.appendLine(`${pick.model}: retry ${r.attempt} in ${(r.delayMs / 1000).toFixed(1)} s after ${r.reason}`),
      });
    }
    case 'vscode-lm':
      return new LanguageModelProvider(pick.model);
  }
}

async function showProviderError(title: string, message: string): Promise<void> {
  const keyProblem = /^40[13] /.test(message);
  const choice = await vscode.window.showErrorMessage(`${title}: ${message}`, ...(keyProblem ? ['Set API Key'] : []));
  if (choice === 'Set API Key') await vscode.commands.executeCommand(SET_API_KEY_COMMAND);
}

async function report(output: vscode.OutputChannel, flow: Flow, summary: GenerationSummary, target: vscode.Uri): Promise<void> {
  const name = vscode.workspace.asRelativePath(target);
  output.appendLine(
    `${flow.title}: ${summary.written} written (${summary.candidates} candidates, ${summary.duplicatesDropped} identical dropped), ${summary.skipped} already there, ${summary.failed} failed, in ${formatDuration(summary.elapsedMs)}` +
      (summary.cancelled ? ' (cancelled)' : '') +
      (summary.fatalError ? `; stopped: ${summary.fatalError}` : ''),
  );
  if (summary.fatalError) {
    await showProviderError(flow.title, summary.fatalError);
    return;
  }
  const failed = summary.failed ? ` ${summary.failed} prompt(s) failed (see the DPO Studio output): run the command again to retry them.` : '';
  const message = summary.cancelled
    ? `Stopped. ${summary.written} record(s) written to ${name} are kept: run the command again to resume.`
    : summary.written === 0 && summary.failed === 0
      ? `Every prompt is already answered in ${name}.`
      : `Generated ${summary.written} record(s) with ${summary.candidates} candidates into ${name}.${failed}`;
  const show = summary.failed || summary.cancelled ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const choice = await show(message, OPEN_IN_PAIR_EDITOR, ...(summary.failed ? ['Show Log'] : []));
  if (choice === OPEN_IN_PAIR_EDITOR) await vscode.commands.executeCommand(OPEN_PAIR_EDITOR_COMMAND, target);
  else if (choice === 'Show Log') output.show(true);
}

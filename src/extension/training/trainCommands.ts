import { closeSync, existsSync, openSync, readdirSync, readSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import * as vscode from 'vscode';
import { describeHolder, liveLockHolder, lockInside } from '../../core/files/fileLock.ts';
import { sftConfigTemplate, trainingConfigTemplate } from '../../core/training/configTemplate.ts';
import { stageConfigs } from '../../core/config/index.ts';
import { detectFormat } from '../../core/dataset/formats.ts';
import { stageOfFormat } from '../../core/dataset/types.ts';
import { checkpointStep, RUN_LAYOUT } from '../../core/training/engineContract.ts';
import { DPO_TASK_TYPE, type DpoTaskDefinition } from '../../core/training/taskDefinition.ts';
import type { TrainerExit } from './trainerProcess.ts';
import type { RunRegistry } from './runRegistry.ts';
import type { TrainingDashboard } from './dashboardPanel.ts';
import { createDpoTask, findTrainingConfigs, type ConfigFile } from './taskProvider.ts';
import { ensureTrlEnvironment } from './trlEnvironment.ts';
import { configOutputDir, configOutputDirs, readTrainingConfig, UNTRUSTED_MESSAGE, type TrainingSession, type TrainingSessions } from './trainingSessions.ts';
import { SHOW_DASHBOARD_COMMAND } from './trainingStatusBar.ts';

export const TRAIN_COMMAND = 'dpoStudio.train';
export const RESUME_COMMAND = 'dpoStudio.resumeTraining';
export const CREATE_CONFIG_COMMAND = 'dpoStudio.createTrainingConfig';
export const STOP_COMMAND = 'dpoStudio.stopTraining';
/** workspaceState: output folder → the config file last trained into it, for Resume. */
const RUN_CONFIGS_KEY = 'dpoStudio.runConfigs';

interface Services {
  context: vscode.ExtensionContext;
  sessions: TrainingSessions;
  registry: RunRegistry;
  dashboard: TrainingDashboard;
}

/** A run (of this window, another one or a terminal) is writing into the folder: say who, start nothing. The trainer refuses too; this says it before a task starts. */
function refuseBusy(outputDir: string): boolean {
  const holder = liveLockHolder(lockInside(outputDir));
  if (!holder) return false;
  void vscode.window.showErrorMessage(`${vscode.workspace.asRelativePath(outputDir)} is being written by ${describeHolder(holder)}. Stop that run first, or train into another output_dir.`);
  return true;
}

/** Files of an earlier run that the trainer refuses to mix a fresh run with. */
function previousRun(outputDir: string): { exists: boolean; latestCheckpoint?: string } {
  let names: string[];
  try {
    names = readdirSync(outputDir);
  } catch {
    return { exists: false };
  }
  const checkpoints = names
    .filter((n) => checkpointStep(n) !== undefined)
    .sort((a, b) => checkpointStep(b)! - checkpointStep(a)!);
  const exists = checkpoints.length > 0 || names.some((n) => n === RUN_LAYOUT.metrics || n === RUN_LAYOUT.run || n === RUN_LAYOUT.final);
  return { exists, ...(checkpoints[0] ? { latestCheckpoint: checkpoints[0] } : {}) };
}

async function refuseUntrusted(): Promise<boolean> {
  if (vscode.workspace.isTrusted) return false;
  const choice = await vscode.window.showErrorMessage(UNTRUSTED_MESSAGE, 'Manage Workspace Trust');
  if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
  return true;
}

export class TrainCommands {
  constructor(private readonly services: Services) {}

  register(): vscode.Disposable {
    return vscode.Disposable.from(
      vscode.commands.registerCommand(TRAIN_COMMAND, (arg?: unknown) => this.train(arg instanceof vscode.Uri ? arg : undefined)),
      vscode.commands.registerCommand(RESUME_COMMAND, (arg?: unknown) => this.resume(typeof arg === 'string' ? arg : undefined)),
      vscode.commands.registerCommand(CREATE_CONFIG_COMMAND, () => this.createConfig()),
      vscode.commands.registerCommand(STOP_COMMAND, (arg?: unknown) => this.stop(typeof arg === 'string' ? arg : undefined)),
      vscode.commands.registerCommand(SHOW_DASHBOARD_COMMAND, (arg?: unknown) => this.services.dashboard.show(typeof arg === 'string' ? arg : this.liveKey())),
      this.services.sessions.onDidEnd(({ session, exit }) => void this.notifyEnd(session, exit)),
    );
  }

  private liveKey(): string | undefined {
    return this.services.sessions.all().find((s) => s.key)?.key;
  }

  /** "DPO: Train": pick (or create) a config, start its task, show the dashboard. */
  async train(configUri?: vscode.Uri): Promise<void> {
    if (await refuseUntrusted()) return;
    let config: ConfigFile | undefined;
    if (configUri) {
      const folder = vscode.workspace.getWorkspaceFolder(configUri);
      if (!folder) {
        void vscode.window.showErrorMessage('DPO: Train needs a config inside a workspace folder (its paths resolve against that folder).');
        return;
      }
      config = { uri: configUri, folder, relativePath: relative(folder.uri.fsPath, configUri.fsPath).replace(/\\/g, '/') };
    } else {
      config = await this.pickConfig();
      if (!config) return;
    }
    const definition: DpoTaskDefinition = { type: DPO_TASK_TYPE, config: config.relativePath };
    const folderPath = config.folder.uri.fsPath;
    const outputDir = configOutputDir(config.uri.fsPath, folderPath, definition);
    if (!outputDir) {
      await vscode.window.showTextDocument(config.uri);
      void vscode.window.showErrorMessage(`${config.relativePath} is not a valid training config yet: see its problems (Problems panel), fix them, then train.`);
      return;
    }
    if (refuseBusy(outputDir)) return;
    const resolved = readTrainingConfig(config.uri.fsPath, definition);
    if (resolved && stageConfigs(resolved).some((c) => c.training.engine === 'trl') && !(await ensureTrlEnvironment(this.services.context.extensionUri, resolved.training.python, config.folder.uri, this.services.sessions.log))) return;
    const earlier = previousRun(outputDir);
    if (earlier.exists) {
      const rel = vscode.workspace.asRelativePath(outputDir);
      const items: (vscode.QuickPickItem & { how: 'resume' | 'overwrite' })[] = [];
      if (earlier.latestCheckpoint) items.push({ how: 'resume', label: `Resume from ${earlier.latestCheckpoint}`, description: 'go on with the run in ' + rel });
      items.push({ how: 'overwrite', label: 'Start over', description: `replace the run in ${rel} (its checkpoints and metrics are deleted)` });
      const choice = await vscode.window.showQuickPick(items, { title: `${rel} already holds a run`, placeHolder: 'Resume it or start over?' });
      if (!choice) return;
      if (choice.how === 'resume') definition.resume = true;
      else definition.overwrite = true;
    }
    await this.start(definition, config.folder, outputDir);
  }

  /** "DPO: Training: Resume": a stopped or interrupted run, with the config that trains into it. */
  async resume(key?: string): Promise<void> {
    if (await refuseUntrusted()) return;
    const { registry } = this.services;
    registry.discover();
    if (!key) {
      const runs = registry.infos().filter((r) => r.canResume);
      if (runs.length === 0) {
        void vscode.window.showInformationMessage('No stopped or interrupted run with a checkpoint was found in the workspace.');
        return;
      }
      const choice =
        runs.length === 1
          ? runs[0]
          : await vscode.window.showQuickPick(
              runs.map((r) => ({ label: r.label, description: `${r.status} at step ${r.step}${r.totalSteps ? `/${r.totalSteps}` : ''}`, run: r })),
              { title: 'Resume which run?' },
            ).then((c) => c?.run);
      if (!choice) return;
      key = choice.key;
    }
    const info = registry.info(key);
    if (!info?.canResume) {
      void vscode.window.showInformationMessage(`${info?.label ?? key} cannot be resumed: ${info?.status === 'completed' ? 'it is complete' : info?.live ? 'it is training' : 'it has no checkpoint yet'}.`);
      return;
    }
    if (refuseBusy(key)) return;
    const config = await this.configFor(key);
    if (!config) {
      void vscode.window.showErrorMessage(
        `No training config in the workspace has training.output_dir ${info.label}. Resume from a terminal with \`dpo-studio train --config <its config> --resume\`.`,
      );
      return;
    }
    await this.start({ type: DPO_TASK_TYPE, config: config.relativePath, resume: true }, config.folder, key);
  }

  /** "DPO: Training: Stop": the trainer finishes its step and writes a checkpoint. */
  async stop(key?: string): Promise<void> {
    const live = this.services.sessions.all();
    if (live.length === 0) {
      void vscode.window.showInformationMessage('No training is running in this window.');
      return;
    }
    let target = key;
    if (!target && live.length > 1) {
      const choice = await vscode.window.showQuickPick(
        live.map((s) => ({ label: s.key ? vscode.workspace.asRelativePath(s.key) : s.definition.config, session: s })),
        { title: 'Stop which run?' },
      );
      if (!choice) return;
      target = choice.session.key;
      if (!target) {
        choice.session.process.stop();
        return;
      }
    }
    if (target) this.services.sessions.stop(target);
    else live[0]!.process.stop();
    vscode.window.setStatusBarMessage('$(debug-stop) DPO: stopping after the current step (writing a checkpoint)…', 5000);
  }

  private async start(definition: DpoTaskDefinition, folder: vscode.WorkspaceFolder, outputDir: string): Promise<void> {
    const runs = this.services.context.workspaceState.get<Record<string, string>>(RUN_CONFIGS_KEY, {});
    runs[outputDir] = join(folder.uri.fsPath, definition.config);
    await this.services.context.workspaceState.update(RUN_CONFIGS_KEY, runs);
    await vscode.tasks.executeTask(createDpoTask(definition, folder, this.services.sessions));
    this.services.dashboard.show(outputDir);
  }

  private async pickConfig(): Promise<ConfigFile | undefined> {
    const configs = await findTrainingConfigs();
    type Item = vscode.QuickPickItem & { config?: ConfigFile; create?: true };
    const multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
    const items: Item[] = configs.map((config) => {
      const training = readTrainingConfig(config.uri.fsPath, { type: DPO_TASK_TYPE, config: config.relativePath })?.training;
      const description = [multiRoot ? config.folder.name : undefined, training ? `${training.stage.toUpperCase()} · engine ${training.engine}` : 'has problems'].filter(Boolean).join(' · ');
      return { label: config.relativePath, description, config };
    });
    if (items.length > 0) items.push({ label: '', kind: vscode.QuickPickItemKind.Separator });
    items.push({ label: '$(add) Create config...', description: 'a commented template to fill in', create: true });
    const choice = await vscode.window.showQuickPick(items, { title: 'DPO: Train', placeHolder: configs.length ? 'Pick a training config' : 'No training config in the workspace yet' });
    if (!choice) return undefined;
    if (choice.create) {
      await this.createConfig();
      return undefined;
    }
    return choice.config;
  }

  /** Writes a commented config template with guesses from the workspace, and opens it. */
  async createConfig(): Promise<vscode.Uri | undefined> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const folder = folders.length <= 1 ? folders[0] : await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Create the config in which folder?' });
    if (!folder) {
      if (folders.length === 0) void vscode.window.showErrorMessage('Open a folder first: a training config and its runs live in a workspace folder.');
      return undefined;
    }
    const stage = await vscode.window.showQuickPick(
      [
        { label: 'DPO', description: 'preference pairs: prompt, chosen, rejected', stage: 'dpo' as const },
        { label: 'SFT', description: 'supervised fine-tuning on instruction, chat or text data (before DPO)', stage: 'sft' as const },
      ],
      { title: 'New training config', placeHolder: 'What does this run train?' },
    );
    if (!stage) return undefined;
    const name = await vscode.window.showInputBox({
      title: `New ${stage.label} training config`,
      prompt: 'Path of the config, relative to the workspace folder',
      value: `configs/my-run.${stage.stage}.yaml`,
      valueSelection: [8, 14],
      validateInput: (value) => {
        if (!/\.ya?ml$/i.test(value.trim())) return 'A training config is a .yaml (or .yml) file';
        if (existsSync(join(folder.uri.fsPath, value.trim()))) return 'That file exists already';
        return undefined;
      },
    });
    if (!name) return undefined;
    const rel = name.trim();
    const runName = basename(rel).replace(/(\.dpo|\.sft)?\.ya?ml$/i, '') || 'run';
    const template = stage.stage === 'sft' ? sftConfigTemplate : trainingConfigTemplate;
    const text = template({
      modelName: (await this.guessModel(folder)) ?? (stage.stage === 'sft' ? 'path/to/base-model' : 'path/to/sft-model'),
      trainPath: (await this.guessData(folder, 'train', stage.stage)) ?? (stage.stage === 'sft' ? 'data/train.jsonl' : 'data/preference_train.jsonl'),
      evalPath: await this.guessData(folder, 'eval', stage.stage),
      outputDir: `outputs/${runName}`,
    });
    const target = join(folder.uri.fsPath, rel);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text, { flag: 'wx' });
    const uri = vscode.Uri.file(target);
    await vscode.window.showTextDocument(uri);
    const choice = await vscode.window.showInformationMessage(`Created ${rel}. Check model.name and the data paths, then train.`, 'Train Now');
    if (choice) await this.train(uri);
    return uri;
  }

  /** A model folder in the workspace (a config.json next to safetensors weights). */
  private async guessModel(folder: vscode.WorkspaceFolder): Promise<string | undefined> {
    const found = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/config.json'), '{**/node_modules/**,**/outputs/**,**/checkpoint-*/**}', 50);
    const model = found.map((u) => dirname(u.fsPath)).find((dir) => readdirSafe(dir).some((n) => n.endsWith('.safetensors')));
    return model ? relative(folder.uri.fsPath, model).replace(/\\/g, '/') : undefined;
  }

  /** A dataset of the workspace named like `*train*` (or `*eval*`) whose first record is for `stage`. */
  private async guessData(folder: vscode.WorkspaceFolder, kind: 'train' | 'eval', stage: 'dpo' | 'sft'): Promise<string | undefined> {
    const found = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, `**/*${kind}*.{jsonl,json}`), '{**/node_modules/**,**/outputs/**}', 20);
    const sorted = found.map((u) => u.fsPath).sort();
    const fits = sorted.find((file) => firstRecordStage(file) === stage);
    return fits === undefined ? undefined : relative(folder.uri.fsPath, fits).replace(/\\/g, '/');
  }


  /** The config that trains into `key`: the one last used for it here, else any whose output_dir is it. */
  private async configFor(key: string): Promise<ConfigFile | undefined> {
    const configs = await findTrainingConfigs();
    const remembered = this.services.context.workspaceState.get<Record<string, string>>(RUN_CONFIGS_KEY, {})[key];
    const matching = configs.filter((c) => configOutputDirs(c.uri.fsPath, c.folder.uri.fsPath, { type: DPO_TASK_TYPE, config: c.relativePath })?.includes(key));
    const preferred = matching.find((c) => c.uri.fsPath === remembered);
    if (preferred || matching.length <= 1) return preferred ?? matching[0];
    return vscode.window
      .showQuickPick(matching.map((c) => ({ label: c.relativePath, config: c })), { title: `Several configs train into ${vscode.workspace.asRelativePath(key)}: resume with which?` })
      .then((c) => c?.config);
  }

  /** The run ended: say how, with the next useful step as a button. */
  private async notifyEnd(session: TrainingSession, exit: TrainerExit): Promise<void> {
    const key = session.key;
    const label = key ? vscode.workspace.asRelativePath(key) : session.definition.config;
    const summary = key ? this.services.registry.summary(key) : undefined;
    const actions: string[] = [];
    let message: string;
    let failed = false;
    const status = exit.end?.status;
    if (status === 'completed') {
      const loss = summary?.lastMetrics.loss;
      message = `Training of ${label} completed: ${exit.end!.step} steps${loss !== undefined ? `, loss ${loss.toFixed(4)}` : ''}.`;
      // final/ holds a LoRA adapter, or the whole model when every weight trained (full fine-tuning).
      const final = exit.end!.finalCheckpoint;
      if (final) actions.push(existsSync(join(final, 'adapter_config.json')) ? 'Open Adapter' : 'Open Model');
      actions.push('Open Output Folder', 'Show Log');
    } else if (status === 'stopped') {
      message = `Training of ${label} stopped at step ${exit.end!.step}${summary?.lastCheckpoint ? `; ${basename(summary.lastCheckpoint)} was written` : ''}.`;
      actions.push('Resume', 'Open Output Folder', 'Show Log');
    } else {
      failed = true;
      const why = exit.spawnError ?? exit.error?.message ?? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`);
      message = `Training of ${label} failed: ${why}`;
      actions.push('Show Log');
      if (key && existsSync(key)) actions.push('Open Output Folder');
    }
    const choice = failed ? await vscode.window.showErrorMessage(message, ...actions) : await vscode.window.showInformationMessage(message, ...actions);
    switch (choice) {
      case 'Open Adapter':
      case 'Open Model': {
        const final = exit.end?.finalCheckpoint;
        if (!final) return;
        const file = ['adapter_config.json', 'config.json'].map((n) => join(final, n)).find((f) => existsSync(f));
        await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(final));
        if (file) await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
        return;
      }
      case 'Open Output Folder':
        if (key) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(key));
        return;
      case 'Show Log':
        this.services.sessions.log.show(true);
        return;
      case 'Resume':
        if (key) await this.resume(key);
        return;
    }
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** What a dataset file is for, judged by its first record (the first line of a .jsonl; a .json array's first element when it is small). */
function firstRecordStage(file: string): string | undefined {
  let text: string;
  try {
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(64 * 1024);
      text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  let record: unknown;
  try {
    record = file.endsWith('.json') ? (JSON.parse(text) as unknown[])[0] : JSON.parse(text.split('\n').find((line) => line.trim()) ?? '');
  } catch {
    return undefined;
  }
  const format = record && typeof record === 'object' && !Array.isArray(record) ? detectFormat(record as Record<string, unknown>) : undefined;
  return format && stageOfFormat(format);
}

import { stat, readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { isLikelyTrainingConfig } from '../../core/config/index.ts';
import { DPO_TASK_TYPE, taskName, type DpoTaskDefinition } from '../../core/training/taskDefinition.ts';
import { TrainerPseudoterminal } from './trainerPseudoterminal.ts';
import { readTrainingConfig, type TrainingSessions } from './trainingSessions.ts';
import { isAbsolute, join } from 'node:path';

/** A training config found in the workspace. */
export interface ConfigFile {
  uri: vscode.Uri;
  folder: vscode.WorkspaceFolder;
  /** Relative to the folder, with forward slashes: what a task definition says. */
  relativePath: string;
}

/** Bigger files are data, not configs (a dataset saved as .json can be hundreds of MB). */
const MAX_CONFIG_BYTES = 1024 * 1024;
const CONFIG_GLOB = '**/*.{yaml,yml,json}';
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/checkpoint-*/**,**/final/**}';

/** Every training config in the workspace (YAML or JSON that looks like one), sorted by path. */
export async function findTrainingConfigs(token?: vscode.CancellationToken): Promise<ConfigFile[]> {
  const uris = await vscode.workspace.findFiles(CONFIG_GLOB, EXCLUDE, 2000, token);
  const found: ConfigFile[] = [];
  await Promise.all(
    uris.map(async (uri) => {
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      if (!folder || uri.scheme !== 'file') return;
      try {
        if ((await stat(uri.fsPath)).size > MAX_CONFIG_BYTES) return;
        if (!isLikelyTrainingConfig(await readFile(uri.fsPath, 'utf8'))) return;
      } catch {
        return;
      }
      found.push({ uri, folder, relativePath: vscode.workspace.asRelativePath(uri, false).replace(/\\/g, '/') });
    }),
  );
  return found.sort((a, b) => a.folder.index - b.folder.index || a.relativePath.localeCompare(b.relativePath));
}

/**
 * The `dpo` task: a CustomExecution whose pseudoterminal runs the trainer. Tasks from the
 * provider, from tasks.json and from the commands all come from here, so they behave alike.
 */
export function createDpoTask(definition: DpoTaskDefinition, folder: vscode.WorkspaceFolder, sessions: TrainingSessions): vscode.Task {
  const execution = new vscode.CustomExecution(async (resolved) => new TrainerPseudoterminal(resolved, folder.uri.fsPath, sessions));
  const task = new vscode.Task(definition, folder, taskName(definition), DPO_TASK_TYPE, execution, []);
  const engine = readTrainingConfig(isAbsolute(definition.config) ? definition.config : join(folder.uri.fsPath, definition.config), definition)?.training.engine;
  task.detail = `${definition.resume ? 'Resume DPO training from the last checkpoint' : 'DPO training'}${engine ? ` · engine ${engine}` : ''}`;
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true, echo: false };
  return task;
}

export class DpoTaskProvider implements vscode.TaskProvider {
  constructor(private readonly sessions: TrainingSessions) {}

  async provideTasks(token: vscode.CancellationToken): Promise<vscode.Task[]> {
    // VS Code runs no task in Restricted Mode anyway; offering none says so earlier.
    if (!vscode.workspace.isTrusted) return [];
    const configs = await findTrainingConfigs(token);
    return configs.map((c) => createDpoTask({ type: DPO_TASK_TYPE, config: c.relativePath }, c.folder, this.sessions));
  }

  /**
   * A tasks.json entry. The definition must be returned as it came (VS Code matches on it); a
   * malformed one still gets a task, whose terminal lists what is wrong, rather than VS Code's
   * vague "no task provider" message.
   */
  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const folder = task.scope && typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    const execution = new vscode.CustomExecution(async (resolved) => new TrainerPseudoterminal(resolved, folder.uri.fsPath, this.sessions));
    const resolvedTask = new vscode.Task(task.definition, folder, task.name, DPO_TASK_TYPE, execution, []);
    resolvedTask.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true, echo: false };
    return resolvedTask;
  }
}

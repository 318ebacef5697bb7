import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import * as vscode from 'vscode';
import { parseTrainingConfig, stageConfigs } from '../../core/config/index.ts';
import type { TrainingConfig } from '../../core/config/types.ts';
import { trainerPythonEnv } from './trlEnvironment.ts';
import { hubEnv } from '../hub/hubCommands.ts';
import { overrideStrings, trainerArgs, type DpoTaskDefinition } from '../../core/training/taskDefinition.ts';
import type { TrainerEvent } from '../../protocol/trainerEvents.ts';
import { SECTION } from '../settings.ts';
import type { RunRegistry } from './runRegistry.ts';
import { DEFAULT_STOP_TIMINGS, TrainerProcess, type TrainerExit } from './trainerProcess.ts';

/** One trainer started by this window. */
export interface TrainingSession {
  readonly id: number;
  readonly definition: DpoTaskDefinition;
  /** The workspace folder it runs in. */
  readonly folder: string;
  /** The config file, absolute. */
  readonly configPath: string;
  readonly process: TrainerProcess;
  /** The output folder (the run's key): from the config, then from the trainer's `start` event. */
  key: string | undefined;
}

export class TrainingRefused extends Error {}

export const TRAINING_ACTIVE_CONTEXT = 'dpoStudio.trainingActive';

/** Where the config says the run goes, or undefined when the config cannot be read as valid. */
export function configOutputDir(configPath: string, folder: string, definition: DpoTaskDefinition): string | undefined {
  return configOutputDirs(configPath, folder, definition)?.[0];
}

/** Every output folder the config trains into, in order: one per stage with `stages: [sft, dpo]`. */
export function configOutputDirs(configPath: string, folder: string, definition: DpoTaskDefinition): string[] | undefined {
  const config = readTrainingConfig(configPath, definition);
  return config ? stageConfigs(config).map((c) => resolve(folder, c.training.output_dir)) : undefined;
}

/** The config as the trainer will see it (overrides applied), or undefined when it has errors. */
export function readTrainingConfig(configPath: string, definition: DpoTaskDefinition): TrainingConfig | undefined {
  try {
    return parseTrainingConfig(readFileSync(configPath, 'utf8'), configPath, overrideStrings(definition)).config;
  } catch {
    return undefined;
  }
}

/** The trainer's environment: the chosen interpreter (engine trl) and the saved Hugging Face token. */
const withEnv = (env: NodeJS.ProcessEnv | undefined) => ({ env: { ...(env ?? process.env), ...hubEnv() } });

/**
 * The trainers this window runs: starts them, routes their events to the run registry, keeps
 * their human output in the "DPO Training" log, and stops them (gracefully) on request or when
 * the window goes away.
 */
export class TrainingSessions implements vscode.Disposable {
  private readonly sessions = new Set<TrainingSession>();
  private nextId = 1;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly ended = new vscode.EventEmitter<{ session: TrainingSession; exit: TrainerExit }>();
  /** A trainer exited (the notification and the status bar listen). */
  readonly onDidEnd = this.ended.event;
  private readonly moved = new vscode.EventEmitter<{ from: string; to: string }>();
  /** A trainer went on from one run to the next (the stages of one config). */
  readonly onDidMoveRun = this.moved.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly registry: RunRegistry,
    readonly log: vscode.OutputChannel,
  ) {}

  all(): TrainingSession[] {
    return [...this.sessions];
  }

  byKey(key: string): TrainingSession | undefined {
    return this.all().find((s) => s.key === key);
  }

  /** Starts a trainer. Refuses (TrainingRefused) in an untrusted workspace or when the output folder is busy. */
  launch(definition: DpoTaskDefinition, folder: string): TrainingSession {
    if (!vscode.workspace.isTrusted) throw new TrainingRefused(UNTRUSTED_MESSAGE);
    const configPath = isAbsolute(definition.config) ? definition.config : resolve(folder, definition.config);
    const key = configOutputDir(configPath, folder, definition);
    if (key && this.byKey(key)) throw new TrainingRefused(`A run is already training into ${vscode.workspace.asRelativePath(key)} in this window: stop it first (DPO: Training: Stop).`);
    const seconds = vscode.workspace.getConfiguration(SECTION).get<number>('training.stopTimeoutSeconds', DEFAULT_STOP_TIMINGS.graceMs / 1000);
    const trainer = new TrainerProcess(
      { execPath: process.execPath, cliPath: vscode.Uri.joinPath(this.extensionUri, 'dist', 'cli.cjs').fsPath, args: trainerArgs(definition), cwd: folder, ...withEnv(trainerPythonEnv(vscode.Uri.file(folder))) },
      { graceMs: Math.max(1, seconds) * 1000, killMs: DEFAULT_STOP_TIMINGS.killMs },
    );
    const session: TrainingSession = { id: this.nextId++, definition, folder, configPath, process: trainer, key };
    this.sessions.add(session);
    if (key) this.registry.beginLive(key);

    this.log.appendLine(`\n[${new Date().toLocaleTimeString()}] ${vscode.workspace.asRelativePath(configPath)}: node dist/cli.cjs ${trainerArgs(definition).join(' ')}`);
    trainer.onStderr.add((text) => this.log.append(text));
    trainer.onIssue.add((issue) => this.log.appendLine(`(stdout line ${issue.line} is not a trainer event: ${issue.message}) ${issue.text}`));
    trainer.onEvent.add((event) => this.route(session, event));
    trainer.onExit.add((exit) => {
      this.sessions.delete(session);
      if (exit.spawnError) this.log.appendLine(`could not start the trainer: ${exit.spawnError}`);
      if (session.key) this.registry.endLive(session.key);
      this.update();
      this.ended.fire({ session, exit });
    });
    trainer.start();
    this.update();
    return session;
  }

  /** Graceful stop of the run training into `key` (or of every run). */
  stop(key?: string, options: { now?: boolean } = {}): boolean {
    const targets = key === undefined ? this.all() : this.all().filter((s) => s.key === key);
    for (const session of targets) session.process.stop(options);
    return targets.length > 0;
  }

  /**
   * The window is closing or reloading: ask every trainer to checkpoint and wait a little for
   * them (VS Code gives deactivation only a few seconds). A trainer still in its step when the
   * host goes loses its stdout; it finishes its checkpoint only if it shrugs off the closed pipe
   * (metrics.jsonl still gets every event).
   */
  async stopAll(waitMs: number): Promise<void> {
    const exits = this.all().map((s) => {
      s.process.stop();
      return s.process.exited;
    });
    if (exits.length === 0) return;
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, waitMs))]);
  }

  private route(session: TrainingSession, event: TrainerEvent): void {
    if (event.type === 'start' && typeof event.outputDir === 'string' && event.outputDir !== session.key) {
      // The trainer's own word on where it writes (the config could not be read here, or a symlink).
      const from = session.key;
      if (from) this.registry.endLive(from);
      session.key = event.outputDir;
      this.registry.beginLive(session.key);
      if (from) this.moved.fire({ from, to: session.key });
    }
    if (session.key) this.registry.applyLive(session.key, event);
    if (event.type === 'start' || event.type === 'end') this.update();
  }

  private update(): void {
    void vscode.commands.executeCommand('setContext', TRAINING_ACTIVE_CONTEXT, this.sessions.size > 0);
    this.changed.fire();
  }

  dispose(): void {
    for (const session of this.sessions) session.process.stop();
    this.changed.dispose();
    this.ended.dispose();
    this.moved.dispose();
  }
}

export const UNTRUSTED_MESSAGE =
  'Training runs code from the workspace (configs, models, tokenizer templates) and is off in Restricted Mode. Trust this folder (Workspaces: Manage Workspace Trust) to train.';

import { spawn, type ChildProcess } from 'node:child_process';
import { trainerLaunch } from '../../core/training/engineContract.ts';
import { TrainerEventParser, type StreamIssue } from '../../core/training/trainerEventStream.ts';
import type { TrainerEndEvent, TrainerErrorEvent, TrainerEvent } from '../../protocol/trainerEvents.ts';

/**
 * The trainer as a child process (engineContract.ts: `node dist/cli.cjs train ...`, whichever engine), its JSON-lines stdout turned
 * into events, its stderr (human progress) passed on as text, and a stop that lets it save a
 * checkpoint. No `vscode` import: the pseudoterminal, the dashboard and the tests all drive
 * this one class.
 */

export interface TrainerLaunch {
  /** The Node binary: the extension host's own `process.execPath`. */
  execPath: string;
  /** `<extension>/dist/cli.cjs`. */
  cliPath: string;
  /** After the CLI path: `train --config ...`. */
  args: string[];
  /** The workspace folder: relative paths in the config resolve against it. */
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

export interface StopTimings {
  /** After SIGINT, how long the current step and the checkpoint may take before SIGTERM. */
  graceMs: number;
  /** After SIGTERM (the trainer quits at once on a second signal), how long before SIGKILL. */
  killMs: number;
}

export const DEFAULT_STOP_TIMINGS: StopTimings = { graceMs: 120_000, killMs: 30_000 };

export interface TrainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Someone asked it to stop (the task was terminated, Stop was pressed). */
  stopRequested: boolean;
  /** Signals sent, in order: SIGINT, then SIGTERM and SIGKILL only if it lingered. */
  signalsSent: NodeJS.Signals[];
  /** The run's last `end` and `error` events, if it sent them. */
  end?: TrainerEndEvent;
  error?: TrainerErrorEvent;
  /** The process could not be started at all (no such binary, say). */
  spawnError?: string;
}

/** A small event source: add listeners, fire to all; disposing a listener removes it. */
export class Signal<T> {
  private readonly listeners = new Set<(value: T) => void>();

  add(listener: (value: T) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }
}

export class TrainerProcess {
  readonly onEvent = new Signal<TrainerEvent>();
  /** A stdout line that is not an event (a library printing, a torn line): reported, never fatal. */
  readonly onIssue = new Signal<StreamIssue>();
  readonly onStderr = new Signal<string>();
  readonly onExit = new Signal<TrainerExit>();
  /** Resolves once the process is gone and its output read to the end. */
  readonly exited: Promise<TrainerExit>;

  private child: ChildProcess | undefined;
  private stopRequested = false;
  private readonly signalsSent: NodeJS.Signals[] = [];
  private readonly timers: ReturnType<typeof setTimeout>[] = [];
  private end: TrainerEndEvent | undefined;
  private error: TrainerErrorEvent | undefined;
  private done = false;
  private resolveExit!: (exit: TrainerExit) => void;

  constructor(
    readonly launch: TrainerLaunch,
    private readonly timings: StopTimings = DEFAULT_STOP_TIMINGS,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && !this.done;
  }

  get stopping(): boolean {
    return this.stopRequested;
  }

  start(): void {
    if (this.child) throw new Error('the trainer was already started');
    const { execPath, cliPath, args, cwd, env } = this.launch;
    const parser = new TrainerEventParser(
      (event) => {
        if (event.type === 'end') this.end = event;
        if (event.type === 'error') this.error = event;
        this.onEvent.fire(event);
      },
      (issue) => this.onIssue.fire(issue),
    );
    // ELECTRON_RUN_AS_NODE: in desktop VS Code the extension host's execPath is Electron, which
    // runs as plain Node only when told; plain Node ignores it.
    const launch = trainerLaunch(execPath, cliPath, args);
    const child = spawn(launch.command, launch.args, {
      cwd,
      env: { ...process.env, ...env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.child = child;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => parser.push(chunk));
    child.stderr!.on('data', (chunk: string) => this.onStderr.fire(chunk));
    child.on('error', (error) => {
      // Only when it never ran (spawn failed): 'close' does not follow.
      if (child.pid === undefined) this.finish({ code: null, signal: null, spawnError: error.message });
    });
    // 'close' comes after stdout and stderr are read to the end: no event is lost to a race with 'exit'.
    child.on('close', (code, signal) => {
      parser.end();
      this.finish({ code, signal });
    });
  }

  /**
   * Asks the trainer to stop: SIGINT lets it finish the current step and write a checkpoint.
   * Only if it is still there after the grace period does it get SIGTERM (which it reads as
   * "quit now"), and only if it ignores that too, SIGKILL. `now` skips to SIGTERM.
   */
  stop({ now = false }: { now?: boolean } = {}): void {
    if (!this.running) return;
    const first = !this.stopRequested;
    this.stopRequested = true;
    if (now) {
      this.escalate('SIGTERM');
      return;
    }
    if (!first) return;
    this.send('SIGINT');
    this.timers.push(setTimeout(() => this.escalate('SIGTERM'), this.timings.graceMs));
  }

  private escalate(signal: 'SIGTERM'): void {
    if (!this.running || this.signalsSent.includes(signal)) return;
    this.send(signal);
    this.timers.push(setTimeout(() => this.running && this.send('SIGKILL'), this.timings.killMs));
  }

  private send(signal: NodeJS.Signals): void {
    this.signalsSent.push(signal);
    try {
      this.child?.kill(signal);
    } catch {
      // Already gone: 'close' reports it.
    }
  }

  private finish(result: Pick<TrainerExit, 'code' | 'signal' | 'spawnError'>): void {
    if (this.done) return;
    this.done = true;
    for (const timer of this.timers) clearTimeout(timer);
    const exit: TrainerExit = {
      ...result,
      stopRequested: this.stopRequested,
      signalsSent: [...this.signalsSent],
      ...(this.end ? { end: this.end } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
    this.onExit.fire(exit);
    this.resolveExit(exit);
  }
}

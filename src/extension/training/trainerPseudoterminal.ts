import * as vscode from 'vscode';
import { formatDuration } from '../../core/training/eta.ts';
import { checkTaskDefinition } from '../../core/training/taskDefinition.ts';
import type { TrainerExit } from './trainerProcess.ts';
import { TrainingRefused, type TrainingSession, type TrainingSessions } from './trainingSessions.ts';

const DIM = '\x1b[2m';
const BOLD = '\x1b[1m';
const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';

/** A terminal wants \r\n; the trainer writes \n. */
function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/**
 * The terminal of a `dpo` task. It starts the trainer and shows its human progress (step/total,
 * loss, accuracy, tokens/s, ETA: the trainer's stderr); Ctrl+C asks it to stop after the
 * current step with a checkpoint (twice: at once). Closing the terminal or terminating the task
 * stops it the same graceful way; the trainer then finishes its checkpoint in the background.
 */
export class TrainerPseudoterminal implements vscode.Pseudoterminal {
  private readonly writer = new vscode.EventEmitter<string>();
  private readonly closer = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writer.event;
  readonly onDidClose = this.closer.event;
  private session: TrainingSession | undefined;
  private closed = false;
  private startedAt = Date.now();

  constructor(
    /** The definition as VS Code resolved it (variables substituted). */
    private readonly definition: unknown,
    private readonly folder: string,
    private readonly sessions: TrainingSessions,
  ) {}

  open(): void {
    const check = checkTaskDefinition(this.definition);
    if (!check.ok) {
      this.fail(2, `This dpo task cannot run:\r\n${check.problems.map((p) => `  - ${p}`).join('\r\n')}`);
      return;
    }
    try {
      this.session = this.sessions.launch(check.definition, this.folder);
    } catch (error) {
      if (error instanceof TrainingRefused) {
        this.fail(1, error.message);
        return;
      }
      throw error;
    }
    const trainer = this.session.process;
    this.startedAt = Date.now();
    this.print(`${DIM}DPO Studio: training ${check.definition.config} in ${this.folder} (Ctrl+C stops after the current step, with a checkpoint)${RESET}\r\n`);
    trainer.onStderr.add((text) => this.print(crlf(text)));
    trainer.onIssue.add((issue) => this.print(`${DIM}stdout line ${issue.line} is not a trainer event (${issue.message}): ${issue.text}${RESET}\r\n`));
    trainer.onExit.add((exit) => this.finish(exit));
  }

  handleInput(data: string): void {
    if (!this.session || !data.includes('\x03')) return;
    const again = this.session.process.stopping;
    this.print(again ? `\r\n${YELLOW}Stopping now, without a checkpoint...${RESET}\r\n` : `\r\n${YELLOW}Stopping after the current step; a checkpoint is being written (Ctrl+C again to quit at once)...${RESET}\r\n`);
    this.session.process.stop({ now: again });
  }

  /** The terminal was closed or the task terminated: stop gracefully, whatever the terminal does next. */
  close(): void {
    this.closed = true;
    this.session?.process.stop();
  }

  private finish(exit: TrainerExit): void {
    const took = formatDuration((Date.now() - this.startedAt) / 1000);
    const code = exit.code ?? (exit.signal ? 1 : 0);
    let line: string;
    if (exit.spawnError) line = `${RED}Could not start the trainer: ${exit.spawnError}${RESET}`;
    else if (exit.end?.status === 'completed') line = `${GREEN}${BOLD}Training completed${RESET}${GREEN} at step ${exit.end.step} in ${took}.${exit.end.finalCheckpoint ? ` Adapter/model: ${exit.end.finalCheckpoint}` : ''}${RESET}`;
    else if (exit.end?.status === 'stopped') line = `${YELLOW}Training stopped at step ${exit.end.step} after ${took}; a checkpoint was written: "DPO: Training: Resume" goes on from it.${RESET}`;
    else if (exit.end?.status === 'failed') line = `${RED}Training failed${exit.error ? `: ${exit.error.message}` : ''} (exit code ${code}).${RESET}`;
    else line = `${RED}The trainer ended without finishing the run (${exit.signal ? `signal ${exit.signal}` : `exit code ${code}`}).${RESET}`;
    this.print(`\r\n${line}\r\n`);
    this.closeWith(code);
  }

  private fail(code: number, message: string): void {
    this.print(`${RED}${crlf(message)}${RESET}\r\n`);
    // The terminal must have rendered before it closes, or the message is never seen.
    setTimeout(() => this.closeWith(code), 50);
  }

  private print(text: string): void {
    if (!this.closed) this.writer.fire(text);
  }

  private closeWith(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.closer.fire(code);
  }
}

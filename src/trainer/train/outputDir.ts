import { makeDirs } from '../../core/files/makeDirs.ts';
import { RUN_LAYOUT } from '../../core/training/engineContract.ts';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/files/atomicWrite.ts';
import { parseTrainerEvents } from '../../core/training/trainerEventStream.ts';
import type { TrainerEvent } from '../../protocol/trainerEvents.ts';
import { CHECKPOINT_PREFIX } from './checkpoint.ts';
import { SCORES_DIR } from '../../core/review/scoresFile.ts';
import { TrainingSetupError, writing } from './trainErrors.ts';

/**
 * The output dir of a run:
 *   metrics.jsonl       every event of the run(s), one JSON object per line
 *   run.json            what the run is and how it stands (rewritten atomically)
 *   checkpoint-<step>/  see checkpoint.ts
 *   final/              the trained adapter (or model) at the end
 *   ref_logps/          cached reference log-probabilities (kept across runs, see referenceCache.ts)
 *   scores/             the records scored by a checkpoint's model (review/scoreDataset.ts)
 */

export const METRICS_FILE = RUN_LAYOUT.metrics;
export const RUN_FILE = RUN_LAYOUT.run;
export const FINAL_DIR = RUN_LAYOUT.final;

/** Files of an earlier run that a fresh run would mix its own with. */
function previousRunFiles(outputDir: string): string[] {
  if (!existsSync(outputDir)) return [];
  // scores/ belongs to the run's checkpoints: a new run's `final` must not show the old one's scores.
  return readdirSync(outputDir).filter((name) => name === METRICS_FILE || name === RUN_FILE || name === FINAL_DIR || name === SCORES_DIR || name.startsWith(CHECKPOINT_PREFIX));
}

/**
 * Makes sure the output dir exists and takes files, before anything else touches it (the lock
 * lives in it, so this comes first).
 * Returns whether this call created it (a run that never starts removes it again).
 */
export function ensureOutputDir(outputDir: string): boolean {
  const existing = writing('the output directory', outputDir, () => statSync(outputDir, { throwIfNoEntry: false }));
  if (existing && !existing.isDirectory()) throw new TrainingSetupError(`training.output_dir ${outputDir} is a file, not a directory`);
  writing('the output directory', outputDir, () => makeDirs(outputDir));
  const probe = join(outputDir, `.write-test-${process.pid}`);
  writing('into the output directory', outputDir, () => writeFileAtomic(probe, 'ok'));
  rmSync(probe, { force: true });
  return existing === undefined;
}

/**
 * A fresh run refuses to mix with an earlier run's files unless told to replace them (the
 * cache of reference log-probabilities is kept: it is what a rerun reuses). Called with the
 * output dir's lock held, so no other run is writing the files it removes.
 */
export function claimOutputDir(outputDir: string, options: { resume: boolean; overwrite: boolean }): void {
  if (options.resume) return;
  const previous = previousRunFiles(outputDir);
  if (previous.length === 0) return;
  if (!options.overwrite)
    throw new TrainingSetupError(
      `training.output_dir ${outputDir} already holds a run (${previous.slice(0, 3).join(', ')}${previous.length > 3 ? ', …' : ''}): pass --resume to continue it, --overwrite_output_dir to replace it, or choose another output_dir`,
    );
  for (const name of previous) rmSync(join(outputDir, name), { recursive: true, force: true });
}

/**
 * What a fresh run that failed before training leaves: its own metrics.jsonl and run.json (the
 * next, corrected run would be refused as "already holds a run"), and the folder itself when
 * the run created it and nothing else is in it.
 */
export function removeUnstartedRun(outputDir: string, createdDir: boolean, options: { ownFiles: boolean }): void {
  if (options.ownFiles) for (const name of [METRICS_FILE, RUN_FILE]) rmSync(join(outputDir, name), { force: true });
  if (!createdDir) return;
  try {
    rmdirSync(outputDir);
  } catch {
    // Not empty (the lock is released after this, a reference cache was written): keep it.
  }
}

/**
 * Before a resumed run appends to metrics.jsonl: events of steps after the checkpoint (which
 * the resumed run will redo) and a torn last line are removed, so the file reads as one
 * continuous run. Earlier runs' start, log and end events stay as history.
 */
export function trimMetricsAfter(outputDir: string, step: number): void {
  const path = join(outputDir, METRICS_FILE);
  // Only a regular file is read back (a device such as /dev/null or a FIFO would never end).
  if (!existsSync(path) || !statSync(path).isFile()) return;
  const text = readFileSync(path, 'utf8');
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const { events } = parseTrainerEvents(line);
    const event = events[0];
    if (!event) continue;
    if ((event.type === 'metrics' || event.type === 'eval' || event.type === 'checkpoint') && event.step > step) continue;
    kept.push(line);
  }
  writing('metrics', path, () => writeFileAtomic(path, kept.map((l) => l + '\n').join('')));
}

/**
 * Writes events as JSON lines to the parent process (stdout) and appends them to
 * metrics.jsonl once the output dir is known. An append is one write of one line: a kill
 * leaves at most a torn last line, which trimMetricsAfter removes.
 */
export class EventSink {
  private metricsPath: string | undefined;
  private readonly observers: Array<(event: TrainerEvent) => void> = [];

  constructor(private readonly out: { write(text: string): unknown }) {}

  attachFile(path: string): void {
    this.metricsPath = path;
  }

  get attached(): boolean {
    return this.metricsPath !== undefined;
  }

  /** Stops appending (after the file failed): the error still reaches the parent. */
  detachFile(): void {
    this.metricsPath = undefined;
  }

  /**
   * Also hands every event to `observer` (the TensorBoard writer). An observer that throws is
   * dropped with a warning on stderr: a secondary copy of the metrics must not end a run.
   */
  observe(observer: (event: TrainerEvent) => void, onFailure: (error: Error) => void): void {
    const guarded = (event: TrainerEvent) => {
      try {
        observer(event);
      } catch (error) {
        this.observers.splice(this.observers.indexOf(guarded), 1);
        onFailure(error as Error);
      }
    };
    this.observers.push(guarded);
  }

  emit(event: TrainerEvent): void {
    const line = JSON.stringify(event) + '\n';
    this.out.write(line);
    const path = this.metricsPath;
    if (path) writing('metrics', path, () => appendFileSync(path, line));
    for (const observer of [...this.observers]) observer(event);
  }
}

export function writeRunFile(outputDir: string, run: Record<string, unknown>): void {
  const path = join(outputDir, RUN_FILE);
  writing('run info', path, () => writeFileAtomic(path, JSON.stringify(run, null, 2) + '\n'));
}

/** Whether `outputDir` holds a run that completed: run.json says so and its final/ is there. */
export function completedRun(outputDir: string): boolean {
  try {
    const run = JSON.parse(readFileSync(join(outputDir, RUN_FILE), 'utf8')) as { status?: unknown };
    return run.status === 'completed' && existsSync(join(outputDir, FINAL_DIR));
  } catch {
    return false;
  }
}

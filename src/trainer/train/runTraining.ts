import { acquireLock, describeHolder, lockInside, LockedError, type HeldLock } from '../../core/files/fileLock.ts';
import { findLatestCheckpoint } from './checkpoint.ts';
import { ensureOutputDir, EventSink, removeUnstartedRun, writeRunFile } from './outputDir.ts';
import { trainLoop, type LoopEnd } from './trainingLoop.ts';
import { setUpTraining, type RunOutput, type TrainingSession, type TrainOptions } from './trainingSession.ts';
import { NonFiniteLossError, OutputWriteError, TrainingSetupError } from './trainErrors.ts';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RUN_LAYOUT } from '../../core/training/engineContract.ts';
import { TensorBoardWriter } from '../../core/training/tensorboardEvents.ts';
import { runTrlEngine } from '../../trlEngine/runTrlEngine.ts';
import { keepEvalReference, scoreAfterRun } from '../review/scoreAfter.ts';

export interface Writer {
  write(text: string): unknown;
}

export interface RunTrainingOptions extends TrainOptions {
  /** Receives the JSON-lines events (the parent process reads them). */
  stdout: Writer;
  /** Receives human progress. */
  stderr: Writer;
  /** Aborting it stops the run after the current step, with a checkpoint. */
  signal?: AbortSignal;
}

export interface TrainResult {
  status: 'completed' | 'stopped' | 'failed';
  step: number;
  lastCheckpoint?: string;
  final?: string;
  /** Why it failed. */
  message?: string;
  /** 2: nothing was trained (config, data, model, output dir); 1: failed while training. */
  failure?: 'setup' | 'training';
}

const now = () => new Date().toISOString();

function runInfo(session: TrainingSession, status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    run_id: session.runId,
    status,
    updated_at: now(),
    model: session.config.model.name,
    model_path: session.modelPath,
    output_dir: session.outputDir,
    backend: session.backend,
    config_hash: session.configHash,
    total_steps: session.steps.totalSteps,
    global_step: session.step,
    ...(session.resumedFrom ? { resumed_from_step: session.resumedFrom.state.global_step } : {}),
    stage: session.config.training.stage,
    ...(session.reference ? { reference: session.reference } : {}),
    datasets: [...session.train, ...(session.eval ? [session.eval] : [])].map((d) => ({
      path: d.path,
      role: d === session.eval ? 'eval' : 'train',
      weight: d.weight,
      [session.config.training.stage === 'sft' ? (session.config.sft.packing ? 'sequences' : 'records') : 'pairs']: d.examples.length,
      skipped: d.skipped.length,
      dropped_prompt_too_long: d.dropped.length,
      truncated: d.truncated,
    })),
    ...(session.quantization ? { quantization: session.quantization } : {}),
    config: session.config,
    ...extra,
  };
}

/**
 * A whole run: set up, train, and end with exactly one `end` event whatever happens. Errors
 * become an `error` event naming what went wrong and the last good checkpoint.
 */
export async function runTraining(options: RunTrainingOptions): Promise<TrainResult> {
  const events = new EventSink(options.stdout);
  const out: RunOutput = {
    events,
    log(message, level = 'info') {
      options.stderr.write(`${level === 'warning' ? 'warning: ' : ''}${message}\n`);
      events.emit({ type: 'log', time: now(), level, message });
    },
    progress: (text) => options.stderr.write(`${text}\n`),
  };
  let session: TrainingSession | undefined;
  let disposed = false;
  const outputDir = resolve(options.cwd ?? process.cwd(), options.config.training.output_dir);
  let lock: HeldLock | undefined;
  let createdDir = false;
  /** Set when a fresh run ends before its first step; ownFiles: its metrics.jsonl and run.json were written. */
  let unstarted: { ownFiles: boolean } | undefined;
  try {
    createdDir = ensureOutputDir(outputDir);
    // One writer per output folder: a second run (fresh, resumed or overwriting) would trim,
    // delete or interleave the first one's files while it writes them.
    try {
      lock = acquireLock(lockInside(outputDir), `dpo-studio train${options.resume ? ' --resume' : ''}`, `training.output_dir ${outputDir}`, (stale) =>
        out.log(`took over the lock of ${describeHolder(stale)}, which is no longer running`, 'warning'),
      );
    } catch (error) {
      throw error instanceof LockedError ? new TrainingSetupError(error.message) : error;
    }
    if (options.config.training.engine === 'trl') {
      const result = await runTrlEngine({ ...options, outputDir, events, out, stderr: options.stderr });
      // A run the Python side refused before its first step leaves nothing behind, as here.
      if (result.failure === 'setup' && !options.resume) {
        unstarted = { ownFiles: events.attached };
        events.detachFile();
        rmSync(join(outputDir, RUN_LAYOUT.engineDir), { recursive: true, force: true });
      }
      return result;
    }
    const tensorboard = new TensorBoardWriter(join(outputDir, RUN_LAYOUT.tensorboard));
    events.observe(
      (event) => tensorboard.add(event),
      (error) => options.stderr.write(`warning: TensorBoard event file: ${error.message}; metrics.jsonl still has every event\n`),
    );
    session = await setUpTraining(options, out);
    writeRunFile(session.outputDir, runInfo(session, 'running', { started_at: now() }));
    const end: LoopEnd = await trainLoop(session, out, options.signal);
    writeRunFile(session.outputDir, runInfo(session, end.status, { last_checkpoint: end.lastCheckpoint ?? null, final: end.final ?? null }));
    if (end.status === 'completed') {
      keepEvalReference(session, out);
      // The trained weights are on disk: the scorer loads them, so the run's copies go first.
      session.dispose();
      disposed = true;
      await scoreAfterRun(session.config, session.outputDir, session.cwd, out, options.signal);
    }
    events.emit({ type: 'end', time: now(), status: end.status, step: end.step, ...(end.final ? { finalCheckpoint: end.final } : {}) });
    if (end.status === 'stopped') out.progress(`stopped at step ${end.step}${end.lastCheckpoint ? `; resume with --resume from ${end.lastCheckpoint}` : ''}`);
    return { status: end.status, step: end.step, ...(end.lastCheckpoint ? { lastCheckpoint: end.lastCheckpoint } : {}), ...(end.final ? { final: end.final } : {}) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const step = error instanceof NonFiniteLossError ? error.step : (session?.step ?? 0);
    let lastCheckpoint: string | undefined;
    try {
      lastCheckpoint = findLatestCheckpoint(outputDir)?.dir;
    } catch {
      lastCheckpoint = undefined;
    }
    // Nothing was trained when setting up failed, whatever the cause.
    const setup = error instanceof TrainingSetupError || !session;
    // A stack only for what no check foresaw while training (a bug to report), or with DPO_STUDIO_DEBUG set; a model, data or config problem is its message.
    if ((!setup || process.env.DPO_STUDIO_DEBUG) && !(error instanceof TrainingSetupError) && !(error instanceof NonFiniteLossError) && !(error instanceof OutputWriteError) && error instanceof Error && error.stack) options.stderr.write(`${error.stack}\n`);
    options.stderr.write(`error: ${message}${lastCheckpoint ? `\nlast good checkpoint: ${lastCheckpoint}` : ''}\n`);
    const finish = () => {
      events.emit({ type: 'error', time: now(), message, ...(session ? { step } : {}), ...(lastCheckpoint ? { lastCheckpoint } : {}) });
      events.emit({ type: 'end', time: now(), status: 'failed', step });
    };
    try {
      finish();
    } catch {
      // The metrics file is what failed (a full disk): the parent still hears why.
      events.detachFile();
      finish();
    }
    // A fresh run that never started leaves nothing that would block the next, corrected one:
    // the files it wrote (none when refused before attaching, as the TRL engine's Python check
    // is), and the folder when it made it.
    if (setup && !options.resume) {
      unstarted = { ownFiles: events.attached };
      events.detachFile();
    } else if (session && !(error instanceof OutputWriteError)) {
      try {
        writeRunFile(session.outputDir, runInfo(session, 'failed', { error: message, last_checkpoint: lastCheckpoint ?? null }));
      } catch {
        // Reported above already.
      }
    }
    return { status: 'failed', step, message, failure: setup ? 'setup' : 'training', ...(lastCheckpoint ? { lastCheckpoint } : {}) };
  } finally {
    if (!disposed) session?.dispose();
    lock?.release();
    if (unstarted) removeUnstartedRun(outputDir, createdDir, unstarted);
  }
}

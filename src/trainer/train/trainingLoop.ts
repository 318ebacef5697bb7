import * as tf from '@tensorflow/tfjs-core';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { learningRateAt, warmupStepsFor } from '../../core/training/learningRate.ts';
import { clipByGlobalNorm } from '../dpo/adamw.ts';
import { scheduledBeta } from '../dpo/dpoLoss.ts';
import { saveAdapter } from '../model/adapterFolder.ts';
import { writeSafetensors } from '../model/safetensors.ts';
import { writeFolderAtomic } from './atomicFolder.ts';
import { saveCheckpoint, TRAINER_STATE_FORMAT, type TrainerState } from './checkpoint.ts';
import { accumulateGradients } from './gradientSums.ts';
import { FINAL_DIR } from './outputDir.ts';
import { formatEval, formatProgress } from './progressPrinter.ts';
import { NonFiniteLossError, writing } from './trainErrors.ts';
import { MODEL_SIDE_FILES, type RunOutput, type TrainingSession } from './trainingSession.ts';
import type { SftExample, TrainingExample } from './trainingData.ts';

export interface LoopEnd {
  status: 'completed' | 'stopped';
  step: number;
  /** The newest checkpoint folder, if any. */
  lastCheckpoint: string | undefined;
  /** <output_dir>/final when the run completed. */
  final: string | undefined;
}

const now = () => new Date().toISOString();
const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));

type AnyExample = TrainingExample | SftExample;

/** `file:line` of each record of the examples (a packed sequence names each record in it). */
function recordsOf(session: TrainingSession, examples: readonly AnyExample[]): string {
  const where = new Map<AnyExample, string>();
  for (const d of session.train) for (const e of d.examples) where.set(e, d.path);
  const names = examples.flatMap((e) => {
    const path = where.get(e);
    const records = 'records' in e && e.records ? e.records : [e];
    return records.map((r) => (path ? `${path}:${r.line}` : `record ${r.index}`));
  });
  return names.slice(0, 8).join(', ') + (names.length > 8 ? `, … (${names.length} records)` : '');
}

function trainerState(session: TrainingSession, elapsedSeconds: number): TrainerState {
  const { start, count } = session.steps.microBatchRange(Math.max(1, session.step));
  return {
    format: TRAINER_STATE_FORMAT,
    run_id: session.runId,
    global_step: session.step,
    epoch: session.step > 0 ? session.steps.epochAfter(session.step) : 0,
    micro_batch: session.step > 0 ? start + count : 0,
    total_steps: session.steps.totalSteps,
    rng_state: session.random.getState(),
    config_hash: session.configHash,
    config: session.config,
    model_path: session.modelPath,
    weights: session.adapter ? 'lora' : 'full',
    datasets: session.train.map((d) => ({ path: d.path, sha256: d.sha256, examples: d.examples.length })),
    window: { ...session.window },
    tokens_seen: session.tokensSeen,
    last_grad_norm: session.lastGradNorm,
    elapsed_seconds: elapsedSeconds,
    saved_at: now(),
  };
}

export function writeCheckpoint(session: TrainingSession, out: RunOutput, elapsedSeconds: number, reason: 'scheduled' | 'final' | 'interrupted'): string {
  const path = saveCheckpoint(session.outputDir, {
    state: trainerState(session, elapsedSeconds),
    ...(session.adapter ? { adapter: session.adapter } : { model: { params: session.policy.params, copyFrom: session.modelPath, files: MODEL_SIDE_FILES } }),
    optimizer: session.optimizer.stateTensors(),
  });
  out.events.emit({ type: 'checkpoint', step: session.step, time: now(), path, reason });
  out.progress(`saved ${path}`);
  return path;
}

/** <output_dir>/final: the adapter in PEFT's layout (or, for full fine-tuning, the model in the HF layout), swapped in whole. */
function writeFinal(session: TrainingSession): string {
  const target = join(session.outputDir, FINAL_DIR);
  writing('the final model', target, () =>
    writeFolderAtomic(target, (dir) => {
      if (session.adapter) {
        saveAdapter(dir, session.adapter);
        return;
      }
      const tensors = [...session.policy.params].map(([name, v]) => ({ name, shape: v.shape, data: () => v.dataSync() as Float32Array }));
      writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
      for (const file of MODEL_SIDE_FILES) if (existsSync(join(session.modelPath, file))) copyFileSync(join(session.modelPath, file), join(dir, file));
    }),
  );
  return target;
}

/** Eval metrics over the whole eval set, TRL's names prefixed with `eval_`. */
export function evaluate(session: TrainingSession, beta: number): Record<string, number> {
  const started = performance.now();
  const examples = session.eval?.examples ?? [];
  const metrics = session.stage.evaluate(examples, session.config.training.batch_size, beta, session.tokensSeen);
  const seconds = (performance.now() - started) / 1000;
  return { ...metrics, eval_runtime: seconds, eval_samples_per_second: examples.length / Math.max(seconds, 1e-9) };
}

/**
 * The optimizer steps from where the session stands to the last one. After each step it
 * logs, evaluates and checkpoints on schedule, then yields to the event loop so that a stop
 * signal is heard between steps: the step in progress always finishes, and the run ends with
 * a checkpoint of it.
 */
export async function trainLoop(session: TrainingSession, out: RunOutput, signal?: AbortSignal): Promise<LoopEnd> {
  const { config, steps } = session;
  const t = config.training;
  const schedule = { peak: t.learning_rate, totalSteps: steps.totalSteps, warmupSteps: warmupStepsFor(steps.totalSteps, t.warmup_steps, t.warmup_ratio), type: t.lr_scheduler_type };
  const started = performance.now();
  const elapsed = () => session.elapsedBefore + (performance.now() - started) / 1000;
  let stepsHere = 0;
  let secondsHere = 0;
  let lastCheckpoint = session.resumedFrom?.dir;
  let savedStep = session.resumedFrom ? session.step : -1;

  while (session.step < steps.totalSteps && !signal?.aborted) {
    const step = session.step + 1;
    const stepStarted = performance.now();
    const lr = learningRateAt(step - 1, schedule);
    const beta = scheduledBeta(config.dpo.beta, config.dpo.beta_end, step - 1, steps.totalSteps);
    const microBatches = steps.microBatches(step).map((refs) => refs.map((r) => session.train[r.dataset]!.examples[r.record]!));
    const scales = session.stage.scales(microBatches);
    const stats: unknown[] = [];
    let grads: Map<string, tf.Tensor> | undefined;
    let norm: number;
    try {
      for (const [i, examples] of microBatches.entries()) {
        const result = session.stage.microBatch(examples, beta, scales[i]!);
        grads = accumulateGradients(grads, result.grads);
        if (!Number.isFinite(result.loss))
          throw new NonFiniteLossError(`the loss is ${result.loss} at step ${step}, micro-batch ${i + 1} of ${microBatches.length} (records ${recordsOf(session, examples)}); the update was not applied`, step);
        stats.push(result.stats);
      }
      const clipped = clipByGlobalNorm(grads!, t.max_grad_norm);
      norm = clipped.norm;
      try {
        if (!Number.isFinite(norm)) throw new NonFiniteLossError(`the gradient norm is ${norm} at step ${step} (records ${recordsOf(session, microBatches.flat())}); the update was not applied`, step);
        session.optimizer.step(clipped.grads, lr);
      } finally {
        if (clipped.grads !== grads) tf.dispose([...clipped.grads.values()]);
      }
    } finally {
      if (grads) tf.dispose([...grads.values()]);
    }
    // The step counts from here on: its update is in the weights.
    const seconds = (performance.now() - stepStarted) / 1000;
    session.stage.addStep(session.window, stats, seconds);
    for (const s of stats) session.tokensSeen += session.stage.tokensOf(s);
    session.step = step;
    session.lastGradNorm = norm;
    stepsHere++;
    secondsHere += seconds;

    if (step % t.logging_steps === 0 || step === steps.totalSteps) {
      const w = session.window;
      const metrics: Record<string, number> = {
        ...session.stage.metrics(w, session.tokensSeen),
        grad_norm: norm,
        learning_rate: lr,
        ...(session.stage.kind === 'dpo' && config.dpo.beta_end !== undefined ? { beta } : {}),
        epoch: steps.epochAfter(step),
        step,
        tokens_per_second: w.tokens / Math.max(w.seconds, 1e-9),
        elapsed_seconds: elapsed(),
      };
      out.events.emit({ type: 'metrics', step, time: now(), metrics });
      out.progress(formatProgress({ step, totalSteps: steps.totalSteps, metrics, elapsedSeconds: elapsed(), stepsThisProcess: stepsHere, secondsThisProcess: secondsHere }));
      session.window = session.stage.emptyWindow();
    }
    const evalDue = session.eval !== undefined && (t.eval_steps !== undefined ? step % t.eval_steps === 0 : steps.endsEpoch(step) || step === steps.totalSteps);
    if (evalDue) {
      const metrics = { ...evaluate(session, beta), epoch: steps.epochAfter(step) };
      out.events.emit({ type: 'eval', step, time: now(), metrics });
      out.progress(formatEval(step, metrics));
    }
    const last = step === steps.totalSteps;
    if (last || (t.save_steps !== undefined ? step % t.save_steps === 0 : steps.endsEpoch(step))) {
      lastCheckpoint = writeCheckpoint(session, out, elapsed(), last ? 'final' : 'scheduled');
      savedStep = step;
    }
    await yieldToEventLoop();
  }

  if (session.step < steps.totalSteps) {
    if (session.step > 0 && savedStep !== session.step) lastCheckpoint = writeCheckpoint(session, out, elapsed(), 'interrupted');
    return { status: 'stopped', step: session.step, lastCheckpoint, final: undefined };
  }
  if (savedStep !== session.step && session.step > 0) lastCheckpoint = writeCheckpoint(session, out, elapsed(), 'final');
  const final = writeFinal(session);
  out.log(`wrote ${session.adapter ? 'the LoRA adapter' : 'the model'} to ${final}`);
  return { status: 'completed', step: session.step, lastCheckpoint, final };
}

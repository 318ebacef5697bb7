import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TrainingConfig } from '../config/types.ts';
import { checkpointStep, PEFT_ADAPTER_CONFIG, RUN_LAYOUT } from '../training/engineContract.ts';

/**
 * A finished (or stopped) run as a scorer needs it: the config it trained with, the starting
 * model it trained from, and the checkpoint whose weights to score with.
 */

export interface ScoredRun {
  dir: string;
  config: TrainingConfig;
  /** The starting model's folder, resolved when the run started. */
  modelPath: string;
  engine: 'tfjs' | 'trl';
  totalSteps: number;
  globalStep: number;
}

export interface ScoredCheckpoint {
  /** `final` or `checkpoint-<step>`. */
  name: string;
  dir: string;
  step: number | null;
  /** The folder holds a LoRA adapter (else a whole model). */
  adapter: boolean;
}

export class ScoringSetupError extends Error {}

export function openRun(dir: string): ScoredRun {
  const runDir = resolve(dir);
  const path = join(runDir, RUN_LAYOUT.run);
  let run: Record<string, unknown>;
  try {
    run = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ScoringSetupError(`${runDir} is not a training run's output folder (it has no ${RUN_LAYOUT.run}): give --run the training.output_dir of a run`);
    throw new ScoringSetupError(`${path}: ${(error as Error).message}`);
  }
  const config = run.config as TrainingConfig | undefined;
  if (!config || typeof run.model_path !== 'string') throw new ScoringSetupError(`${path} does not say which config and model the run trained (written by an older version?)`);
  if (config.training.stage === 'sft') throw new ScoringSetupError(`${runDir} is a supervised fine-tuning run: only a DPO run's model has preferences to score with`);
  return {
    dir: runDir,
    config,
    modelPath: run.model_path,
    engine: run.engine === 'trl' || config.training.engine === 'trl' ? 'trl' : 'tfjs',
    totalSteps: typeof run.total_steps === 'number' ? run.total_steps : 0,
    globalStep: typeof run.global_step === 'number' ? run.global_step : typeof run.total_steps === 'number' ? run.total_steps : 0,
  };
}

/** Checkpoint names of a run, newest first, `final` ahead of them when the run completed. */
export function runCheckpoints(runDir: string): string[] {
  const names = existsSync(runDir) ? readdirSync(runDir) : [];
  const steps = names
    .map(checkpointStep)
    .filter((s): s is number => s !== undefined)
    .sort((a, b) => b - a);
  return [...(names.includes(RUN_LAYOUT.final) ? [RUN_LAYOUT.final] : []), ...steps.map((s) => `${RUN_LAYOUT.checkpointPrefix}${s}`)];
}

/** `final`, a step (`40`) or a folder name (`checkpoint-40`); absent: final, else the newest checkpoint. */
export function resolveCheckpoint(run: ScoredRun, wanted: string | undefined): ScoredCheckpoint {
  const available = runCheckpoints(run.dir);
  let name: string;
  if (wanted === undefined) {
    if (available.length === 0) throw new ScoringSetupError(`${run.dir} has no checkpoint and no final model yet: train first`);
    name = available[0]!;
  } else {
    name = /^\d+$/.test(wanted) ? `${RUN_LAYOUT.checkpointPrefix}${wanted}` : wanted;
    if (!available.includes(name)) throw new ScoringSetupError(`${run.dir} has no ${name}${available.length ? `; it has ${available.join(', ')}` : ''}`);
  }
  const dir = join(run.dir, name);
  const step = name === RUN_LAYOUT.final ? run.globalStep || null : (checkpointStep(name) ?? null);
  return { name, dir, step, adapter: existsSync(join(dir, PEFT_ADAPTER_CONFIG)) };
}

import { checkpointStep, RUN_LAYOUT } from '../../core/training/engineContract.ts';
import * as tf from '@tensorflow/tfjs-core';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/files/atomicWrite.ts';
import type { TrainingConfig } from '../../core/config/types.ts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, saveAdapter } from '../model/adapterFolder.ts';
import type { LoraAdapter } from '../model/lora.ts';
import { SafetensorsFile, writeSafetensors } from '../model/safetensors.ts';
import { writeFolderAtomic } from './atomicFolder.ts';
import type { StageWindow } from './trainingStage.ts';
import { writing } from './trainErrors.ts';

/**
 * A checkpoint is everything a run needs to continue as if it had never stopped:
 * `<output_dir>/checkpoint-<step>/` holds the trained weights (the LoRA adapter in PEFT's
 * layout, or for full fine-tuning the whole model in the Hugging Face layout),
 * optimizer.safetensors (AdamW's moments) and trainer_state.json (step, epoch, RNG state,
 * batch-plan position, the open logging window, config hash, run id). It is written into a
 * hidden temporary folder and renamed into place (atomicFolder.ts), so a checkpoint folder is
 * always complete: a kill at any moment leaves the previous one as the newest.
 */

export const CHECKPOINT_PREFIX = RUN_LAYOUT.checkpointPrefix;
export const TRAINER_STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TRAINER_STATE_FORMAT = 1;

export interface DatasetIdentity {
  path: string;
  sha256: string;
  examples: number;
}

export interface TrainerState {
  format: number;
  run_id: string;
  global_step: number;
  /** Epochs done, fractional. */
  epoch: number;
  /** The next micro-batch of the batch plan. */
  micro_batch: number;
  total_steps: number;
  /** SeededRandom state: LoRA dropout masks. */
  rng_state: number;
  config_hash: string;
  config: TrainingConfig;
  /** The starting model's folder, resolved (export finds the base model here). */
  model_path: string;
  /** 'lora': the folder holds an adapter; 'full': a whole model. */
  weights: 'lora' | 'full';
  datasets: DatasetIdentity[];
  /** Sums of the logging window still open at this step. */
  window: StageWindow;
  /** Input tokens trained on so far (SFT's num_tokens); absent in checkpoints of older versions. */
  tokens_seen?: number;
  last_grad_norm: number;
  elapsed_seconds: number;
  saved_at: string;
}

export interface CheckpointContent {
  state: TrainerState;
  adapter?: LoraAdapter;
  /** Full fine-tuning: every parameter by Hugging Face name, and the files to copy beside them (config.json, tokenizer). */
  model?: { params: ReadonlyMap<string, tf.Variable>; copyFrom: string; files: string[] };
  optimizer: Map<string, tf.Tensor>;
}

function float32(tensor: tf.Tensor): () => Float32Array {
  return () => tensor.dataSync() as Float32Array;
}

/** Writes checkpoint-<step> atomically (see above); returns its path. */
export function saveCheckpoint(outputDir: string, content: CheckpointContent): string {
  const target = join(outputDir, `${CHECKPOINT_PREFIX}${content.state.global_step}`);
  writing('checkpoint', target, () =>
    writeFolderAtomic(target, (dir) => {
      if (content.adapter) saveAdapter(dir, content.adapter);
      if (content.model) {
        const tensors = [...content.model.params].map(([name, v]) => ({ name, shape: v.shape, data: float32(v) }));
        writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
        for (const file of content.model.files) if (existsSync(join(content.model.copyFrom, file))) copyFileSync(join(content.model.copyFrom, file), join(dir, file));
      }
      const optimizer = [...content.optimizer].map(([name, t]) => ({ name, shape: t.shape, data: float32(t) }));
      writeSafetensors(join(dir, OPTIMIZER_FILE), optimizer, { step: String(content.state.global_step) });
      writeFileAtomic(join(dir, TRAINER_STATE_FILE), JSON.stringify(content.state, null, 2) + '\n');
    }),
  );
  return target;
}

export function readTrainerState(dir: string): TrainerState {
  const state = JSON.parse(readFileSync(join(dir, TRAINER_STATE_FILE), 'utf8')) as TrainerState;
  if (state.format !== TRAINER_STATE_FORMAT) throw new Error(`${dir}: trainer_state.json has format ${state.format}, this version reads ${TRAINER_STATE_FORMAT}`);
  return state;
}

export interface SkippedCheckpoint {
  dir: string;
  reason: string;
}

/** Why a checkpoint folder cannot be resumed from, or undefined when its files are whole. */
function checkpointDefect(dir: string, state: TrainerState): string | undefined {
  const weights = state.weights === 'full' ? ['model.safetensors'] : [ADAPTER_WEIGHTS_FILE];
  if (state.weights !== 'full') {
    try {
      JSON.parse(readFileSync(join(dir, ADAPTER_CONFIG_FILE), 'utf8'));
    } catch (error) {
      return `${ADAPTER_CONFIG_FILE}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (error as Error).message}`;
    }
  }
  for (const name of [...weights, OPTIMIZER_FILE]) {
    const path = join(dir, name);
    if (!existsSync(path)) return `${name} is missing`;
    try {
      // Opening checks the header and that every tensor lies inside the file: a truncated file fails here.
      SafetensorsFile.open(path).close();
    } catch (error) {
      return (error as Error).message.replace(`${path} `, `${name} `);
    }
  }
  return undefined;
}

export interface CheckpointScan {
  /** The newest checkpoint (by step) whose files are whole. */
  latest: { dir: string; state: TrainerState } | undefined;
  /** Newer ones that are not (a truncated weights file, an unreadable trainer_state.json), with why. */
  skipped: SkippedCheckpoint[];
}

/** The newest checkpoint of an output dir that can be resumed from, or undefined. */
export function findLatestCheckpoint(outputDir: string): { dir: string; state: TrainerState } | undefined {
  return scanCheckpoints(outputDir).latest;
}

export function scanCheckpoints(outputDir: string): CheckpointScan {
  const skipped: SkippedCheckpoint[] = [];
  if (!existsSync(outputDir) || !statSync(outputDir).isDirectory()) return { latest: undefined, skipped };
  const steps = readdirSync(outputDir)
    .map(checkpointStep)
    .filter((step): step is number => step !== undefined)
    .sort((a, b) => b - a);
  for (const step of steps) {
    const dir = join(outputDir, `${CHECKPOINT_PREFIX}${step}`);
    let state: TrainerState;
    try {
      state = readTrainerState(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      skipped.push({ dir, reason: `${TRAINER_STATE_FILE}: ${code === 'ENOENT' ? 'missing' : (error as Error).message}` });
      continue;
    }
    const defect = checkpointDefect(dir, state);
    if (defect) {
      skipped.push({ dir, reason: defect });
      continue;
    }
    return { latest: { dir, state }, skipped };
  }
  return { latest: undefined, skipped };
}

/** AdamW's moments as saved, by name; the caller disposes them. */
export function readOptimizerTensors(dir: string): Map<string, tf.Tensor> {
  const file = SafetensorsFile.open(join(dir, OPTIMIZER_FILE));
  try {
    return new Map(file.names.map((name) => [name, tf.tensor(file.readFloat32(name), file.entry(name).shape)]));
  } finally {
    file.close();
  }
}

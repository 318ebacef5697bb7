import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingConfig } from '../core/config/types.ts';
import { checkpointStep } from '../core/training/engineContract.ts';

/** What the TRL runner writes beside TRL's own files in each checkpoint (callbacks.py). */
export const TRL_STATE_FILE = 'dpo_studio_state.json';

export interface TrlCheckpointState {
  engine: 'trl';
  run_id: string;
  global_step: number;
  config_hash: string;
  config: TrainingConfig;
  datasets: Array<{ path: string; sha256: string }>;
  elapsed_seconds: number;
}

export interface TrlCheckpoint {
  dir: string;
  step: number;
  state: TrlCheckpointState;
}

/** Why a checkpoint folder cannot be resumed from, or undefined when it can. */
function whyNotWhole(dir: string): string | undefined {
  for (const name of [TRL_STATE_FILE, 'trainer_state.json', 'optimizer.pt', 'scheduler.pt']) {
    const stat = statSync(join(dir, name), { throwIfNoEntry: false });
    if (!stat?.isFile() || stat.size === 0) return `${name} is missing or empty`;
  }
  const weights = ['adapter_model.safetensors', 'model.safetensors', 'model.safetensors.index.json'].some((name) => (statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0) > 0);
  if (!weights) return 'no weights (adapter_model.safetensors or model.safetensors)';
  return undefined;
}

/**
 * The newest TRL checkpoint that is whole (a kill while TRL saved leaves one without its
 * optimizer or state), newest first; the ones passed over are named with the reason.
 */
export function scanTrlCheckpoints(outputDir: string): { latest?: TrlCheckpoint; skipped: Array<{ dir: string; reason: string }> } {
  const skipped: Array<{ dir: string; reason: string }> = [];
  if (!existsSync(outputDir)) return { skipped };
  const steps = readdirSync(outputDir)
    .map((name) => checkpointStep(name))
    .filter((s): s is number => s !== undefined)
    .sort((a, b) => b - a);
  for (const step of steps) {
    const dir = join(outputDir, `checkpoint-${step}`);
    const reason = whyNotWhole(dir);
    if (reason) {
      skipped.push({ dir, reason });
      continue;
    }
    try {
      const state = JSON.parse(readFileSync(join(dir, TRL_STATE_FILE), 'utf8')) as TrlCheckpointState;
      if (state.engine !== 'trl') {
        skipped.push({ dir, reason: 'written by another engine' });
        continue;
      }
      return { latest: { dir, step, state }, skipped };
    } catch (error) {
      skipped.push({ dir, reason: `${TRL_STATE_FILE}: ${(error as Error).message}` });
    }
  }
  return { skipped };
}

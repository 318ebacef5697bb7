import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainerEvent } from '../../protocol/trainerEvents.ts';
import { checkpointStep } from './engineContract.ts';

/**
 * Runs made by plain TRL (or transformers Trainer) scripts, outside DPO Studio: their output
 * folder has no metrics.jsonl, but the Trainer's `trainer_state.json` (in the folder after
 * `trainer.save_state()`, and in every `checkpoint-N/`) holds the whole `log_history`. Read as
 * events, such a run sits in the dashboard beside DPO Studio's own and overlays with them.
 */

export const EXTERNAL_RUN_PREFIX = 'trl-script:';
export const TRAINER_STATE_FILE = 'trainer_state.json';

/** The trainer_state.json that knows the most about the run in `dir`: its own, else the newest checkpoint's. */
export function findTrainerState(dir: string, names?: readonly string[]): string | undefined {
  const entries = names ?? safeList(dir);
  if (entries.includes(TRAINER_STATE_FILE)) return join(dir, TRAINER_STATE_FILE);
  const newest = entries
    .map((name) => ({ name, step: checkpointStep(name) }))
    .filter((c): c is { name: string; step: number } => c.step !== undefined)
    .sort((a, b) => b.step - a.step);
  for (const { name } of newest) {
    const path = join(dir, name, TRAINER_STATE_FILE);
    if (statSync(path, { throwIfNoEntry: false })?.isFile()) return path;
  }
  return undefined;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

interface TrainerStateJson {
  global_step?: number;
  max_steps?: number;
  log_history?: Array<Record<string, unknown>>;
}

function numbers(entry: Record<string, unknown>, drop: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(entry)) if (typeof value === 'number' && Number.isFinite(value) && !drop.includes(key)) out[key] = value;
  return out;
}

/**
 * The events a trainer_state.json stands for: a start, one metrics or eval event per entry of
 * its log_history, and an end once global_step reached max_steps. Undefined when the text is not
 * a Trainer state with a log history.
 */
export function trainerStateEvents(text: string, outputDir: string, modifiedAt: Date): TrainerEvent[] | undefined {
  let state: TrainerStateJson;
  try {
    state = JSON.parse(text) as TrainerStateJson;
  } catch {
    return undefined;
  }
  if (!state || !Array.isArray(state.log_history)) return undefined;
  const time = modifiedAt.toISOString();
  const totalSteps = typeof state.max_steps === 'number' ? state.max_steps : (state.global_step ?? 0);
  const events: TrainerEvent[] = [
    { type: 'start', version: 1, runId: `${EXTERNAL_RUN_PREFIX}${outputDir}`, time, model: '(see the script)', dataset: [], outputDir, backend: 'TRL script', lossType: 'dpo', totalSteps, config: {}, engine: 'trl' },
  ];
  for (const entry of state.log_history) {
    const step = typeof entry.step === 'number' ? entry.step : undefined;
    if (step === undefined || 'train_runtime' in entry) continue;
    if (Object.keys(entry).some((k) => k.startsWith('eval_'))) events.push({ type: 'eval', step, time, metrics: numbers(entry, ['step']) });
    else if (typeof entry.loss === 'number') events.push({ type: 'metrics', step, time, metrics: numbers(entry, ['step']) });
  }
  const step = state.global_step ?? 0;
  if (totalSteps > 0 && step >= totalSteps) events.push({ type: 'end', time, status: 'completed', step });
  return events;
}

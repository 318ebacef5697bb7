import { createHash } from 'node:crypto';
import type { TrainingConfig } from '../../core/config/types.ts';

/**
 * Keys that do not change which updates a run makes: where it writes, how often it logs,
 * evaluates and saves, which backend computes. A resumed run may change these; any other
 * change would make "continue the run" mean a different run.
 */
const FREE_KEYS = new Set(['training.output_dir', 'training.logging_steps', 'training.eval_steps', 'training.save_steps', 'training.backend', 'training.python', 'data.eval_path', 'review.score_after']);

function flatten(config: TrainingConfig): Map<string, string> {
  const flat = new Map<string, string>();
  for (const [section, values] of Object.entries(config)) {
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      const path = `${section}.${key}`;
      // The default engine is left out so that runs saved before engines were a key still resume.
      if (path === 'training.engine' && value === 'tfjs') continue;
      if (!FREE_KEYS.has(path) && value !== undefined) flat.set(path, JSON.stringify(value));
    }
  }
  return flat;
}

/** A hash of everything in the config that decides the run's updates. */
export function configHash(config: TrainingConfig): string {
  const flat = [...flatten(config)].sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify(flat)).digest('hex').slice(0, 16);
}

/** `key: before → after` for every update-deciding key that differs. */
export function configDifferences(before: TrainingConfig, after: TrainingConfig): string[] {
  const a = flatten(before);
  const b = flatten(after);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? '(unset)'} → ${b.get(k) ?? '(unset)'}`);
}

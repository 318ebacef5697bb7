import { randomBytes } from 'node:crypto';
import type { TrainingConfig } from '../../core/config/types.ts';
import { configDifferences } from './configHash.ts';
import { TrainingSetupError } from './trainErrors.ts';

/** A new run's id: its start time (UTC, to the second) and a random suffix. */
export function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export interface CheckpointScanResult<T> {
  latest?: T;
  skipped: Array<{ dir: string; reason: string }>;
}

/**
 * Where `--resume` goes on from, the same for both engines (each scans its own checkpoints):
 * the newest whole checkpoint, naming each newer one passed over; none at all is a fresh start
 * with a warning; only broken ones, or a config that changed what the updates are, is refused.
 */
export function chooseResumePoint<T extends { dir: string; configHash: string; config: TrainingConfig }>(
  scan: CheckpointScanResult<T>,
  outputDir: string,
  config: TrainingConfig,
  hash: string,
  warn: (message: string) => void,
): T | undefined {
  const latest = scan.latest;
  if (!latest && scan.skipped.length > 0)
    throw new TrainingSetupError(
      `--resume: no checkpoint in ${outputDir} can be resumed from:\n  ${scan.skipped.map((b) => `${b.dir}: ${b.reason}`).join('\n  ')}\nStart over with --overwrite_output_dir, or restore a checkpoint.`,
    );
  for (const bad of scan.skipped) warn(`--resume: ${bad.dir} is not usable (${bad.reason}); falling back to ${latest!.dir}, the newest whole checkpoint`);
  if (!latest) {
    warn(`--resume: no checkpoint in ${outputDir} yet; starting from the first step`);
    return undefined;
  }
  if (latest.configHash !== hash) {
    const changes = configDifferences(latest.config, config);
    throw new TrainingSetupError(`the config changed since ${latest.dir}, so resuming would not continue the same run:\n  ${changes.join('\n  ')}\nUndo the change, or start a new run in another output_dir.`);
  }
  return latest;
}

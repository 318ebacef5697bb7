import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { TrainingSetupError } from './trainErrors.ts';

/**
 * A model the config names (`model.name`, `dpo.reference_model`) as a folder resolved against
 * the working directory. Hub ids are not downloaded: the error says how to get the folder.
 */
export function resolveModelFolder(cwd: string, name: string, key: string): string {
  const dir = resolve(cwd, name);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new TrainingSetupError(`${key} "${name}" is not a model folder (resolved to ${dir}); this trainer reads local Hugging Face folders: download Hub models first (huggingface-cli download <id> --local-dir <dir>)`);
  return dir;
}

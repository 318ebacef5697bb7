import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { TrainingConfig } from '../../core/config/types.ts';
import { ADAPTER_WEIGHTS_FILE } from '../model/adapterFolder.ts';
import { baseModelOf, isAdapterFolder } from './exportModel.ts';
import { resolveModelFolder } from './modelFolderPath.ts';
import { FINAL_DIR, RUN_FILE } from './outputDir.ts';
import { TrainingSetupError } from './trainErrors.ts';

/**
 * The model a run starts from. `model.name` (or its alias `model.sft_model`) may name, besides a
 * model folder or a Hub id, the output of an earlier run, as the guide chains SFT into DPO: the
 * run's folder (its final/ is meant) or that final/ itself. A fully fine-tuned final/ is a model
 * folder already. A LoRA adapter is merged into its base once (W + (alpha/r) B A), into
 * `<run>/final-merged/` beside it (or, for an adapter outside a run, a folder in DPO Studio's
 * cache), reused while the adapter is unchanged; that merged SFT model is what DPO trains and,
 * by default, its frozen reference. Each engine merges with its own library.
 */

/** Writes the merged model of `adapter` on `base` into `target` (a fresh folder), atomically. */
export type MergeAdapter = (adapter: string, base: string, target: string) => void;

const MERGED_MARKER = '.dpo-studio-merged.json';
const MERGED_SUFFIX = '-merged';

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const isModelFolder = (dir: string) => existsSync(join(dir, 'config.json'));
const isRunFolder = (dir: string) => existsSync(join(dir, RUN_FILE)) && !isModelFolder(dir) && !isAdapterFolder(dir);

function dpoStudioCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dpo-studio');
}

function mergedTarget(adapter: string, adapterSha: string): string {
  if (existsSync(join(dirname(adapter), RUN_FILE))) return join(dirname(adapter), `${basename(adapter)}${MERGED_SUFFIX}`);
  return join(dpoStudioCacheDir(), 'merged', adapterSha.slice(0, 16));
}

export async function resolveStartingModel(cwd: string, config: TrainingConfig, merge: MergeAdapter, log: (line: string) => void): Promise<string> {
  const name = config.model.name;
  let path = await resolveModelFolder(cwd, name, 'model.name', { ...(config.model.revision ? { revision: config.model.revision } : {}), log });
  if (isRunFolder(path)) {
    const run = readJson(join(path, RUN_FILE)) ?? {};
    const final = join(path, FINAL_DIR);
    if (!existsSync(final))
      throw new TrainingSetupError(`model.name ${name} is a training run (${String(run.stage ?? 'dpo')}, ${String(run.status ?? 'unknown status')}) with no final/ model yet: finish it (resume it), or name one of its checkpoint-<step> folders`);
    log(`model.name ${name}: the final model of that ${String(run.stage ?? 'dpo').toUpperCase()} run (${final})`);
    path = final;
  }
  if (!isAdapterFolder(path) || isModelFolder(path)) return path;

  const base =
    config.model.base_model !== undefined ? await resolveModelFolder(cwd, config.model.base_model, 'model.base_model', { log }) : baseModelOf(path);
  if (base === undefined || !isModelFolder(base))
    throw new TrainingSetupError(`model.name ${name} is a LoRA adapter (${path}) whose base model ${base ? `(${base}) is not a model folder` : 'is unknown'}: set model.base_model to the model it was trained on`);
  const adapterSha = createHash('sha256').update(readFileSync(join(path, ADAPTER_WEIGHTS_FILE))).digest('hex');
  const target = mergedTarget(path, adapterSha);
  const marker = readJson(join(target, MERGED_MARKER));
  if (marker?.adapter_sha256 === adapterSha && marker.base === realpathSync(base) && isModelFolder(target)) {
    log(`model.name ${name}: a LoRA adapter, merged into ${base} earlier: ${target}`);
    return target;
  }
  const started = Date.now();
  merge(path, base, target);
  writeFileSync(join(target, MERGED_MARKER), JSON.stringify({ adapter: resolve(path), adapter_sha256: adapterSha, base: realpathSync(base), merged_at: new Date().toISOString() }, null, 2) + '\n');
  log(`model.name ${name}: a LoRA adapter; merged it into its base ${base} (${((Date.now() - started) / 1000).toFixed(1)} s): ${target}`);
  return target;
}

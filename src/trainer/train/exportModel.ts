import { makeDirs } from '../../core/files/makeDirs.ts';
import * as tf from '@tensorflow/tfjs-core';
import { copyFileSync, existsSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { acquireLock, describeHolder, liveLockHolder, lockBeside, lockInside } from '../../core/files/fileLock.ts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, loadAdapter } from '../model/adapterFolder.ts';
import { disposeModel, type CausalLM } from '../model/causalLM.ts';
import type { LoraAdapter } from '../model/lora.ts';
import { loadModel } from '../model/modelFolder.ts';
import { firstNonFinite, writeSafetensors, type WritableDtype } from '../model/safetensors.ts';
import { writeFolderAtomic } from './atomicFolder.ts';
import { TRAINER_STATE_FILE } from './checkpoint.ts';
import { RUN_FILE } from './outputDir.ts';
import { writing } from './trainErrors.ts';

/**
 * `export`: a trained adapter as it is, or merged into its base model as a plain Hugging Face
 * model folder (config.json, model.safetensors, tokenizer and generation files) that loads
 * anywhere without PEFT. Merging computes W + (alpha/r) B A for every adapted linear (the
 * transpose for GPT-2's Conv1D), exactly the delta the forward pass adds.
 */

/** Files of a model folder that travel with its weights. */
const SIDE_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'chat_template.json', 'vocab.json', 'merges.txt', 'tokenizer.model', 'added_tokens.json'];

const TORCH_DTYPE: Record<WritableDtype, string> = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' };

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The base model an adapter was trained on: the checkpoint's trainer_state.json, the run.json
 * beside a final/ folder, else the adapter's base_model_name_or_path.
 */
export function baseModelOf(dir: string): string | undefined {
  const fromState = readJson(join(dir, TRAINER_STATE_FILE))?.model_path;
  if (typeof fromState === 'string') return fromState;
  const fromRun = readJson(join(dir, '..', RUN_FILE))?.model_path;
  if (typeof fromRun === 'string') return fromRun;
  const fromAdapter = readJson(join(dir, ADAPTER_CONFIG_FILE))?.base_model_name_or_path;
  return typeof fromAdapter === 'string' ? resolve(fromAdapter) : undefined;
}

export function isAdapterFolder(dir: string): boolean {
  return existsSync(join(dir, ADAPTER_CONFIG_FILE));
}

/** Every parameter of the model by HF name, with the adapter's delta merged into its linears. */
export function mergedWeights(model: CausalLM, adapter: LoraAdapter): Map<string, { shape: number[]; data: () => Float32Array }> {
  const out = new Map<string, { shape: number[]; data: () => Float32Array }>();
  for (const [name, variable] of model.params) {
    const path = name.endsWith('.weight') ? name.slice(0, -'.weight'.length) : undefined;
    const layer = path !== undefined ? adapter.layers.get(path) : undefined;
    if (!layer) {
      out.set(name, { shape: variable.shape, data: () => variable.dataSync() as Float32Array });
      continue;
    }
    const conv1d = model.linears.get(path!)!.conv1d;
    out.set(name, {
      shape: variable.shape,
      data: () => {
        const merged = tf.tidy(() => {
          const delta = tf.mul(tf.matMul(layer.b, layer.a), layer.scale);
          return tf.add(variable, conv1d ? tf.transpose(delta) : delta);
        });
        // Read outside tidy: tidy walks a returned typed array element by element.
        const values = merged.dataSync() as Float32Array;
        merged.dispose();
        return values;
      },
    });
  }
  return out;
}

/** Written into every folder export makes: the one kind of non-empty folder --force may replace. */
export const EXPORT_MARKER = '.dpo-studio-export.json';

function realOrResolved(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    return absolute;
  }
}

const isSameOrInside = (inner: string, outer: string) => inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);

/**
 * Folders that replacing would destroy what the user keeps: the root, the home folder, the
 * working directory and its parents, the source and its parents (the source is inside them).
 */
function refuseDangerousTarget(target: string, source: string): void {
  const protectedPlaces: Array<[string, string]> = [
    [realOrResolved(sep), 'the root folder'],
    [realOrResolved(homedir()), 'your home folder'],
  ];
  const real = realOrResolved(target);
  for (const [place, name] of protectedPlaces) if (real === place) throw new Error(`--out ${target} is ${name}: export writes a new folder, name one`);
  const cwd = realOrResolved(process.cwd());
  if (isSameOrInside(cwd, real)) throw new Error(`--out ${target} is the working directory${real === cwd ? '' : ' or one of its parents'}: export writes a new folder, name one (e.g. --out exported)`);
  const from = realOrResolved(source);
  if (isSameOrInside(from, real)) throw new Error(`--out ${target} ${real === from ? 'is the folder being exported' : 'holds the folder being exported'}: replacing it would delete the source; choose another --out`);
}

/**
 * `out` appears complete or not at all (atomicFolder.ts). An existing non-empty `out` is
 * replaced only with --force and only when an earlier export wrote it (its marker file): never
 * a folder of the user's, a training run's output folder, or a place the source lives in.
 */
function intoFolder(out: string, source: string, options: { force: boolean; kind: string }, fill: (dir: string) => void): void {
  const target = resolve(out);
  refuseDangerousTarget(target, source);
  const existing = statSync(target, { throwIfNoEntry: false });
  if (existing && !existing.isDirectory()) throw new Error(`--out ${out} is a file, not a folder`);
  const running = liveLockHolder(lockInside(target));
  if (running) throw new Error(`--out ${out} is being written by ${describeHolder(running)}`);
  if (existing && readdirSync(target).length > 0) {
    if (!options.force) throw new Error(`${out} already exists and is not empty (use --force to replace an earlier export)`);
    if (!existsSync(join(target, EXPORT_MARKER)))
      throw new Error(`${out} was not written by dpo-studio export (it has no ${EXPORT_MARKER}): --force replaces only an earlier export. Move or delete it yourself, or choose another --out`);
  }
  writing('the exported model', target, () => makeDirs(dirname(target)));
  const lock = acquireLock(lockBeside(target), 'dpo-studio export', `--out ${out}`);
  try {
    writing('the exported model', target, () =>
      writeFolderAtomic(target, (dir) => {
        fill(dir);
        writeFileSync(join(dir, EXPORT_MARKER), JSON.stringify({ source: realOrResolved(source), kind: options.kind, written_at: new Date().toISOString() }, null, 2) + '\n');
      }),
    );
  } finally {
    lock.release();
  }
}

function copySideFiles(from: string, to: string, dtype: WritableDtype): void {
  for (const file of SIDE_FILES) {
    if (!existsSync(join(from, file))) continue;
    if (file === 'config.json') {
      const config = readJson(join(from, file))!;
      writeFileSync(join(to, file), JSON.stringify({ ...config, torch_dtype: TORCH_DTYPE[dtype] }, null, 2) + '\n');
    } else {
      copyFileSync(join(from, file), join(to, file));
    }
  }
}

/** The tensor's values, refused when any is NaN or infinite: an exported model must never carry them silently. */
function finite(name: string, data: () => Float32Array): () => Float32Array {
  return () => {
    const values = data();
    const bad = firstNonFinite(values);
    if (bad >= 0) throw new Error(`tensor "${name}" would be written with ${String(values[bad])} (at index ${bad} of ${values.length}): the weights are damaged; nothing was written`);
    return values;
  };
}

export interface ExportResult {
  kind: 'adapter' | 'merged' | 'model';
  base?: string;
  tensors: number;
}

export interface ExportOptions {
  merge: boolean;
  /** Base model folder; found from the run when absent. */
  model?: string;
  dtype: WritableDtype;
  force: boolean;
}

export function exportTrained(source: string, out: string, options: ExportOptions): ExportResult {
  const stat = statSync(source, { throwIfNoEntry: false });
  if (!stat) throw new Error(`${source}: no such folder (give a run's final/ or checkpoint-<step>/ folder, or an adapter folder)`);
  if (!stat.isDirectory()) throw new Error(`${source} is a file: give a run's final/ or checkpoint-<step>/ folder, or an adapter folder`);
  if (isAdapterFolder(source) && !options.merge) {
    intoFolder(out, source, { force: options.force, kind: 'adapter' }, (dir) => {
      for (const file of [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE]) copyFileSync(join(source, file), join(dir, file));
    });
    return { kind: 'adapter', tensors: 0 };
  }
  if (isAdapterFolder(source)) {
    const base = options.model ?? baseModelOf(source);
    if (base === undefined || !existsSync(join(base, 'config.json'))) throw new Error(`cannot find the base model of ${source}${base ? ` (${base} is not a model folder)` : ''}: pass --model <dir>`);
    const model = loadModel(base, { trainable: false });
    try {
      const adapter = loadAdapter(source, model, { trainable: false });
      const weights = mergedWeights(model, adapter);
      intoFolder(out, source, { force: options.force, kind: 'merged' }, (dir) => {
        writeSafetensors(join(dir, 'model.safetensors'), [...weights].map(([name, w]) => ({ name, shape: w.shape, data: finite(name, w.data), dtype: options.dtype })), { format: 'pt' });
        copySideFiles(base, dir, options.dtype);
      });
      return { kind: 'merged', base, tensors: weights.size };
    } finally {
      disposeModel(model);
    }
  }
  if (!existsSync(join(source, 'model.safetensors'))) throw new Error(`${source} holds neither a LoRA adapter (adapter_config.json) nor a model (model.safetensors)`);
  // A fully fine-tuned checkpoint: written again in the chosen dtype, with the base's tokenizer files where it lacks them.
  const model = loadModel(source, { trainable: false });
  const base = options.model ?? baseModelOf(source);
  try {
    intoFolder(out, source, { force: options.force, kind: 'model' }, (dir) => {
      writeSafetensors(join(dir, 'model.safetensors'), [...model.params].map(([name, v]) => ({ name, shape: v.shape, data: finite(name, () => v.dataSync() as Float32Array), dtype: options.dtype })), { format: 'pt' });
      if (base && existsSync(base)) copySideFiles(base, dir, options.dtype);
      copySideFiles(source, dir, options.dtype);
    });
    return { kind: 'model', ...(base ? { base } : {}), tensors: model.params.size };
  } finally {
    disposeModel(model);
  }
}

import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createCausalLM, type CausalLM } from './causalLM.ts';
import { parseModelConfig, type ModelConfig } from './modelConfig.ts';
import { canonicalName, parameterSpecs } from './parameterSpecs.ts';
import { firstNonFinite, SafetensorsFile } from './safetensors.ts';

/**
 * A model folder in the Hugging Face layout: config.json, and the weights in model.safetensors
 * or in shards listed by model.safetensors.index.json. (Tokenizer files are read by
 * src/trainer/tokenizer.)
 */

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';
export const GENERATION_CONFIG_FILE = 'generation_config.json';

export class ModelFolderError extends Error {}

export function readJsonFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModelFolderError(code === 'ENOENT' ? `${path}: no such file` : `${path}: ${(error as Error).message}`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new ModelFolderError(`${path}: ${(error as Error).message}`);
  }
}

export function readModelConfig(dir: string): ModelConfig {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelFolderError(`${dir} is not a model folder (no such directory)`);
  return parseModelConfig(readJsonFile(join(dir, CONFIG_FILE)), join(dir, CONFIG_FILE));
}

/** generation_config.json when present (eos ids, sampling defaults), else an empty object. */
export function readGenerationConfig(dir: string): Record<string, unknown> {
  const path = join(dir, GENERATION_CONFIG_FILE);
  return existsSync(path) ? readJsonFile(path) : {};
}

/** The weight files of a folder: the single file, or every shard the index names. */
export function weightFiles(dir: string): string[] {
  const single = join(dir, WEIGHTS_FILE);
  const index = join(dir, WEIGHTS_INDEX_FILE);
  if (existsSync(index)) {
    const weightMap = readJsonFile(index).weight_map;
    if (weightMap === null || typeof weightMap !== 'object') throw new ModelFolderError(`${index} has no "weight_map" object`);
    const shards = [...new Set(Object.values(weightMap as Record<string, unknown>))];
    for (const shard of shards) {
      // A shard is a file of this folder, by name: a path could load weights from anywhere.
      if (typeof shard !== 'string' || shard === '' || shard !== basename(shard) || shard === '.' || shard === '..' || shard.includes('\\'))
        throw new ModelFolderError(`${index}: weight_map names ${JSON.stringify(shard)}, which is not a file name in ${dir} (shards must sit beside the index)`);
    }
    for (const shard of shards as string[]) if (!existsSync(join(dir, shard))) throw new ModelFolderError(`${index} lists ${shard}, which is missing from ${dir}`);
    return (shards as string[]).map((s) => join(dir, s));
  }
  if (existsSync(single)) return [single];
  const other = existsSync(dir) ? ['pytorch_model.bin', 'model.bin', 'tf_model.h5'].find((f) => existsSync(join(dir, f))) : undefined;
  throw new ModelFolderError(`${dir} has no ${WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE}` + (other ? ` (found ${other}: convert it to safetensors first)` : ''));
}

export interface LoadModelOptions {
  /** Make the base weights trainable (full fine-tuning). Default false. */
  trainable?: boolean;
  /** Told about ignored tensors. */
  log?: (message: string) => void;
}

/**
 * Reads a model folder into tf.Variables, one tensor at a time (widened to float32), checking
 * every expected weight is present with the right shape. Unknown tensors are reported and
 * skipped; buffers such as GPT-2's causal-mask `attn.bias` are skipped silently.
 */
export function loadModel(dir: string, options: LoadModelOptions = {}): CausalLM {
  const config = readModelConfig(dir);
  const specs = new Map(parameterSpecs(config).map((s) => [s.name, s]));
  const tiedHead = config.tieWordEmbeddings ? 'lm_head.weight' : undefined;
  const weights = new Map<string, tf.Tensor>();
  const unexpected: string[] = [];
  const nonFinite: string[] = [];
  try {
    for (const path of weightFiles(dir)) {
      const file = SafetensorsFile.open(path);
      try {
        for (const key of file.names) {
          const name = canonicalName(config, key);
          if (name === undefined || name === tiedHead) continue;
          const spec = specs.get(name);
          if (!spec) {
            unexpected.push(key);
            continue;
          }
          const entry = file.entry(key);
          if (entry.shape.join(',') !== spec.shape.join(','))
            throw new ModelFolderError(`${path}: "${key}" has shape [${entry.shape}], but config.json implies [${spec.shape}]`);
          if (weights.has(name)) throw new ModelFolderError(`${dir}: "${key}" is stored twice`);
          const values = file.readFloat32(key);
          const bad = firstNonFinite(values);
          if (bad >= 0) nonFinite.push(`"${key}" holds ${String(values[bad])} at index ${bad}`);
          weights.set(name, tf.tensor(values, spec.shape, 'float32'));
        }
      } finally {
        file.close();
      }
    }
    const missing = [...specs.keys()].filter((name) => !weights.has(name));
    if (missing.length > 0) {
      const hint = missing.includes('lm_head.weight') && missing.length === 1 ? ' (set "tie_word_embeddings": true in config.json if the output layer shares the embedding)' : '';
      throw new ModelFolderError(`${dir}: ${missing.length} weight${missing.length === 1 ? ' is' : 's are'} missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}${hint}`);
    }
  } catch (error) {
    tf.dispose([...weights.values()]);
    throw error;
  }
  // Not refused here: training stops at the first NaN step naming its records, and export refuses to write NaN weights.
  if (nonFinite.length > 0) options.log?.(`${nonFinite.length} tensor${nonFinite.length === 1 ? '' : 's'} of ${dir} hold NaN or infinite values (${nonFinite.slice(0, 3).join('; ')}${nonFinite.length > 3 ? '; …' : ''}): the weights are damaged and anything computed from them may be NaN`);
  if (unexpected.length > 0) options.log?.(`ignored ${unexpected.length} tensor${unexpected.length === 1 ? '' : 's'} this ${config.architecture} does not use: ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', …' : ''}`);
  return createCausalLM(config, weights, options.trainable === undefined ? {} : { trainable: options.trainable });
}

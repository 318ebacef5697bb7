import { PEFT_ADAPTER_CONFIG } from '../../core/training/engineContract.ts';
import { makeDirs } from '../../core/files/makeDirs.ts';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/files/atomicWrite.ts';
import type { CausalLM } from './causalLM.ts';
import { attachAdapter, loraRank, loraScale, toVariable, type LoraAdapter, type LoraConfig, type LoraLayer } from './lora.ts';
import { readJsonFile } from './modelFolder.ts';
import { canonicalName } from './parameterSpecs.ts';
import { firstNonFinite, SafetensorsFile, writeSafetensors } from './safetensors.ts';

/**
 * LoRA adapters in PEFT's folder format: adapter_config.json and adapter_model.safetensors with
 * keys `base_model.model.<module path>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r], so
 * an adapter trained here loads with `PeftModel.from_pretrained` and the other way round.
 */

export const ADAPTER_CONFIG_FILE = PEFT_ADAPTER_CONFIG;
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
const KEY_PREFIX = 'base_model.model.';

export class AdapterError extends Error {}

export function parseAdapterConfig(raw: Record<string, unknown>, where: string): LoraConfig {
  const fail = (why: string) => new AdapterError(`${where}: ${why}`);
  if (raw.peft_type !== undefined && raw.peft_type !== 'LORA') throw fail(`peft_type ${JSON.stringify(raw.peft_type)} is not supported (only LORA)`);
  if (raw.use_dora === true) throw fail('DoRA adapters (use_dora) are not supported');
  if (raw.bias !== undefined && raw.bias !== 'none') throw fail(`bias "${String(raw.bias)}" is not supported (only "none")`);
  if (Array.isArray(raw.modules_to_save) && raw.modules_to_save.length > 0) throw fail('modules_to_save (fully trained extra modules) is not supported');
  if (raw.layers_to_transform !== undefined && raw.layers_to_transform !== null) throw fail('layers_to_transform is not supported');
  const r = raw.r;
  const alpha = raw.lora_alpha ?? r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) throw fail(`"r" must be a positive whole number, got ${JSON.stringify(r)}`);
  if (typeof alpha !== 'number') throw fail(`"lora_alpha" must be a number, got ${JSON.stringify(alpha)}`);
  const targets = raw.target_modules;
  if (!(typeof targets === 'string' || (Array.isArray(targets) && targets.every((t) => typeof t === 'string')))) throw fail('"target_modules" must be a list of module names or a regular expression');
  const numbers = (value: unknown) => (value && typeof value === 'object' ? (value as Record<string, number>) : {});
  const config: LoraConfig = {
    r,
    alpha,
    targetModules: targets as string[] | string,
    dropout: typeof raw.lora_dropout === 'number' ? raw.lora_dropout : 0,
    fanInFanOut: raw.fan_in_fan_out === true,
    useRslora: raw.use_rslora === true,
    rankPattern: numbers(raw.rank_pattern),
    alphaPattern: numbers(raw.alpha_pattern),
  };
  if (typeof raw.base_model_name_or_path === 'string') config.baseModelNameOrPath = raw.base_model_name_or_path;
  return config;
}

export function adapterConfigJson(config: LoraConfig): Record<string, unknown> {
  return {
    alpha_pattern: config.alphaPattern,
    auto_mapping: null,
    base_model_name_or_path: config.baseModelNameOrPath ?? null,
    bias: 'none',
    fan_in_fan_out: config.fanInFanOut,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: config.alpha,
    lora_dropout: config.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: config.r,
    rank_pattern: config.rankPattern,
    revision: null,
    target_modules: config.targetModules,
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: config.useRslora,
  };
}

const LORA_KEY = /^(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.[A-Za-z0-9_-]+)?\.weight$/;

/**
 * Reads an adapter folder for `model` and attaches it (returning it). Its weights become
 * variables, trainable by default so that training can resume from them.
 */
export function loadAdapter(dir: string, model: CausalLM, options: { trainable?: boolean } = {}): LoraAdapter {
  const configPath = join(dir, ADAPTER_CONFIG_FILE);
  const weightsPath = join(dir, ADAPTER_WEIGHTS_FILE);
  const config = parseAdapterConfig(readJsonFile(configPath), configPath);
  if (!existsSync(weightsPath)) throw new AdapterError(`${dir} has no ${ADAPTER_WEIGHTS_FILE}` + (existsSync(join(dir, 'adapter_model.bin')) ? ' (found adapter_model.bin: save the adapter with safe_serialization=True)' : ''));
  const file = SafetensorsFile.open(weightsPath);
  const halves = new Map<string, { a?: Float32Array; aShape?: number[]; b?: Float32Array; bShape?: number[] }>();
  try {
    for (const key of file.names) {
      const match = LORA_KEY.exec(key);
      if (!match) throw new AdapterError(`${weightsPath}: tensor "${key}" is not a LoRA A/B matrix (embedding LoRA, biases and saved modules are not supported)`);
      const path = canonicalName(model.config, match[1]!);
      if (path === undefined || !model.linears.has(path)) throw new AdapterError(`${weightsPath}: "${key}" adapts "${match[1]}", which is not a linear layer of this ${model.config.architecture}`);
      const entry = halves.get(path) ?? {};
      const values = file.readFloat32(key);
      const shape = file.entry(key).shape;
      // The scale alpha/r comes from adapter_config.json: a rank that disagrees with it would merge and train at the wrong scale.
      const rank = loraRank(config, path);
      const tensorRank = match[2] === 'A' ? shape[0] : shape[1];
      if (shape.length !== 2 || tensorRank !== rank)
        throw new AdapterError(`${weightsPath}: tensor "${key}" has shape [${shape}], rank ${tensorRank ?? '?'}, but ${ADAPTER_CONFIG_FILE} says r = ${rank}${rank !== config.r ? ' (rank_pattern)' : ''}: the config does not belong to these weights`);
      const bad = firstNonFinite(values);
      if (bad >= 0) throw new AdapterError(`${weightsPath}: tensor "${key}" holds ${String(values[bad])} (at index ${bad} of ${values.length}): the adapter is corrupt (a run that diverged?) and cannot be used`);
      if (match[2] === 'A') Object.assign(entry, { a: values, aShape: shape });
      else Object.assign(entry, { b: values, bShape: shape });
      halves.set(path, entry);
    }
  } finally {
    file.close();
  }
  const layers = new Map<string, LoraLayer>();
  const trainable = options.trainable ?? true;
  for (const [path, h] of halves) {
    if (!h.a || !h.b) {
      for (const layer of layers.values()) tf.dispose([layer.a, layer.b]);
      throw new AdapterError(`${weightsPath}: "${path}" has lora_${h.a ? 'A' : 'B'} but no lora_${h.a ? 'B' : 'A'}`);
    }
    layers.set(path, { a: toVariable(tf.tensor(h.a, h.aShape), trainable), b: toVariable(tf.tensor(h.b, h.bShape), trainable), scale: loraScale(config, path) });
  }
  const adapter: LoraAdapter = { config, layers };
  try {
    attachAdapter(model, adapter);
  } catch (error) {
    for (const layer of layers.values()) tf.dispose([layer.a, layer.b]);
    throw new AdapterError(`${dir}: ${(error as Error).message}`);
  }
  return adapter;
}

/** Writes the adapter in PEFT's layout (each file atomically). */
export function saveAdapter(dir: string, adapter: LoraAdapter): void {
  makeDirs(dir);
  const tensors = [...adapter.layers].flatMap(([path, layer]) => [
    { name: `${KEY_PREFIX}${path}.lora_A.weight`, shape: layer.a.shape, data: () => layer.a.dataSync() as Float32Array },
    { name: `${KEY_PREFIX}${path}.lora_B.weight`, shape: layer.b.shape, data: () => layer.b.dataSync() as Float32Array },
  ]);
  writeSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), tensors, { format: 'pt' });
  writeFileAtomic(join(dir, ADAPTER_CONFIG_FILE), JSON.stringify(adapterConfigJson(adapter.config), null, 2) + '\n');
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelShape } from '../../core/training/memoryPlan.ts';
import { parseModelConfig } from './modelConfig.ts';
import { linearSpecs } from './parameterSpecs.ts';
import { SafetensorsFile } from './safetensors.ts';

/**
 * A model's size from its config.json and the headers of its safetensors files, without
 * reading a byte of weights (a plan for a 16 GB checkpoint reads a few kilobytes).
 */
export function readModelShape(dir: string, raw: Record<string, unknown> = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>): ModelShape {
  const config = parseModelConfig(raw, join(dir, 'config.json'));
  const index = join(dir, 'model.safetensors.index.json');
  const files = existsSync(index)
    ? [...new Set(Object.values((JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map))].map((f) => join(dir, f))
    : [join(dir, 'model.safetensors')];
  let parameters = 0;
  for (const file of files) for (const entry of SafetensorsFile.readShapes(file)) parameters += entry.shape.reduce((a, b) => a * b, 1);
  return {
    parameters,
    linears: linearSpecs(config).map((l) => ({ path: l.path, inFeatures: l.inFeatures, outFeatures: l.outFeatures })),
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    numHeads: config.numHeads,
    intermediateSize: config.intermediateSize,
    vocabSize: config.vocabSize,
  };
}

import { freemem } from 'node:os';
import { describePlan, planMemory, WASM_LIMIT_BYTES, type MemoryPlan, type MemoryTarget } from '../../core/training/memoryPlan.ts';
import type { TrainingConfig } from '../../core/config/types.ts';
import { defaultLoraTargets } from '../model/architectures.ts';
import { readModelShape } from '../model/modelShape.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrainingSetupError } from './trainErrors.ts';

/** Where a tfjs run's tensors live and how much room that gives. */
export function tfjsTarget(backend: string): MemoryTarget {
  if (backend === 'wasm') return { device: 'wasm', limitBytes: WASM_LIMIT_BYTES, limitWhat: "wasm32's address space" };
  return { device: backend, limitBytes: freemem(), limitWhat: 'free memory of this machine' };
}

/** A TRL run: the smallest visible GPU (each rank holds a copy under DDP), else this machine's free memory. */
export function trlTarget(gpus: ReadonlyArray<{ index: number; name: string; memory_bytes: number }>): MemoryTarget {
  if (gpus.length === 0) return { device: 'trl on cpu', limitBytes: freemem(), limitWhat: 'free memory of this machine' };
  const smallest = [...gpus].sort((a, b) => a.memory_bytes - b.memory_bytes)[0]!;
  return { device: `trl on cuda:${smallest.index} ${smallest.name}`, limitBytes: smallest.memory_bytes, limitWhat: 'GPU memory' };
}

export function planFor(config: TrainingConfig, modelPath: string, target: MemoryTarget): MemoryPlan {
  const raw = JSON.parse(readFileSync(join(modelPath, 'config.json'), 'utf8')) as Record<string, unknown>;
  return planMemory(config.model.name, readModelShape(modelPath, raw), config, target, defaultLoraTargets(raw));
}

/**
 * Before any weight is loaded: the plan, logged; a run that cannot fit is refused (exit 2) with
 * what to change. A model whose headers cannot be read is left to the loader, which says why.
 */
export function checkMemory(config: TrainingConfig, modelPath: string, target: MemoryTarget, log: (line: string) => void): MemoryPlan | undefined {
  let plan: MemoryPlan;
  try {
    plan = planFor(config, modelPath, target);
  } catch {
    return undefined;
  }
  for (const line of describePlan(plan)) log(line);
  if (!plan.fits) throw new TrainingSetupError(plan.advice!);
  return plan;
}

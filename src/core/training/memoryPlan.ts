import type { TrainingConfig } from '../config/types.ts';

/**
 * How much memory a run needs, estimated before anything is loaded, from the model's
 * config.json and its safetensors headers alone: the weights at the dtype they will have (float32
 * in both engines; 8- or 4-bit for quantized linears), the trainable parameters with their
 * gradients and AdamW moments, a separate reference model when there is one, and the
 * activations one micro-batch keeps for the backward pass. A run that cannot fit is refused with
 * what to change, instead of ending minutes later in an out-of-memory crash. The activation term
 * is a rough upper bound of what a transformer keeps per token and layer; the plan is meant to
 * catch "4B parameters on a 4 GiB wasm heap", not to predict the last megabyte.
 */

export interface ModelShape {
  /** Every parameter of the checkpoint. */
  parameters: number;
  /** Those in 2-D linear weights of the layers (what quantization and LoRA act on), by module path. */
  linears: Array<{ path: string; inFeatures: number; outFeatures: number }>;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  vocabSize: number;
}

export interface MemoryTarget {
  /** What runs it: `wasm`, `tfjs-node`, `cpu`, `trl on cpu`, `trl on cuda:0 NVIDIA H100`. */
  device: string;
  /** What it may use, in bytes, and what that limit is. */
  limitBytes: number;
  limitWhat: string;
}

export interface MemoryPart {
  what: string;
  bytes: number;
}

export interface MemoryPlan {
  parts: MemoryPart[];
  totalBytes: number;
  target: MemoryTarget;
  fits: boolean;
  /** One sentence for the user when it does not fit: what it needs, where, and what to change. */
  advice?: string;
}

export const GIB = 2 ** 30;
/** wasm32's address space: a tfjs wasm heap can never grow past it. */
export const WASM_LIMIT_BYTES = 4 * GIB;

/** `16 GiB`, `3.7 GiB`, `412.5 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 0.1 * GIB) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${bytes / GIB < 10 ? (bytes / GIB).toFixed(1) : Math.round(bytes / GIB)} GiB`;
}

function isTarget(path: string, targets: readonly string[]): boolean {
  return targets.some((t) => path === t || path.endsWith(`.${t}`));
}

export function planMemory(modelName: string, shape: ModelShape, config: TrainingConfig, target: MemoryTarget, defaultTargets: readonly string[]): MemoryPlan {
  const { lora, quantization, data, training, dpo } = config;
  const useLora = lora.use_lora;
  const bits = useLora && quantization.use_quantization ? quantization.bits : undefined;
  const linearParams = shape.linears.reduce((n, l) => n + l.inFeatures * l.outFeatures, 0);
  const otherParams = shape.parameters - linearParams;
  // Quantized linears keep one float32 scale per output channel.
  const weights = bits === undefined ? 4 * shape.parameters : (linearParams * bits) / 8 + 4 * shape.linears.reduce((n, l) => n + l.outFeatures, 0) + 4 * otherParams;
  const parts: MemoryPart[] = [{ what: bits === undefined ? 'weights (float32)' : `weights (${bits}-bit linears, float32 rest)`, bytes: weights }];

  const targets = lora.target_modules ?? defaultTargets;
  const trainable = useLora ? shape.linears.filter((l) => isTarget(l.path, targets)).reduce((n, l) => n + lora.r * (l.inFeatures + l.outFeatures), 0) : shape.parameters;
  // The parameter (LoRA's own; for full fine-tuning the weights above), its gradient and two AdamW moments.
  parts.push({ what: useLora ? `LoRA r=${lora.r}: adapters, gradients, AdamW moments` : 'gradients and AdamW moments (full fine-tuning)', bytes: (useLora ? 16 : 12) * trainable });
  const sft = training.stage === 'sft';
  const separateReference = !sft && (dpo.reference_model !== undefined || (!useLora && !dpo.precompute_ref_log_probs) || (useLora && !dpo.use_peft_for_reference && !dpo.precompute_ref_log_probs));
  if (separateReference) parts.push({ what: 'reference model (float32)', bytes: 4 * shape.parameters });

  // One micro-batch: DPO runs chosen and rejected of each pair, SFT one sequence per record (or packed row), at most max_length tokens.
  const sequences = (sft ? 1 : 2) * training.batch_size;
  const tokens = sequences * data.max_length;
  const perTokenPerLayer = 4 * (10 * shape.hiddenSize + 3 * shape.intermediateSize + 2 * shape.numHeads * data.max_length);
  const scoredTokens = sequences * (sft ? data.max_length : Math.max(1, data.max_length - data.max_prompt_length));
  const unit = sft ? (config.sft.packing ? 'sequence' : 'record') : 'pair';
  parts.push({ what: `activations (${training.batch_size} ${unit}${training.batch_size === 1 ? '' : 's'} x ${data.max_length} tokens)`, bytes: tokens * shape.numLayers * perTokenPerLayer + scoredTokens * shape.vocabSize * 4 * 3 });

  const totalBytes = parts.reduce((n, p) => n + p.bytes, 0);
  const fits = totalBytes <= target.limitBytes;
  const plan: MemoryPlan = { parts, totalBytes, target, fits };
  if (!fits) {
    const fixes: string[] = [];
    if (bits !== 4) {
      const quantized = planMemory(modelName, shape, { ...config, lora: { ...lora, use_lora: true }, quantization: { use_quantization: true, bits: 4 } }, target, defaultTargets);
      if (quantized.fits) fixes.push('set quantization.bits: 4');
    }
    if (config.training.engine === 'tfjs') fixes.push('training.engine: trl');
    if (fixes.length === 0) fixes.push('lower training.batch_size or data.max_length, or use a machine with more memory');
    const dtype = bits === undefined ? 'float32' : `${bits}-bit`;
    plan.advice = `${modelName} needs about ${formatBytes(totalBytes)} in ${dtype} on ${target.device} (limit ${formatBytes(target.limitBytes)}, ${target.limitWhat}): ${fixes.join(', or ')}`;
  }
  return plan;
}

export function describePlan(plan: MemoryPlan): string[] {
  return [
    `memory plan: about ${formatBytes(plan.totalBytes)} on ${plan.target.device} (limit ${formatBytes(plan.target.limitBytes)}, ${plan.target.limitWhat})${plan.fits ? '' : ': does not fit'}`,
    ...plan.parts.map((p) => `  ${p.what}: ${formatBytes(p.bytes)}`),
  ];
}

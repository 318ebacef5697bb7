import { schemaAt } from './configSchema.ts';
import type { Issue } from './issue.ts';
import type { LossType, TrainingConfig } from './types.ts';

const USES_LABEL_SMOOTHING: readonly LossType[] = ['sigmoid', 'robust'];
const REFERENCE_FREE: readonly LossType[] = ['simpo', 'orpo', 'sft'];
/** Above this DPO tends to undo what SFT taught; the guides recommend 1e-7 to 1e-6. */
const HIGH_LEARNING_RATE = 1e-5;

// "Set" means "differs from the schema default": a lint must fire the same way on a file that
// spells a default out and on one that leaves it implicit, and on a config rebuilt from flags.
function isNonDefault(path: string[], value: unknown): boolean {
  return value !== undefined && value !== schemaAt(path)?.default;
}

/**
 * Checks that span several keys, which a schema can't express. Only combinations that are
 * contradictory or silently ignored are reported; taste is left to the user.
 */
/** Keys of the other stage's section, set in this config: ignored, and said so at the key. */
function otherStageKeys(config: TrainingConfig, issues: Issue[]): void {
  const sft = config.training.stage === 'sft';
  const [section, values] = sft ? (['dpo', config.dpo] as const) : (['sft', config.sft] as const);
  for (const [key, value] of Object.entries(values)) {
    // A stage's own data/training/lora sections are lintStages' (stages.ts) to judge.
    if (key === 'data' || key === 'training' || key === 'lora' || !isNonDefault([section, key], value)) continue;
    issues.push({
      severity: 'warning',
      code: 'config-unused-option',
      message: sft
        ? `"dpo.${key}" is for DPO; this config trains SFT ("training.stage: sft"), which ignores it. Keep DPO's keys in the DPO config, whose model.sft_model names this run's output.`
        : `"sft.${key}" is for SFT ("training.stage: sft"); this config trains DPO, which ignores it.`,
      pointer: `/${section}/${key}`,
      related: ['/training/stage'],
      part: 'key',
    });
  }
}

export function lintTrainingConfig(config: TrainingConfig): Issue[] {
  const issues: Issue[] = [];
  const { data, dpo, training, lora, quantization } = config;
  const sft = training.stage === 'sft';
  otherStageKeys(config, issues);

  if (!sft && data.max_prompt_length >= data.max_length) {
    issues.push({
      severity: 'error',
      code: 'config-range',
      message: `"data.max_prompt_length" (${data.max_prompt_length}) must be less than "data.max_length" (${data.max_length}): the response needs room.`,
      pointer: '/data/max_prompt_length',
      related: ['/data/max_length'],
      part: 'value',
    });
  }
  if (data.train_path === undefined) {
    issues.push({
      severity: 'warning',
      code: 'config-no-train-data',
      message: `No "data.train_path": training needs ${sft ? 'SFT records' : 'preference data'} (set it here or pass --dataset_path).`,
      pointer: '/data/train_path',
      part: 'key',
    });
  }
  if (training.eval_steps !== undefined && data.eval_path === undefined) {
    issues.push({
      severity: 'warning',
      code: 'config-unused-option',
      message: '"training.eval_steps" has nothing to evaluate: there is no "data.eval_path".',
      pointer: '/training/eval_steps',
      related: ['/data/eval_path'],
      part: 'key',
    });
  }
  if (training.warmup_steps > 0 && training.warmup_ratio > 0) {
    issues.push({
      severity: 'warning',
      code: 'config-conflicting-options',
      message: `Both "training.warmup_steps" and "training.warmup_ratio" are set; warmup_steps (${training.warmup_steps}) wins.`,
      pointer: '/training/warmup_steps',
      related: ['/training/warmup_ratio'],
      part: 'key',
    });
  }
  if (!sft && training.learning_rate > HIGH_LEARNING_RATE) {
    issues.push({
      severity: 'info',
      code: 'config-learning-rate-high',
      message: `A learning rate of ${training.learning_rate} is high for DPO, which usually uses 1e-7 to 1e-6 (1/10 to 1/100 of the SFT rate); too high a rate erodes what SFT learned.`,
      pointer: '/training/learning_rate',
      part: 'value',
    });
  }
  if (sft) {
    if (quantization.use_quantization && !lora.use_lora) issues.push(quantizedWithoutLora());
    return issues;
  }
  if (dpo.label_smoothing > 0 && !USES_LABEL_SMOOTHING.includes(dpo.loss_type)) {
    issues.push({
      severity: 'warning',
      code: 'config-unused-option',
      message: `"dpo.label_smoothing" only affects the sigmoid and robust losses, not "${dpo.loss_type}".`,
      pointer: '/dpo/label_smoothing',
      related: ['/dpo/loss_type'],
      part: 'key',
    });
  }
  if (isNonDefault(['dpo', 'simpo_gamma'], dpo.simpo_gamma) && dpo.loss_type !== 'simpo') {
    issues.push({
      severity: 'warning',
      code: 'config-unused-option',
      message: `"dpo.simpo_gamma" is only used by loss_type "simpo", not "${dpo.loss_type}".`,
      pointer: '/dpo/simpo_gamma',
      related: ['/dpo/loss_type'],
      part: 'key',
    });
  }
  if (dpo.reference_model !== undefined && REFERENCE_FREE.includes(dpo.loss_type)) {
    issues.push({
      severity: 'warning',
      code: 'config-unused-option',
      message: `loss_type "${dpo.loss_type}" uses no reference model, so "dpo.reference_model" is ignored.`,
      pointer: '/dpo/reference_model',
      related: ['/dpo/loss_type'],
      part: 'key',
    });
  }
  if (quantization.use_quantization && !lora.use_lora) issues.push(quantizedWithoutLora());
  return issues;
}

function quantizedWithoutLora(): Issue {
  return {
    severity: 'warning',
    code: 'config-conflicting-options',
    message: 'Quantized weights are frozen: without LoRA ("lora.use_lora: true") there is nothing left to train.',
    pointer: '/quantization/use_quantization',
    related: ['/lora/use_lora'],
    part: 'key',
  };
}

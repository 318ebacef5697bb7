import type { Issue } from './issue.ts';
import type { TrainingConfig } from './types.ts';

/**
 * What the TRL engine (TRL 1.x's DPOTrainer and SFTTrainer) cannot do the way this config asks. Each is an
 * error, found before anything starts: silently training something else than the config says
 * is the one outcome worse than not training.
 */
export function lintTrlEngine(config: TrainingConfig): Issue[] {
  const { dpo, training, quantization, lora } = config;
  const issues: Issue[] = [];
  const refuse = (pointer: string, message: string, related: string[] = []) =>
    issues.push({ severity: 'error', code: 'config-engine-unsupported', message, pointer, related: ['/training/engine', ...related], part: 'value' });

  if (training.engine !== 'trl') {
    for (const key of ['python', 'processes', 'accelerate_config'] as const) {
      if (training[key] !== undefined)
        issues.push({ severity: 'warning', code: 'config-unused-option', message: `"training.${key}" is for engine trl; engine tfjs ignores it.`, pointer: `/training/${key}`, related: ['/training/engine'], part: 'key' });
    }
    return issues;
  }
  // DPO's keys do not apply to an SFT run (configLints.ts says so); nothing to refuse there.
  switch (training.stage === 'sft' ? undefined : dpo.loss_type) {
    case 'kto_pair':
      refuse('/dpo/loss_type', 'loss_type "kto_pair" is not in TRL 1.x (its KTO is a separate, unpaired trainer); use engine tfjs for it, or a loss TRL has (sigmoid, hinge, ipo, robust, sft).', ['/dpo/loss_type']);
      break;
    case 'simpo':
    case 'orpo':
      refuse('/dpo/loss_type', `loss_type "${dpo.loss_type}" is not a DPOTrainer loss in TRL 1.x (it lives in TRL's ${dpo.loss_type === 'simpo' ? 'CPO' : 'ORPO'} trainer, which this engine does not run); use engine tfjs for it, or a DPO loss (sigmoid, hinge, ipo, robust, sft).`, ['/dpo/loss_type']);
      break;
  }
  if (training.stage !== 'sft' && dpo.beta_end !== undefined) refuse('/dpo/beta_end', '"dpo.beta_end" (a beta schedule) has no TRL equivalent: TRL keeps beta fixed. Remove it, or use engine tfjs.', ['/dpo/beta_end']);
  if (training.stage !== 'sft' && dpo.length_normalize && dpo.loss_type !== 'sigmoid' && dpo.loss_type !== 'ipo')
    refuse('/dpo/length_normalize', `"dpo.length_normalize" with loss_type "${dpo.loss_type}" has no TRL equivalent (TRL normalises only sigmoid, as "sigmoid_norm", and ipo); use engine tfjs for it.`, ['/dpo/length_normalize']);
  if (training.stage !== 'sft' && dpo.label_smoothing > 0 && dpo.loss_type === 'sigmoid')
    refuse('/dpo/label_smoothing', '"dpo.label_smoothing" with loss_type "sigmoid" (conservative DPO) is not in TRL 1.x, whose sigmoid loss ignores it; use loss_type "robust" (its unbiased form), or engine tfjs.', ['/dpo/label_smoothing']);
  if (quantization.use_quantization && !lora.use_lora)
    refuse('/quantization/use_quantization', 'engine trl quantizes only under LoRA (bitsandbytes weights are frozen); set "lora.use_lora: true" or turn quantization off.', ['/lora/use_lora']);
  if (training.accelerate_config !== undefined && training.processes !== undefined)
    issues.push({ severity: 'warning', code: 'config-conflicting-options', message: '"training.processes" is ignored when "training.accelerate_config" is set: the accelerate config says how many processes run (num_processes).', pointer: '/training/processes', related: ['/training/accelerate_config'], part: 'key' });
  if (training.backend !== 'auto')
    issues.push({ severity: 'warning', code: 'config-unused-option', message: `"training.backend: ${training.backend}" picks a TensorFlow.js backend; engine trl runs on PyTorch's devices (CUDA when present, else CPU) and ignores it.`, pointer: '/training/backend', related: ['/training/engine'], part: 'key' });
  return issues;
}

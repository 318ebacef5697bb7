import type { TrainingConfig } from '../config/types.ts';
import { warmupStepsFor } from './learningRate.ts';

/**
 * Our config in the words of TRL 1.x, PEFT and transformers: the keyword arguments of
 * `DPOConfig` or `SFTConfig`, `LoraConfig` and `BitsAndBytesConfig`, decided here once so the
 * Python runner only passes them on. Every value is set explicitly, because TRL's defaults are
 * not ours (bf16 and gradient checkpointing on, logging every 10 steps, dropout disabled) and
 * both engines must train the same thing. Keys the engine cannot honour were refused earlier
 * (engineLints.ts).
 */

export interface TrlArguments {
  /** `DPOConfig(**trainer)` or `SFTConfig(**trainer)`, by `training.stage`. */
  trainer: Record<string, unknown>;
  /** Absent: full fine-tuning. */
  lora?: Record<string, unknown>;
  /** Absent: full-precision weights. */
  quantization?: { bits: 4 | 8 };
}

export interface TrlPlanFacts {
  /** Optimizer steps of the whole run, from our batch plan. */
  totalSteps: number;
  /** Optimizer steps per epoch: evaluation and checkpoints "each epoch" become step intervals. */
  stepsPerEpoch: number;
  /** LoRA targets when the config names none: the architecture's attention projections. */
  defaultTargets: string[];
  outputDir: string;
}

const SCHEDULER = { linear: 'linear', cosine: 'cosine', constant: 'constant_with_warmup' } as const;

function lossTypes(config: TrainingConfig): { loss_type: string[]; loss_weights: number[] } {
  const { loss_type, rpo_alpha, length_normalize } = config.dpo;
  const main = loss_type === 'sigmoid' && length_normalize ? 'sigmoid_norm' : loss_type;
  // RPO (rpo_alpha) left DPOConfig in TRL 1.x: it is the DPO loss plus a weighted NLL term on
  // the chosen answers, which TRL now spells as two losses with weights.
  if (rpo_alpha > 0 && loss_type !== 'sft') return { loss_type: [main, 'sft'], loss_weights: [1, rpo_alpha] };
  return { loss_type: [main], loss_weights: [1] };
}

/** The Trainer's arguments, the same for both stages. */
function trainerArguments(config: TrainingConfig, facts: TrlPlanFacts): Record<string, unknown> {
  const { training } = config;
  const everyEpoch = Math.max(1, facts.stepsPerEpoch);
  return {
    output_dir: facts.outputDir,
    per_device_train_batch_size: training.batch_size,
    per_device_eval_batch_size: training.batch_size,
    gradient_accumulation_steps: training.gradient_accumulation_steps,
    learning_rate: training.learning_rate,
    weight_decay: training.weight_decay,
    adam_beta1: 0.9,
    adam_beta2: 0.999,
    adam_epsilon: 1e-8,
    optim: 'adamw_torch',
    lr_scheduler_type: SCHEDULER[training.lr_scheduler_type],
    warmup_steps: warmupStepsFor(facts.totalSteps, training.warmup_steps, training.warmup_ratio),
    max_grad_norm: training.max_grad_norm,
    // The batch plan already holds every epoch in order, so TRL runs it as one pass of max_steps.
    num_train_epochs: 1,
    max_steps: facts.totalSteps,
    seed: training.seed,
    data_seed: training.seed,
    logging_strategy: 'steps',
    logging_steps: training.logging_steps,
    logging_first_step: false,
    eval_strategy: config.data.eval_path === undefined ? 'no' : 'steps',
    ...(config.data.eval_path === undefined ? {} : { eval_steps: training.eval_steps ?? everyEpoch }),
    save_strategy: 'steps',
    save_steps: training.save_steps ?? everyEpoch,
    save_only_model: false,
    bf16: false,
    fp16: false,
    tf32: false,
    gradient_checkpointing: false,
    dataloader_drop_last: false,
    dataloader_num_workers: 0,
    remove_unused_columns: false,
    disable_tqdm: true,
    report_to: ['tensorboard'],
  };
}

function dpoArguments(config: TrainingConfig): Record<string, unknown> {
  const { dpo } = config;
  return {
    beta: dpo.beta,
    ...lossTypes(config),
    label_smoothing: dpo.label_smoothing,
    precompute_ref_log_probs: dpo.precompute_ref_log_probs,
    // Our records arrive truncated by the tfjs engine's rule (max_prompt_length first).
    max_length: null,
    padding_free: false,
    use_weighting: false,
    sync_ref_model: false,
    // TRL turns every dropout off by default; the config's lora_dropout is meant.
    disable_dropout: false,
  };
}

/**
 * SFTConfig: records arrive tokenized, with their completion mask, already cut to max_length
 * (keep_start); TRL builds the labels from the mask and, with packing, packs them itself by
 * best-fit decreasing into max_length sequences (the runner checks it packed what was planned).
 */
function sftArguments(config: TrainingConfig): Record<string, unknown> {
  return {
    max_length: config.data.max_length,
    truncation_mode: 'keep_start',
    packing: config.sft.packing,
    packing_strategy: 'bfd',
    padding_free: config.sft.packing,
    completion_only_loss: config.sft.completion_only_loss,
    assistant_only_loss: false,
    shuffle_dataset: false,
    loss_type: 'nll',
    use_liger_kernel: false,
    activation_offloading: false,
  };
}

export function trlArguments(config: TrainingConfig, facts: TrlPlanFacts): TrlArguments {
  const { lora, quantization } = config;
  const trainer = { ...trainerArguments(config, facts), ...(config.training.stage === 'sft' ? sftArguments(config) : dpoArguments(config)) };
  const args: TrlArguments = { trainer };
  if (lora.use_lora) {
    args.lora = {
      r: lora.r,
      lora_alpha: lora.lora_alpha,
      lora_dropout: lora.lora_dropout,
      target_modules: lora.target_modules ?? facts.defaultTargets,
      bias: lora.bias,
      task_type: 'CAUSAL_LM',
    };
  }
  if (quantization.use_quantization && lora.use_lora) args.quantization = { bits: quantization.bits };
  return args;
}

import type { ColumnMapping } from '../dataset/columnMapping.ts';
import type { Problem } from '../dataset/types.ts';

// Key names are the user's YAML keys (snake_case) on purpose: the typed config, the file, the
// CLI flags and the metrics stream all speak one vocabulary, so nothing needs translating.

export type LossType = 'sigmoid' | 'hinge' | 'ipo' | 'kto_pair' | 'robust' | 'simpo' | 'orpo' | 'sft';
export type TruncationMode = 'keep_end' | 'keep_start';
export type LrSchedulerType = 'linear' | 'cosine' | 'constant';
export type TrainingBackend = 'auto' | 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';
export type TrainingEngine = 'tfjs' | 'trl';
export type TrainingStage = 'dpo' | 'sft';

/** One dataset of a mix; `weight` is its relative share. */
export interface DatasetSource {
  path: string;
  weight: number;
}

export interface ModelSection {
  /** The SFT model to start from (also given as `sft_model`, or `base_model` when alone). */
  name: string;
  base_model?: string;
  revision?: string;
}

export interface DataSection {
  /** Absent when the file leaves it to `--dataset_path`; see `trainSources`. */
  train_path?: string | DatasetSource[];
  eval_path?: string;
  /** Which column holds which record field (see core/dataset/columnMapping.ts). */
  columns?: ColumnMapping;
  /** Splits and revision of Hub datasets named in train_path / eval_path. */
  train_split: string;
  eval_split: string;
  revision: string;
  max_length: number;
  max_prompt_length: number;
  truncation_mode: TruncationMode;
}

/** With `stages`: a stage's own data, training and LoRA keys, over the shared sections. */
export interface StageOverrides {
  data?: Partial<DataSection>;
  training?: Partial<TrainingSection>;
  lora?: Partial<LoraSection>;
}

export interface DpoSection extends StageOverrides {
  beta: number;
  /** When set, beta moves linearly from `beta` to `beta_end` over the run. */
  beta_end?: number;
  loss_type: LossType;
  label_smoothing: number;
  use_peft_for_reference: boolean;
  reference_model?: string;
  precompute_ref_log_probs: boolean;
  simpo_gamma: number;
  rpo_alpha: number;
  length_normalize: boolean;
}

/** Supervised fine-tuning, `training.stage: sft`. */
export interface SftSection extends StageOverrides {
  /** Loss on completion / assistant tokens only (TRL's completion_only_loss). */
  completion_only_loss: boolean;
  /** Best-fit-decreasing packing into data.max_length sequences, records kept apart. */
  packing: boolean;
}

export interface TrainingSection {
  stage: TrainingStage;
  output_dir: string;
  num_epochs: number;
  batch_size: number;
  gradient_accumulation_steps: number;
  learning_rate: number;
  weight_decay: number;
  warmup_ratio: number;
  warmup_steps: number;
  lr_scheduler_type: LrSchedulerType;
  max_grad_norm: number;
  seed: number;
  logging_steps: number;
  /** Absent: evaluate at the end of each epoch. */
  eval_steps?: number;
  /** Absent: checkpoint at the end of each epoch. */
  save_steps?: number;
  /** -1: train for `num_epochs`. */
  max_steps: number;
  backend: TrainingBackend;
  engine: TrainingEngine;
  /** engine trl: the interpreter; absent: the environment `dpo-studio setup trl` made. */
  python?: string;
  /** engine trl: ranks on this machine; absent: the visible CUDA GPUs, else 1. */
  processes?: number;
  /** engine trl: a user's accelerate config, handed to `accelerate launch` unchanged. */
  accelerate_config?: string;
}

export interface LoraSection {
  use_lora: boolean;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /** Absent: the architecture's attention projections. */
  target_modules?: string[];
  bias: 'none';
}

/** What a run does for the labelers when it ends. */
export interface ReviewSection {
  /** Which of the run's datasets the final model scores at the end (`dpo-studio score`): eval (default), train, all or none. */
  score_after: 'eval' | 'train' | 'all' | 'none';
}

export interface QuantizationSection {
  use_quantization: boolean;
  bits: 4 | 8;
}

/** A validated config with every default filled in and every alias folded into its canonical key. */
export interface TrainingConfig {
  model: ModelSection;
  /** Both stages in one run, in order (stages.ts makes each stage's own config). */
  stages?: TrainingStage[];
  data: DataSection;
  dpo: DpoSection;
  sft: SftSection;
  training: TrainingSection;
  lora: LoraSection;
  quantization: QuantizationSection;
  review: ReviewSection;
}

/**
 * A config problem. Problems caused by a command-line override carry `flag` (e.g.
 * "--learning_rate"); their line is 1 and their column/offset/length locate the flag in the
 * overrides rendered as one command line, `--key=value --key=value`, in the order given.
 */
export interface ConfigProblem extends Problem {
  flag?: string;
}

export interface TrainingConfigResult {
  /** Present when there is no error (warnings and infos may remain). */
  config?: TrainingConfig;
  problems: ConfigProblem[];
}

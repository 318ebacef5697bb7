/**
 * The config "DPO: Train → Create config…" writes: every section of the DPO guide, the keys a
 * first run needs set, the rest commented out with their defaults, so the file documents itself.
 * It passes the config schema as written (a unit test checks).
 */

export interface ConfigTemplateValues {
  /** DPO: the SFT model folder or Hub id; SFT: the base model. */
  modelName: string;
  trainPath: string;
  evalPath?: string;
  outputDir: string;
}

/** Quotes a YAML scalar when it would otherwise be read as something else (or break the line). */
function yamlString(value: string): string {
  return /^[\w./@-]+$/.test(value) && !/^(true|false|null|yes|no|on|off|~)$/i.test(value) && !/^[-+.\d]/.test(value) ? value : JSON.stringify(value);
}

export function trainingConfigTemplate(values: ConfigTemplateValues): string {
  const evalLine = values.evalPath
    ? `  eval_path: ${yamlString(values.evalPath)}    # held-out pairs, evaluated every training.eval_steps`
    : '  # eval_path: data/preference_eval.jsonl   # held-out pairs, evaluated every training.eval_steps';
  return `# DPO training config (schemas/training-config.schema.json). Relative paths resolve against
# the workspace folder. Run it with "DPO: Train", the "dpo" task, or in a terminal:
#   dpo-studio train --config <this file>
# Keys left out take the defaults shown in the comments.

model:
  name: ${yamlString(values.modelName)}    # the SFT model DPO starts from (a folder or a Hub id)

data:
  train_path: ${yamlString(values.trainPath)}    # JSON/JSONL of {prompt, chosen, rejected}
${evalLine}
  max_length: 512           # prompt + answer tokens
  # max_prompt_length: 256  # must be less than max_length
  # truncation_mode: keep_end

dpo:
  beta: 0.1                 # 0.5 stays close to the reference, 0.01 follows the data; 0.1–0.5 usual
  loss_type: sigmoid        # sigmoid | hinge | ipo | kto_pair | robust | simpo | orpo | sft
  # label_smoothing: 0.0
  # rpo_alpha: 0.0

training:
  output_dir: ${yamlString(values.outputDir)}    # checkpoints, final adapter and metrics.jsonl
  num_epochs: 1
  batch_size: 4
  learning_rate: 5.0e-7     # 1e-7 to 1e-6 for a real SFT model
  logging_steps: 1          # a point on the dashboard's charts every step
  # gradient_accumulation_steps: 1
  # warmup_ratio: 0.1
  # lr_scheduler_type: linear   # linear | cosine | constant
  # eval_steps: 50          # default: the end of each epoch
  # save_steps: 100         # default: the end of each epoch
  # seed: 42
  # backend: auto           # auto | tfjs-node-gpu | tfjs-node | wasm | cpu
  # engine: tfjs            # tfjs (nothing to install, small models) | trl (PyTorch + TRL on GPUs:
                            # "DPO: Set Up TRL Engine"); with trl, processes: N (one per GPU) or
                            # accelerate_config: <file> (DeepSpeed, FSDP, several machines)

lora:
  r: 16
  lora_alpha: 32
  # lora_dropout: 0.05
  # target_modules: [q_proj, k_proj, v_proj, o_proj]

# quantization:             # frozen weights in 4 or 8 bits (with LoRA)
#   use_quantization: true
#   bits: 4

# review:                   # at the end, the trained model scores the data: which labels it
#   score_after: eval       # disagrees with ("DPO: Review with Model", "Pairs to review")
                            # eval (default) | train | all | none
`;
}

/**
 * The SFT config, the first half of the guide's pipeline (`python src/train.py --config
 * configs/train_config.yaml`): the same sections and keys as a DPO config, `training.stage: sft`,
 * an SFT learning rate, and the hand-over to DPO spelled out at the end.
 */
export function sftConfigTemplate(values: ConfigTemplateValues): string {
  const evalLine = values.evalPath
    ? `  eval_path: ${yamlString(values.evalPath)}    # held-out records: eval_loss and token accuracy every training.eval_steps`
    : '  # eval_path: data/eval.jsonl   # held-out records: eval_loss and token accuracy every training.eval_steps';
  return `# SFT training config (schemas/training-config.schema.json): supervised fine-tuning, the step
# before DPO. Relative paths resolve against the workspace folder. Run it with "DPO: Train", the
# "dpo" task, or in a terminal:
#   dpo-studio train --config <this file>
# Keys left out take the defaults shown in the comments.

model:
  name: ${yamlString(values.modelName)}    # the base model to fine-tune (a folder or a Hub id)

data:
  # JSON/JSONL of any of: {"instruction", "input", "output"}  {"prompt", "completion"}
  #                       {"messages": [{"role", "content"}, ...]}  {"text"}
  train_path: ${yamlString(values.trainPath)}
${evalLine}
  max_length: 512           # tokens per record (longer ones lose their end) or per packed sequence

sft:
  completion_only_loss: true  # learn the output / assistant turns only; false: every token
  packing: false            # true: pack short records into max_length sequences (less padding)

training:
  stage: sft
  output_dir: ${yamlString(values.outputDir)}    # checkpoints, final/ (adapter or model) and metrics.jsonl
  num_epochs: 3
  batch_size: 4
  learning_rate: 2.0e-4     # LoRA SFT; 1e-5 to 2e-5 for full fine-tuning. DPO later: 10 to 100 times lower
  logging_steps: 1          # a point on the dashboard's charts every step
  # gradient_accumulation_steps: 1
  # warmup_ratio: 0.03
  # lr_scheduler_type: cosine   # linear | cosine | constant
  # eval_steps: 50          # default: the end of each epoch
  # save_steps: 100         # default: the end of each epoch
  # seed: 42
  # engine: tfjs            # tfjs (nothing to install, small models) | trl (PyTorch + TRL's SFTTrainer)

lora:                       # --use_lora in the guide; remove the section (or use_lora: false) for full fine-tuning
  r: 16
  lora_alpha: 32
  # lora_dropout: 0.05
  # target_modules: [q_proj, k_proj, v_proj, o_proj]

# Then DPO from this run: in the DPO config,
#   model:
#     sft_model: ${yamlString(values.outputDir)}    # this run's output (its merged model, or its adapter on the base)
# and that model is also DPO's frozen reference.
`;
}

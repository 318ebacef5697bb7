import type { TrainingEngine } from '../config/types.ts';

/**
 * What every training engine agrees on, in one place: how a run is launched, what it prints
 * (the events of src/protocol/trainerEvents.ts, one JSON object per line on stdout and in
 * metrics.jsonl) and what it leaves in its output folder:
 *
 *   metrics.jsonl           every event of the run(s)
 *   run.json                what the run is and how it stands (rewritten atomically)
 *   checkpoint-<step>/      a resumable checkpoint: the PEFT adapter (adapter_config.json,
 *                           adapter_model.safetensors) or the full model, plus the engine's
 *                           optimizer and trainer state
 *   final/                  the trained adapter (or model) at the end
 *   tensorboard/            TensorBoard event files with TRL's tags (train/loss, ...)
 *   scores/<checkpoint>/    what a checkpoint's model thinks of each record (`dpo-studio score`,
 *                           core/review/scoresFile.ts), either engine
 *   ref_logps/              reference log-probabilities kept for reuse (training's by file, the
 *                           scorer's by pair)
 *   .dpo-studio.lock        the one writer of the folder (fileLock.ts)
 *   .engine/                the TRL engine's spec, records and logs for the current run
 *
 * Both engines are launched the same way: `node <cli> train --config <file> [--resume] ...`.
 * The tfjs engine trains in that process; for `training.engine: trl` that process resolves the
 * config, reads and tokenizes the data, plans the batches and then supervises the Python ranks.
 */

export const TRAINING_ENGINES: readonly TrainingEngine[] = ['tfjs', 'trl'];

export const RUN_LAYOUT = {
  metrics: 'metrics.jsonl',
  run: 'run.json',
  checkpointPrefix: 'checkpoint-',
  final: 'final',
  tensorboard: 'tensorboard',
  lock: '.dpo-studio.lock',
  engineDir: '.engine',
} as const;

/** What marks a folder as a PEFT LoRA adapter (else it holds a whole model). */
export const PEFT_ADAPTER_CONFIG = 'adapter_config.json';

/** `checkpoint-<step>` → step; anything else → undefined. */
export function checkpointStep(name: string): number | undefined {
  const match = /^checkpoint-(\d+)$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

export interface TrainerLaunch {
  command: string;
  args: string[];
}

/** The trainer process for a run, whichever engine the config names. */
export function trainerLaunch(nodePath: string, cliPath: string, trainArgs: readonly string[]): TrainerLaunch {
  return { command: nodePath, args: [cliPath, ...trainArgs] };
}

export const TRL_RUNNER_MODULE = 'dpo_studio_trl';

export interface TrlRankLaunchOptions {
  python: string;
  specPath: string;
  processes: number;
  /** A user's accelerate config file (DeepSpeed, FSDP, several machines). */
  accelerateConfig?: string;
}

/**
 * How the TRL engine's ranks start: one process runs the module; several on this machine go
 * through torchrun (`accelerate launch --cpu --num_processes N` starts only one process on
 * CPU, accelerate#2741); a user's accelerate config goes to `accelerate launch` unchanged.
 */
export function trlRankLaunch(options: TrlRankLaunchOptions): TrainerLaunch {
  const runner = ['-m', TRL_RUNNER_MODULE, 'run', options.specPath];
  if (options.accelerateConfig !== undefined) return { command: options.python, args: ['-m', 'accelerate.commands.launch', '--config_file', options.accelerateConfig, ...runner] };
  if (options.processes > 1) return { command: options.python, args: ['-m', 'torch.distributed.run', '--standalone', '--nnodes', '1', '--nproc_per_node', String(options.processes), ...runner] };
  return { command: options.python, args: runner };
}

import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseTrainingConfig, stageConfigs, type ConfigProblem } from '../core/config/index.ts';
import { runTraining } from '../trainer/train/index.ts';
import type { TrainResult } from '../trainer/train/runTraining.ts';
import { completedRun } from '../trainer/train/outputDir.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';

const HELP = `Usage: dpo-studio train [--config <file.yaml>] [--resume] [--<key> <value>...]

Trains a model on preference pairs with DPO or a relative (dpo.loss_type), or on instruction,
chat or text records with supervised fine-tuning (--stage sft, the guide's train.py), as
configured by the guide's YAML (model, data, dpo, sft, training, lora, quantization);
\`stages: [sft, dpo]\` runs both, DPO starting from the SFT result. The config is checked
first; every problem is reported with its line and column, and nothing runs until it is clean.

Writes one JSON event per line to stdout (start, metrics, eval, checkpoint, log, error, end;
also appended to <output_dir>/metrics.jsonl) and human progress to stderr. Checkpoints go to
<output_dir>/checkpoint-<step>/, the trained adapter to <output_dir>/final/.

Options:
  --config <file>            YAML or JSON training config (paths in it resolve against the working directory)
  --resume                   continue from the newest checkpoint in output_dir
  --overwrite_output_dir     replace an earlier run in output_dir (its reference cache is kept)
  --model_name <dir>         model.name          --dataset_path <file>   data.train_path
  --output_dir <dir>         training.output_dir --num_epochs <n>        training.num_epochs
  --batch_size <n>           training.batch_size --learning_rate <lr>    training.learning_rate
  --beta <b>                 dpo.beta
  --engine tfjs|trl          training.engine: TensorFlow.js here, or TRL on PyTorch (dpo-studio setup trl)
  --python <interpreter>     training.python: the TRL engine's interpreter
  --<section>.<key> <value>  any config key by its dotted path (--lora.r 8, --dpo.loss_type ipo),
                             or by its bare name when only one section has it (--loss_type ipo)

Exit status: 0 completed; 1 failed while training (non-finite loss, disk full; the last good
checkpoint is kept); 2 config, data, model or usage problem (nothing trained); 130 stopped by
SIGINT, 143 by SIGTERM (the current step finished and a checkpoint was written: --resume goes on).
`;

interface TrainArgs {
  config?: string;
  resume: boolean;
  overwrite: boolean;
  help: boolean;
  overrides: Record<string, string>;
}

/**
 * Own flags, and every other `--key value` / `--key=value` as a config override. A flag with
 * no value (the next word is another flag, or there is none) is a bare boolean: `--use_lora`.
 */
export function parseTrainArgs(args: readonly string[]): TrainArgs {
  const parsed: TrainArgs = { resume: false, overwrite: false, help: false, overrides: {} };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-h' || arg === '--help') {
      parsed.help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`train takes flags only, got "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (value === undefined && i + 1 < args.length && !args[i + 1]!.startsWith('--')) value = args[++i];
    if (name === 'resume' || name === 'overwrite_output_dir' || name === 'overwrite-output-dir') {
      if (value !== undefined && !/^(true|false)$/.test(value)) throw new UsageError(`--${name} takes no value`);
      if (name === 'resume') parsed.resume = value !== 'false';
      else parsed.overwrite = value !== 'false';
    } else if (name === 'config') {
      if (!value) throw new UsageError('--config needs a file');
      parsed.config = value;
    } else {
      parsed.overrides[name] = value ?? '';
    }
  }
  return parsed;
}

function formatProblem(file: string, p: ConfigProblem): string {
  const where = p.flag ? p.flag : `${file}:${p.line}:${p.column}`;
  return `${where}: ${p.severity}: ${p.message} [${p.code}]`;
}

export async function trainCommand(args: string[], io: CliStreams, signal?: AbortSignal): Promise<number> {
  const parsed = parseTrainArgs(args);
  if (parsed.help) {
    io.out.write(HELP);
    return 0;
  }
  const file = parsed.config ?? '(command line)';
  let text = '';
  if (parsed.config !== undefined) {
    if (!existsSync(parsed.config) || !statSync(parsed.config).isFile()) {
      io.err.write(`dpo-studio: ${parsed.config}: no such config file\n`);
      return 2;
    }
    text = readFileSync(parsed.config, 'utf8');
  } else if (Object.keys(parsed.overrides).length === 0) {
    throw new UsageError('train needs --config <file> or flags such as --model_name and --dataset_path');
  }
  const { config, problems } = parseTrainingConfig(text, file, parsed.overrides);
  for (const p of problems) io.err.write(`${formatProblem(file, p)}\n`);
  if (!config) {
    const errors = problems.filter((p) => p.severity === 'error');
    const message = `the training config has ${errors.length} error${errors.length === 1 ? '' : 's'}: ${errors.map((p) => formatProblem(file, p)).join('; ')}`;
    const time = new Date().toISOString();
    io.out.write(JSON.stringify({ type: 'error', time, message }) + '\n');
    io.out.write(JSON.stringify({ type: 'end', time, status: 'failed', step: 0 }) + '\n');
    return 2;
  }
  const stages = stageConfigs(config);
  let result: TrainResult | undefined;
  for (const [i, stageConfig] of stages.entries()) {
    if (stages.length > 1) {
      const what = `stage ${i + 1} of ${stages.length}: ${stageConfig.training.stage.toUpperCase()} into ${stageConfig.training.output_dir}`;
      // --resume goes on with the first stage that has not completed; a completed one stays as it is.
      if (parsed.resume && completedRun(resolve(stageConfig.training.output_dir))) {
        io.err.write(`${what}: completed earlier, kept\n`);
        continue;
      }
      io.err.write(`${what}\n`);
    }
    result = await runTraining({ config: stageConfig, resume: parsed.resume, overwriteOutputDir: parsed.overwrite, stdout: io.out, stderr: io.err, ...(signal ? { signal } : {}) });
    if (result.status !== 'completed') break;
  }
  if (!result || result.status === 'completed') return 0;
  if (result.status === 'stopped') return signal?.reason === 'SIGTERM' ? 143 : 130;
  return result.failure === 'setup' ? 2 : 1;
}

/**
 * The process-level wrapper: SIGINT / SIGTERM ask the run to stop after the current step (it
 * then writes a checkpoint and ends cleanly); a second signal quits at once, losing only the
 * steps since the last checkpoint.
 */
export async function trainProcessCommand(args: string[], io: CliStreams): Promise<number> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      io.err.write(`${name} again: quitting now\n`);
      process.exit(name === 'SIGTERM' ? 143 : 130);
    }
    io.err.write(`${name}: finishing the current step, then saving a checkpoint (send it again to quit at once)\n`);
    controller.abort(name);
  };
  // The parent (VS Code closing, a pipe to `head`) may go away while a step runs: the run
  // must still reach its checkpoint, and metrics.jsonl still gets every event.
  const ignoreClosedPipe = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  };
  process.stdout.on('error', ignoreClosedPipe);
  process.stderr.on('error', ignoreClosedPipe);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await trainCommand(args, io, controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

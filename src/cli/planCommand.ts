import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseTrainingConfig } from '../core/config/index.ts';
import { describePlan } from '../core/training/memoryPlan.ts';
import { resolveModelFolder } from '../trainer/train/modelFolderPath.ts';
import { planFor, tfjsTarget, trlTarget } from '../trainer/train/memoryCheck.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';
import { parseTrainArgs } from './trainCommand.ts';

const HELP = `Usage: dpo-studio plan --config <file.yaml> [--<key> <value>...]

Estimates the memory a training run needs before anything is loaded, from the model's
config.json and safetensors headers: weights at their dtype (8- or 4-bit with quantization),
LoRA or full-model gradients and AdamW state, a separate reference model, and one micro-batch of
activations; against what the engine has: the wasm backend's 4 GiB, this machine's free memory,
or (engine trl) the smallest visible GPU. Training runs the same check and refuses a run that
cannot fit.

Exit status: 0 fits; 1 does not fit (the message says what to change); 2 config or model problem.
`;

export async function planCommand(args: string[], io: CliStreams): Promise<number> {
  const parsed = parseTrainArgs(args);
  if (parsed.help) {
    io.out.write(HELP);
    return 0;
  }
  if (parsed.config === undefined) throw new UsageError('plan needs --config <file>');
  if (!existsSync(parsed.config) || !statSync(parsed.config).isFile()) {
    io.err.write(`dpo-studio: ${parsed.config}: no such config file\n`);
    return 2;
  }
  const { config, problems } = parseTrainingConfig(readFileSync(parsed.config, 'utf8'), parsed.config, parsed.overrides);
  if (!config) {
    for (const p of problems.filter((p) => p.severity === 'error')) io.err.write(`${p.flag ?? `${parsed.config}:${p.line}:${p.column}`}: error: ${p.message} [${p.code}]\n`);
    return 2;
  }
  let modelPath: string;
  try {
    modelPath = await resolveModelFolder(process.cwd(), config.model.name, 'model.name', { ...(config.model.revision ? { revision: config.model.revision } : {}), log: (line) => io.err.write(`${line}\n`) });
  } catch (error) {
    io.err.write(`dpo-studio: ${(error as Error).message}\n`);
    return 2;
  }
  let target;
  if (config.training.engine === 'trl') {
    const { inspectPython, choosePython } = await import('../trlEngine/pythonEnvironment.ts');
    const gpus = await inspectPython(choosePython(config.training.python))
      .then((r) => r.devices.cuda)
      .catch(() => []);
    target = trlTarget(gpus);
  } else {
    // "auto" is wasm wherever TensorFlow.js's native bindings are not installed (they rarely are).
    target = tfjsTarget(config.training.backend === 'auto' ? 'wasm' : config.training.backend);
  }
  try {
    const plan = planFor(config, modelPath, target);
    io.out.write(describePlan(plan).join('\n') + '\n');
    if (!plan.fits) io.err.write(`${plan.advice}\n`);
    return plan.fits ? 0 : 1;
  } catch (error) {
    io.err.write(`dpo-studio: ${modelPath}: ${(error as Error).message}\n`);
    return 2;
  }
}

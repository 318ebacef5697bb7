import { resolve } from 'node:path';
import { choosePython, inspectPython, PythonEnvironmentError, venvPython } from '../trlEngine/pythonEnvironment.ts';
import { describeEnvironment, setUpTrl, SetupError } from '../trlEngine/trlSetup.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';

const HELP = `Usage: dpo-studio setup trl [--dir <folder>] [--python <interpreter>] [--check]

Sets up the TRL engine (training.engine: trl): a Python virtual environment with the pinned,
tested versions of torch, transformers, trl, peft, accelerate and tensorboard (and bitsandbytes
where an NVIDIA GPU is present), installed from PyPI with pip. Running it again when everything
is in place is quick.

Options:
  --dir <folder>         where the environment goes (default: the user's cache folder,
                         ~/.cache/dpo-studio/trl-env on Linux; DPO_STUDIO_TRL_ENV overrides it)
  --python <interpreter> the Python 3.10+ that makes the environment (default: python3 on PATH);
                         with --check, the interpreter to check
  --check                print the interpreter, library versions and torch's devices (CUDA GPUs
                         with name and memory, Apple MPS, bf16); install nothing

Exit status: 0 ready; 2 Python or pip missing or failing, or (--check) libraries missing.
`;

export async function setupCommand(args: string[], io: CliStreams, signal?: AbortSignal): Promise<number> {
  const [target, ...rest] = args;
  if (target === '--help' || target === '-h' || target === undefined) {
    io.out.write(HELP);
    return target === undefined ? 2 : 0;
  }
  if (target !== 'trl') throw new UsageError(`setup knows one engine, "trl"; got "${target}"`);
  let dir: string | undefined;
  let python: string | undefined;
  let check = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--check') check = true;
    else if (arg === '--dir' || arg === '--python') {
      const value = rest[++i];
      if (!value || value.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      if (arg === '--dir') dir = resolve(value);
      else python = value;
    } else if (arg === '--help' || arg === '-h') {
      io.out.write(HELP);
      return 0;
    } else throw new UsageError(`setup trl: unknown option "${arg}"`);
  }
  try {
    if (check) {
      const flagged = python ?? (dir ? venvPython(dir) : undefined);
      const choice = flagged ? { python: flagged, source: 'flag' as const } : choosePython(undefined);
      io.out.write(describeEnvironment(await inspectPython(choice)));
      return 0;
    }
    const result = await setUpTrl({ ...(dir ? { dir } : {}), ...(python ? { python } : {}), onOutput: (text) => io.err.write(text), ...(signal ? { signal } : {}) });
    io.err.write(result.installed ? `the TRL engine is ready in ${result.envDir}\n` : `the TRL engine in ${result.envDir} is already up to date\n`);
    io.out.write(describeEnvironment(result.report));
    return 0;
  } catch (error) {
    if (error instanceof SetupError || error instanceof PythonEnvironmentError) {
      io.err.write(`dpo-studio: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

import { sampleCommand } from './sampleCommand.ts';
import { validateCommand } from './validateCommand.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';

const HELP = `dpo-studio: curate preference data and train language models on it with DPO

Usage:
  dpo-studio validate <file...> [--json] [--disable <code,...>] [--columns f=c,...] [--split S]
      Check datasets (.jsonl, .json, .parquet, or Hub datasets org/name): schema errors and quality warnings with their line,
      column and field, plus statistics. Exit 0: no errors; 1: errors found; 2: usage or I/O.
  dpo-studio sample <out> [--count N] [--format standard|conversational|instruction] [--seed S]
      Write a realistic sample preference dataset (.jsonl, or a JSON array for .json).
  dpo-studio init-model <dir> --arch llama|qwen2|qwen3|mistral|gpt2 [--size tiny|small] [--seed S]
      Write a randomly initialised model with a small BPE tokenizer in the Hugging Face layout.
  dpo-studio convert <in.parquet|org/name|in.jsonl> <out.jsonl> [--columns f=c,...] [--split S] [--limit N] [--where "score >= 4"]
      Convert Parquet, a Hub dataset's split or renamed columns into JSON Lines to label (streaming).
  dpo-studio score --run <output_dir> [--checkpoint N|final] [--data <file>] [--fail-on-disagreement <share>]
      Score every record with a trained run: implicit-reward margins, agreement with the labels.
  dpo-studio logps --model <dir> [--adapter <dir>] --data <file> --out <file.jsonl> [--batch-size N]
      Log-probabilities of every chosen and rejected answer under a model (one JSON line each).
  dpo-studio train [--config <file.yaml>] [--resume] [--<key> <value>...]
      Train with DPO (or ipo, simpo, orpo, ...): JSON-lines events on stdout and in
      <output_dir>/metrics.jsonl, progress on stderr, checkpoints in <output_dir>.
  dpo-studio download <org/name> [--revision R]
      Download a model from the Hugging Face Hub into the HF cache (progress, resume, sha256).
      Every --model and model.name also takes org/name: a folder, else the cache, else a download.
  dpo-studio plan --config <file.yaml> [--<key> <value>...]
      Estimate the memory a run needs (weights, adapters, optimizer, activations) against what
      the engine has (wasm's 4 GiB, free memory, the GPU), from config.json and headers only.
  dpo-studio export <checkpoint-or-adapter-dir> --out <dir> [--merge] [--model <dir>]
      Write a trained adapter, or with --merge a model folder with the adapter merged in.
  dpo-studio generate --prompts <file> --out <file.jsonl> [--n N] [--model <dir|name>] [--base-url URL] [--compare <spec>]
      Answer every prompt N times (local model or OpenAI-compatible server) into a candidates
      file to label; resumes where it stopped. The API key comes from an environment variable.

  dpo-studio setup trl [--dir <folder>] [--python <interpreter>] [--check]
      Install the TRL engine's Python environment (torch, transformers, trl, peft, accelerate),
      or with --check show its versions and devices.

Run "dpo-studio <command> --help" for a command's options.
`;

export async function runCli(args: string[], io: CliStreams): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'validate':
        return await validateCommand(rest, io);
      case 'sample':
        return await sampleCommand(rest, io);
      // Loaded on demand: they bring TensorFlow.js, which the dataset commands do not need.
      case 'init-model':
        return await (await import('./initModelCommand.ts')).initModelCommand(rest, io);
      case 'convert':
        return await (await import('./convertCommand.ts')).convertCommand(rest, io);
      case 'logps':
        return await (await import('./logpsCommand.ts')).logpsCommand(rest, io);
      case 'score':
        return await (await import('./scoreCommand.ts')).scoreCommand(rest, io);
      case 'train':
        return await (await import('./trainCommand.ts')).trainProcessCommand(rest, io);
      case 'export':
        return await (await import('./exportCommand.ts')).exportCommand(rest, io);
      case 'download':
        return await (await import('./downloadCommand.ts')).downloadCommand(rest, io);
      case 'plan':
        return await (await import('./planCommand.ts')).planCommand(rest, io);
      case 'setup':
        return await (await import('./setupCommand.ts')).setupCommand(rest, io);
      case 'generate':
        return await (await import('./generateCommand.ts')).generateCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out.write(HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err.write(`dpo-studio: ${error.message}\n\n${HELP}`);
      return 2;
    }
    throw error;
  }
}

import { resolveModelFolder } from '../trainer/train/modelFolderPath.ts';
import { parseArgs } from 'node:util';
import { initBackend } from '../trainer/backend/index.ts';
import type { WritableDtype } from '../trainer/model/safetensors.ts';
import { exportTrained } from '../trainer/train/exportModel.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';

const HELP = `Usage: dpo-studio export <checkpoint-or-adapter-dir> --out <dir> [--merge] [options]

Exports what a training run produced (<output_dir>/final or <output_dir>/checkpoint-<step>):
  without --merge: the LoRA adapter in PEFT's layout (adapter_config.json, adapter_model.safetensors);
  with --merge: a Hugging Face model folder with the adapter merged into the base weights
  (config.json, model.safetensors, tokenizer and generation files) that loads without PEFT.
A fully fine-tuned checkpoint is written as a model folder either way. The folder appears
complete or not at all.

Options:
  --out <dir>       where to write
  --merge           merge the adapter into the base model
  --model <dir|id>  the base model, a folder or a Hub id (default: the run's model, from trainer_state.json or run.json)
  --dtype <T>       f32 (default) | bf16 | f16 for the written weights
  --force           replace <out> when it exists and is not empty
`;

const DTYPES: Record<string, WritableDtype> = { f32: 'F32', float32: 'F32', bf16: 'BF16', bfloat16: 'BF16', f16: 'F16', float16: 'F16' };

export async function exportCommand(args: string[], io: CliStreams): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        merge: { type: 'boolean', default: false },
        model: { type: 'string' },
        dtype: { type: 'string', default: 'f32' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('export needs exactly one checkpoint or adapter folder');
  if (!values.out) throw new UsageError('export needs --out <dir>');
  const dtype = DTYPES[values.dtype!.toLowerCase()];
  if (!dtype) throw new UsageError(`--dtype must be f32, bf16 or f16, got "${values.dtype}"`);
  const started = Date.now();
  try {
    await initBackend('auto');
    // --model may be a Hub id too: a folder, else the HF cache, else a download (resolveModel.ts).
    const model = values.model ? await resolveModelFolder(process.cwd(), values.model, '--model', { log: (line) => io.err.write(`${line}\n`) }) : undefined;
    const result = exportTrained(positionals[0]!, values.out, { merge: values.merge!, ...(model ? { model } : {}), dtype, force: values.force! });
    const what = result.kind === 'adapter' ? 'the LoRA adapter' : result.kind === 'merged' ? `a merged model (${result.tensors} tensors, base ${result.base})` : `the model (${result.tensors} tensors)`;
    io.out.write(`Wrote ${what} to ${values.out} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  } catch (error) {
    io.err.write(`dpo-studio: ${(error as Error).message}\n`);
    return 2;
  }
}

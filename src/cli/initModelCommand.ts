import { INIT_ARCHS, INIT_SIZES, initModel, type InitArch, type InitSize } from '../trainer/model/initModel.ts';
import type { WritableDtype } from '../trainer/model/safetensors.ts';
import { choiceFlag, parseCommandArgs, wholeNumberFlag } from './cliArgs.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';

const DTYPES: Record<string, WritableDtype> = { f32: 'F32', float32: 'F32', bf16: 'BF16', bfloat16: 'BF16', f16: 'F16', float16: 'F16' };

const HELP = `Usage: dpo-studio init-model <dir> --arch <A> [options]

Writes a randomly initialised model in the Hugging Face layout (config.json, model.safetensors,
tokenizer.json with a small byte-level BPE trained on built-in text, tokenizer_config.json with
a ChatML chat template, generation_config.json), for trying training and generation without
downloading a model. The folder appears complete or not at all.

Options:
  --arch <A>        llama | qwen2 | qwen3 | mistral | gpt2
  --size <S>        tiny (default: ~160K parameters, for tests and demos) |
                    small (the shape of SmolLM2-135M; GPT-2 124M for gpt2)
  --seed <S>        seed of the random weights (default 0)
  --dtype <T>       f32 (default) | bf16 | f16
  --force           replace <dir> when it exists and is not empty
`;

export async function initModelCommand(args: string[], io: CliStreams): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    arch: { type: 'string' },
    size: { type: 'string', default: 'tiny' },
    seed: { type: 'string', default: '0' },
    dtype: { type: 'string', default: 'f32' },
    force: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.out.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('init-model needs exactly one output folder');
  if (values.arch === undefined) throw new UsageError(`init-model needs --arch (${INIT_ARCHS.join(', ')})`);
  const arch: InitArch = choiceFlag(values.arch, 'arch', INIT_ARCHS)!;
  const size: InitSize = choiceFlag(values.size, 'size', INIT_SIZES)!;
  const seed = wholeNumberFlag(values.seed, 'seed')!;
  const dtype = DTYPES[values.dtype!.toLowerCase()];
  if (!dtype) throw new UsageError(`--dtype must be f32, bf16 or f16, got "${values.dtype}"`);

  const dir = positionals[0]!;
  const started = Date.now();
  let result;
  try {
    result = initModel(dir, { arch, size, seed, dtype, overwrite: values.force });
  } catch (error) {
    io.err.write(`dpo-studio: cannot write ${dir}: ${(error as Error).message}${/not empty/.test((error as Error).message) ? ' (use --force to replace it)' : ''}\n`);
    return 2;
  }
  const mb = (result.weightBytes / 1e6).toFixed(1);
  io.out.write(`Wrote a ${size} ${result.config.architecture} (${result.parameters.toLocaleString('en-US')} parameters, ${mb} MB of ${dtype} weights) to ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}

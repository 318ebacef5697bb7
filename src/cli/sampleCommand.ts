import { makeDirs } from '../core/files/makeDirs.ts';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSampleJsonl, createSampleRecords, type SampleFormat } from '../core/dataset/sampleDataset.ts';
import { writeFileAtomic } from '../core/files/atomicWrite.ts';
import { choiceFlag, parseCommandArgs, wholeNumberFlag } from './cliArgs.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';

const FORMATS: readonly SampleFormat[] = ['standard', 'conversational', 'instruction'];

const HELP = `Usage: dpo-studio sample <out> [options]

Writes a realistic sample preference dataset: prompts in coding, explanation, translation,
safety and math, each with a clearly better and a worse answer. A .json name gets a JSON array,
anything else JSON Lines.

Options:
  --count <N>          number of records (default 50)
  --format <F>         standard | conversational | instruction (default standard)
  --seed <S>           seed for the choice and order of records (default 42)
  --force              replace <out> when it exists
`;

export async function sampleCommand(args: string[], io: CliStreams): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    count: { type: 'string', default: '50' },
    format: { type: 'string', default: 'standard' },
    seed: { type: 'string', default: '42' },
    force: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.out.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('sample needs exactly one output file');
  const out = positionals[0]!;
  const count = wholeNumberFlag(values.count, 'count', 1)!;
  const format = choiceFlag(values.format, 'format', FORMATS)!;
  const seed = wholeNumberFlag(values.seed, 'seed')!;

  const existing = statSync(out, { throwIfNoEntry: false });
  if (existing?.isDirectory()) throw new UsageError(`${out} is a folder: name the file to write`);
  if (existing && existing.size > 0 && !values.force) {
    io.err.write(`dpo-studio: ${out} already exists: pass --force to replace it, or name another file\n`);
    return 2;
  }
  const text = /\.json$/i.test(out) ? JSON.stringify(createSampleRecords(count, format, seed), null, 2) + '\n' : createSampleJsonl(count, format, seed);
  try {
    makeDirs(dirname(out));
    writeFileAtomic(out, text);
  } catch (error) {
    io.err.write(`dpo-studio: cannot write ${out}: ${(error as Error).message}\n`);
    return 2;
  }
  io.out.write(`Wrote ${count} ${format} records to ${out}\n`);
  return 0;
}

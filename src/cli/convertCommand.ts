import { realpathSync, statSync } from 'node:fs';
import { ConvertError, convertToJsonl, parseWhere, type RowFilter } from '../core/dataset/convertDataset.ts';
import { describeMapping } from '../core/dataset/columnMapping.ts';
import { ParquetReadError } from '../core/dataset/parquetTable.ts';
import { parseCommandArgs, wholeNumberFlag } from './cliArgs.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';
import { columnsFlag, DATASET_FLAGS, DATASET_FLAGS_HELP, resolveDatasetArg } from './datasetArgs.ts';

const HELP = `Usage: dpo-studio convert <in> <out.jsonl> [options]

Converts a Parquet file, a Hugging Face Hub dataset (org/name, one split) or a JSON Lines file
with other column names into the JSON Lines the pair editor and the labeling tools edit. The
column mapping is applied (the record fields get their own names), every other column is kept.
Streams a row group at a time: memory does not grow with the dataset. The output is written
atomically (a temporary file renamed into place at the end).

Options:
${DATASET_FLAGS_HELP}
  --limit <N>            stop after N records written
  --where "<f> <op> <v>" keep only rows where a column (or mapped field) compares so: op is
                         ==, !=, >, >=, <, <= or contains (e.g. --where "score >= 4")
`;

export async function convertCommand(args: string[], io: CliStreams): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { ...DATASET_FLAGS, limit: { type: 'string' }, where: { type: 'string' } });
  if (values.help) {
    io.out.write(HELP);
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError('convert needs an input (a .parquet file, a Hub dataset org/name or a .jsonl file) and an output .jsonl file');
  const [input, out] = positionals as [string, string];
  if (!/\.jsonl$/i.test(out)) throw new UsageError(`convert writes JSON Lines: name the output <something>.jsonl, not ${out}`);
  const columns = columnsFlag(values.columns);
  const limit = wholeNumberFlag(values.limit, 'limit', 1);
  let where: RowFilter | undefined;
  try {
    where = values.where === undefined ? undefined : parseWhere(values.where);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  try {
    const resolved = await resolveDatasetArg(input, '', values, io.err);
    const outReal = statSync(out, { throwIfNoEntry: false }) ? realpathSync(out) : undefined;
    if (outReal && resolved.files.some((f) => realpathSync(f) === outReal)) throw new ConvertError(`the output ${out} is the input itself: write to another file`);
    const started = Date.now();
    let lastShown = Date.now();
    const result = await convertToJsonl(resolved.files, out, {
      ...(columns ? { columns } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(where ? { where } : {}),
      onProgress: (read, written) => {
        if (Date.now() - lastShown < 2000) return;
        lastShown = Date.now();
        io.err.write(`converting: ${read.toLocaleString('en-US')} rows read, ${written.toLocaleString('en-US')} written\n`);
      },
    });
    const how = [columns ? `columns ${describeMapping(columns)}` : '', where ? `where ${where.text}` : '', limit ? `limit ${limit}` : ''].filter(Boolean).join(', ');
    io.out.write(`Wrote ${result.written.toLocaleString('en-US')} records of ${result.read.toLocaleString('en-US')} read to ${out}${how ? ` (${how})` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  } catch (error) {
    if (error instanceof ConvertError || error instanceof ParquetReadError || (error as { code?: string }).code === 'DATASET') {
      io.err.write(`dpo-studio: ${(error as Error).message}\n`);
      return 2;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') {
      io.err.write(`dpo-studio: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

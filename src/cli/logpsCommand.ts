import { makeDirs } from '../core/files/makeDirs.ts';
import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../core/files/atomicWrite.ts';
import { BACKEND_CHAIN, initBackend, type BackendRequest } from '../trainer/backend/index.ts';
import { datasetLogps, tokenizeDatasetFile, type SkippedRecord } from '../trainer/logps/datasetLogps.ts';
import { loadAdapter } from '../trainer/model/adapterFolder.ts';
import { disposeModel, parameterCount, type CausalLM } from '../trainer/model/causalLM.ts';
import { loadModel, readModelConfig } from '../trainer/model/modelFolder.ts';
import type { TruncationMode } from '../trainer/tokenizer/pairTokens.ts';
import { resolveModelFolder } from '../trainer/train/modelFolderPath.ts';
import { TextTokenizer } from '../trainer/tokenizer/textTokenizer.ts';
import { parseCommandArgs, wholeNumberFlag } from './cliArgs.ts';
import { lintOptions } from '../core/dataset/lintRules.ts';
import { columnsFlag, DATASET_FLAGS, DATASET_FLAGS_HELP, resolveDatasetArg } from './datasetArgs.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';

const HELP = `Usage: dpo-studio logps --model <dir> --data <file> --out <file.jsonl> [options]

Scores every preference pair of a dataset with a model: the log-probability of the chosen and
of the rejected answer given the prompt, summed over the answer's tokens (prompt and padding
masked out), tokenized as TRL's DPO trainer does. Writes one JSON line per record:
{"index","prompt_ids","chosen_ids","rejected_ids","chosen_logps","rejected_logps"}.
Records with errors are skipped and reported with their line and column.
Exit 0: all records scored; 1: some were skipped or could not be scored (NaN); 2: usage, model or I/O error.

Options:
  --model <dir>              Hugging Face model folder (config.json, safetensors, tokenizer.json)
  --adapter <dir>            PEFT LoRA adapter folder to apply (adapter_config.json, adapter_model.safetensors)
  --data <file>              dataset (.jsonl, .json or .parquet, or a Hub dataset org/name) in any pair format
  --out <file.jsonl>         where to write the scores
  --max-length <N>           longest prompt + answer in tokens (default: no limit)
  --max-prompt-length <N>    longest prompt in tokens (default: no limit)
  --truncation <M>           keep_end (default: drop prompt tokens first) | keep_start
  --batch-size <N>           pairs per forward pass (default 4)
  --backend <B>              auto (default) | ${BACKEND_CHAIN.join(' | ')}
${DATASET_FLAGS_HELP}
`;

const positiveInt = (value: string | undefined, name: string) => wholeNumberFlag(value, name, 1);

function located(file: string, s: SkippedRecord): string {
  return `${file}${s.where ? `, ${s.where}` : `:${s.line}:${s.column}`}: ${s.index >= 0 ? `skipped record ${s.index}: ` : ''}${s.message} [${s.code}]`;
}

/**
 * --out is replaced as a whole: only a file this command wrote may be (never the dataset itself,
 * nor another file of the user's).
 */
function refuseForeignOutput(outPath: string, data: Stats): void {
  const out = statSync(outPath, { throwIfNoEntry: false });
  if (!out) return;
  if (out.isDirectory()) throw new Error(`--out ${outPath} is a folder: name the .jsonl file to write`);
  if (out.ino === data.ino && out.dev === data.dev) throw new Error(`--out ${outPath} is the --data file itself: write the log-probabilities to another file`);
  if (out.size === 0) return;
  const fd = openSync(outPath, 'r');
  try {
    const head = Buffer.alloc(4096);
    const text = head.toString('utf8', 0, readSync(fd, head, 0, head.length, 0));
    if (!/^\{"index":\d+,"prompt_ids":/.test(text)) throw new Error(`--out ${outPath} exists and is not a log-probabilities file this command wrote: choose another --out`);
  } finally {
    closeSync(fd);
  }
}

export async function logpsCommand(args: string[], io: CliStreams): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    {
      model: { type: 'string' },
      adapter: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      'max-length': { type: 'string' },
      'max-prompt-length': { type: 'string' },
      truncation: { type: 'string', default: 'keep_end' },
      'batch-size': { type: 'string', default: '4' },
      backend: { type: 'string', default: 'auto' },
      ...DATASET_FLAGS,
    },
    false,
  );
  if (values.help) {
    io.out.write(HELP);
    return 0;
  }
  for (const required of ['model', 'data', 'out'] as const) if (!values[required]) throw new UsageError(`logps needs --${required}`);
  const backend = values.backend as BackendRequest;
  if (backend !== 'auto' && !BACKEND_CHAIN.includes(backend)) throw new UsageError(`--backend must be auto or one of ${BACKEND_CHAIN.join(', ')}, got "${values.backend}"`);
  const truncationMode = values.truncation as TruncationMode;
  if (truncationMode !== 'keep_end' && truncationMode !== 'keep_start') throw new UsageError(`--truncation must be keep_end or keep_start, got "${values.truncation}"`);
  const maxLength = positiveInt(values['max-length'], 'max-length');
  const maxPromptLength = positiveInt(values['max-prompt-length'], 'max-prompt-length');
  const batchSize = positiveInt(values['batch-size'], 'batch-size')!;
  const modelName = values.model!;
  const dataPath = values.data!;
  const outPath = values.out!;
  const columns = columnsFlag(values.columns);

  let model: CausalLM | undefined;
  try {
    const resolved = await resolveDatasetArg(dataPath, '--data', values, io.err);
    for (const file of resolved.files) refuseForeignOutput(outPath, statSync(file));
    // A folder, else the Hugging Face cache, else a download into it (org/name, as transformers resolves it).
    const modelDir = await resolveModelFolder(process.cwd(), modelName, '--model', { log: (line) => io.err.write(`${line}\n`) });
    // The folder and its config first: a missing folder is "no such folder", not a missing tokenizer file.
    readModelConfig(modelDir);
    await initBackend(backend, (line) => io.err.write(`${line}\n`));
    const tokenizer = TextTokenizer.fromFolder(modelDir);
    const started = Date.now();
    model = loadModel(modelDir, { log: (line) => io.err.write(`${modelDir}: ${line}\n`) });
    io.err.write(`loaded ${model.config.architecture} (${parameterCount(model).toLocaleString('en-US')} parameters) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    if (values.adapter) {
      const adapter = loadAdapter(values.adapter, model, { trainable: false });
      io.err.write(`applied LoRA adapter ${values.adapter} (r=${adapter.config.r}, ${adapter.layers.size} layers)\n`);
    }

    const dataset = await tokenizeDatasetFile(resolved.files, tokenizer, { ...(maxLength ? { maxLength } : {}), ...(maxPromptLength ? { maxPromptLength } : {}), truncationMode }, lintOptions(columns ? { columns } : {}));
    for (const s of [...dataset.fileErrors, ...dataset.skipped].sort((a, b) => a.line - b.line || a.column - b.column)) io.err.write(`${located(dataPath, s)}\n`);
    const warned = dataset.records.filter((r) => r.warnings.length > 0);
    for (const r of warned.slice(0, 5)) io.err.write(`${dataPath}:${r.line}: record ${r.index}: ${r.warnings.join('; ')}\n`);
    if (warned.length > 5) io.err.write(`(${warned.length - 5} more records with tokenization warnings)\n`);

    const scoring = Date.now();
    const scores = await datasetLogps(model, dataset.records, tokenizer.padTokenId, { batchSize });
    const lines = dataset.records.map((r, i) =>
      JSON.stringify({ index: r.index, prompt_ids: r.promptIds, chosen_ids: r.chosenIds, rejected_ids: r.rejectedIds, chosen_logps: scores[i]!.chosenLogps, rejected_logps: scores[i]!.rejectedLogps }),
    );
    makeDirs(dirname(outPath));
    writeFileAtomic(outPath, lines.map((l) => l + '\n').join(''));
    // A NaN or infinite log-probability (written as null) is a record the model could not score.
    const unscored = dataset.records.filter((_, i) => !Number.isFinite(scores[i]!.chosenLogps) || !Number.isFinite(scores[i]!.rejectedLogps));
    for (const r of unscored.slice(0, 10)) io.err.write(`${dataPath}:${r.line}: record ${r.index}: not scored: the model gives a NaN or infinite log-probability (written as null)\n`);
    if (unscored.length > 10) io.err.write(`(${unscored.length - 10} more records not scored)\n`);
    const skipped = dataset.skipped.length + dataset.fileErrors.length;
    const left = [...(skipped ? [`${skipped} skipped`] : []), ...(unscored.length ? [`${unscored.length} not scored`] : [])];
    const scored = dataset.records.length - unscored.length;
    io.out.write(`Wrote log-probabilities of ${scored} record${scored === 1 ? '' : 's'} to ${outPath} in ${((Date.now() - scoring) / 1000).toFixed(1)} s` + (left.length ? ` (${left.join(', ')}, see above)` : '') + '\n');
    return skipped + unscored.length > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    io.err.write(`dpo-studio: ${(error as Error).message}\n`);
    return 2;
  } finally {
    if (model) disposeModel(model);
  }
}

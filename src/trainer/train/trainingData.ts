import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEFAULT_LINT_OPTIONS } from '../../core/dataset/lintRules.ts';
import { isParquetPath, ParquetReadError } from '../../core/dataset/parquetTable.ts';
import { readValidRecords, validRecordsOfText, type DatasetRecords } from '../../core/dataset/readRecords.ts';
import { sha256OfFiles } from '../../core/files/fileHash.ts';
import { datasetLabel, DatasetResolveError, resolveDataset, type ResolvedDataset } from '../../core/hub/hubDatasets.ts';
import { formatProgress } from '../../core/hub/hubDownload.ts';
import { trainSources } from '../../core/config/trainingConfig.ts';
import type { DataSection, TrainingConfig } from '../../core/config/types.ts';
import { tokenizeRecords, type SkippedRecord } from '../logps/datasetLogps.ts';
import { truncatePair, type PairTokens } from '../tokenizer/pairTokens.ts';
import type { TextTokenizer } from '../tokenizer/textTokenizer.ts';
import { TrainingSetupError } from './trainErrors.ts';

/** One usable preference pair, tokenized and cut to the config's limits. */
export interface TrainingExample extends PairTokens {
  /** 0-based record index in its file. */
  index: number;
  line: number;
}

/** A record whose prompt alone is longer than max_length: no room for any answer token. */
export interface DroppedRecord {
  index: number;
  line: number;
  promptTokens: number;
}

/** One SFT record (or, packed, several), tokenized, cut to max_length, with the targets it trains on. */
export interface SftExample {
  /** 0-based record index in its file (packed: of the first record). */
  index: number;
  line: number;
  inputIds: number[];
  /** Per input token: 1 when the loss trains on it as a target. */
  labelMask: number[];
  /** Packed: the tokens of each record in the sequence, in order (positions restart at each). */
  seqLengths?: number[];
  /** Packed: the records in the sequence, as `file:line`. */
  records?: Array<{ index: number; line: number }>;
}

export interface LoadedDataset<E = TrainingExample> {
  /** As written in the config. */
  path: string;
  resolved: string;
  weight: number;
  /** Of the file's bytes: part of the reference cache key and of the resume check. */
  sha256: string;
  examples: E[];
  /** Records with errors (and file-level errors), with their line: left out. */
  skipped: SkippedRecord[];
  dropped: DroppedRecord[];
  /** Records cut to max_prompt_length / max_length. */
  truncated: number;
}

/**
 * Reads a dataset through the dataset core (every format it knows, errors located), tokenizes
 * as TRL does and applies the config's limits: a prompt longer than max_prompt_length is cut
 * first (truncation_mode says which end stays), then prompt + answer longer than max_length
 * loses answer tokens, as TRL did; only a record whose prompt, after that cut, still leaves no
 * room for an answer within max_length is dropped (possible only when max_prompt_length is not
 * below max_length).
 */
export async function loadDataset(path: string, cwd: string, tokenizer: TextTokenizer, data: DataLimits, weight = 1, options: DataReadOptions = {}): Promise<LoadedDataset> {
  return tokenizeSource(path, await readDataSource(path, cwd, data, options), tokenizer, data, weight);
}

/** The pairs of a dataset already read, tokenized and cut as loadDataset says. */
export function tokenizeSource(path: string, source: DataSource, tokenizer: TextTokenizer, data: DataLimits, weight = 1): LoadedDataset {
  const tokenized = tokenizeRecords(source.records, tokenizer, {});
  const examples: TrainingExample[] = [];
  const dropped: DroppedRecord[] = [];
  const skipped = [...source.records.fileErrors, ...source.records.skipped, ...tokenized.skipped];
  let truncated = 0;
  for (const record of tokenized.records) {
    const promptTokens = Math.min(record.promptIds.length, data.max_prompt_length);
    if (promptTokens >= data.max_length) {
      dropped.push({ index: record.index, line: record.line, promptTokens });
      continue;
    }
    const cut = truncatePair(record, { maxLength: data.max_length, maxPromptLength: data.max_prompt_length, truncationMode: data.truncation_mode });
    if (cut.warnings.length > record.warnings.length) truncated++;
    // Each answer needs a scored token; with an empty prompt its first token has no context.
    const scored = (answer: readonly number[]) => answer.length - (cut.promptIds.length > 0 ? 0 : 1);
    if (scored(cut.chosenIds) < 1 || scored(cut.rejectedIds) < 1) {
      skipped.push({ index: record.index, line: record.line, column: 1, code: 'empty-after-tokenizing', message: 'the prompt or an answer has no tokens left to train on', ...(source.rows ? { where: `row ${record.line}` } : {}) });
      continue;
    }
    examples.push({ index: record.index, line: record.line, promptIds: cut.promptIds, chosenIds: cut.chosenIds, rejectedIds: cut.rejectedIds, warnings: cut.warnings });
  }
  skipped.sort((a, b) => a.line - b.line || a.column - b.column);
  return { path, resolved: source.resolved, weight, sha256: source.sha256, examples, skipped, dropped, truncated };
}

/** The keys of `data` that tokenizing and cutting read; the rest (columns, splits) are optional to callers. */
export type DataLimits = Pick<DataSection, 'max_length' | 'max_prompt_length' | 'truncation_mode'> & Partial<Omit<DataSection, 'max_length' | 'max_prompt_length' | 'truncation_mode'>>;

export interface DataReadOptions {
  /** Which split of a Hub dataset: the training one (default) or the eval one. */
  role?: 'train' | 'eval';
  log?: (message: string, level?: 'info' | 'warning') => void;
}

export interface DataSource {
  /** The file, or the Hub dataset's files joined by ", ". */
  resolved: string;
  /** Of the files' bytes: part of the reference cache key and of the resume check. */
  sha256: string;
  records: DatasetRecords;
  /** Rows of a table (Parquet): located by row and column, not line and column. */
  rows: boolean;
}

/**
 * A dataset as the config names it (a file, or a Hub dataset by name with its split, found in
 * the HF cache or downloaded with progress), read through the dataset core with the config's
 * column mapping: the records every stage and engine trains on.
 */
export async function readDataSource(path: string, cwd: string, data: Partial<DataSection>, options: DataReadOptions = {}): Promise<DataSource> {
  const role = options.role ?? 'train';
  let resolved: ResolvedDataset;
  try {
    let lastShown = 0;
    resolved = await resolveDataset(cwd, path, role === 'eval' ? 'data.eval_path' : 'data.train_path', {
      split: role === 'eval' ? (data.eval_split ?? 'test') : (data.train_split ?? 'train'),
      revision: data.revision ?? 'main',
      onDownloadStart: (repo) => options.log?.(`downloading the dataset ${repo} into the Hugging Face cache`),
      onProgress: (p) => {
        if (Date.now() - lastShown < 1000 && p.bytes < p.total) return;
        lastShown = Date.now();
        options.log?.(formatProgress(path, p));
      },
    });
  } catch (error) {
    if (error instanceof DatasetResolveError) throw new TrainingSetupError(error.message);
    throw error;
  }
  if (resolved.repo) options.log?.(`${datasetLabel(resolved)}: ${resolved.source === 'cache' ? 'from the Hugging Face cache' : 'downloaded'}, ${resolved.files.length} Parquet file${resolved.files.length === 1 ? '' : 's'} at ${resolved.sha?.slice(0, 12)}`);
  const lint = { ...DEFAULT_LINT_OPTIONS, ...(data.columns ? { columns: data.columns } : {}) };
  const rows = resolved.files.every(isParquetPath);
  if (!rows) {
    // A JSON or JSONL file is read once: the bytes hashed are the bytes parsed.
    const bytes = readFileSync(resolved.files[0]!);
    const records = validRecordsOfText(bytes.toString('utf8').replace(/^\uFEFF/, ''), resolved.files[0]!, lint);
    return { resolved: resolved.files[0]!, sha256: createHash('sha256').update(bytes).digest('hex'), records, rows };
  }
  try {
    return { resolved: resolved.files.join(', '), sha256: await sha256OfFiles(resolved.files), records: await readValidRecords(resolved.files, lint), rows };
  } catch (error) {
    if (error instanceof ParquetReadError) throw new TrainingSetupError(error.message);
    throw error;
  }
}

/** One line per problem, `file:line:column: message [code]`, as the validate command prints them. */
export function describeSkipped(dataset: LoadedDataset<unknown>): string[] {
  return [
    ...dataset.skipped.map((s) => `${dataset.path}${s.where ? `, ${s.where}` : `:${s.line}:${s.column}`}: ${s.index >= 0 ? `skipped record ${s.index}: ` : ''}${s.message} [${s.code}]`),
    ...dataset.dropped.map((d) => `${dataset.path}:${d.line}: dropped record ${d.index}: its prompt, cut to data.max_prompt_length, is still ${d.promptTokens} tokens, leaving no room for an answer within data.max_length`),
  ];
}

const SKIPPED_LINES_SHOWN = 20;

/** How a stage reads one dataset file and names what it holds. */
export interface DatasetReader<E> {
  load(path: string, weight: number, role: 'train' | 'eval'): Promise<LoadedDataset<E>>;
  /** "pairs", "records": what a usable example is called in the report. */
  unit: string;
  /** The report's words for records cut to the limits. */
  truncation: string;
}

/** The training datasets (and the eval set) of a config, each record checked, reported as it loads. Both engines and both stages read data through this. */
export async function loadDatasets<E>(config: TrainingConfig, reader: DatasetReader<E>, log: (message: string, level?: 'info' | 'warning') => void): Promise<{ train: LoadedDataset<E>[]; eval: LoadedDataset<E> | undefined }> {
  const sources = trainSources(config);
  if (sources.length === 0) throw new TrainingSetupError('no training data: set data.train_path in the config or pass --dataset_path');
  const report = (dataset: LoadedDataset<E>, role: string) => {
    const lines = describeSkipped(dataset);
    for (const line of lines.slice(0, SKIPPED_LINES_SHOWN)) log(line, 'warning');
    if (lines.length > SKIPPED_LINES_SHOWN) log(`${dataset.path}: ${lines.length - SKIPPED_LINES_SHOWN} more records left out (see above)`, 'warning');
    const parts = [`${dataset.examples.length} ${reader.unit}`];
    if (dataset.skipped.length) parts.push(`${dataset.skipped.length} skipped for errors`);
    if (dataset.dropped.length) parts.push(`${dataset.dropped.length} dropped (prompt, after max_prompt_length, leaves no room for an answer within max_length ${config.data.max_length})`);
    if (dataset.truncated) parts.push(`${dataset.truncated} ${reader.truncation}`);
    log(`${role} data ${dataset.path}${sources.length > 1 && role === 'training' ? ` (weight ${dataset.weight})` : ''}: ${parts.join(', ')}`);
  };
  const train: LoadedDataset<E>[] = [];
  for (const s of sources) {
    const dataset = await reader.load(s.path, s.weight, 'train');
    report(dataset, 'training');
    train.push(dataset);
  }
  if (train.every((d) => d.examples.length === 0)) {
    const stageHint = stageMismatch(train, config.training.stage);
    throw new TrainingSetupError(`no usable training ${reader.unit} in ${train.map((d) => d.path).join(', ')} (${stageHint ?? 'see the records reported above'})`);
  }
  let evalSet: LoadedDataset<E> | undefined;
  if (config.data.eval_path !== undefined) {
    evalSet = await reader.load(config.data.eval_path, 1, 'eval');
    report(evalSet, 'eval');
  }
  return { train, eval: evalSet };
}

/** When every record was skipped for being the other stage's data: say so, with the key to change. */
function stageMismatch(train: ReadonlyArray<LoadedDataset<unknown>>, stage: TrainingConfig['training']['stage']): string | undefined {
  const skipped = train.flatMap((d) => d.skipped);
  if (skipped.length === 0) return undefined;
  if (stage === 'dpo' && skipped.every((s) => s.code === 'sft-record')) return 'these are SFT records (instruction/output, prompt/completion, messages or text): set training.stage: sft to fine-tune on them, or give DPO preference pairs';
  if (stage === 'sft' && skipped.every((s) => s.code === 'preference-record')) return 'these are preference pairs: training.stage sft needs instruction/output, prompt/completion, messages or text records; train pairs with training.stage: dpo';
  return undefined;
}

/** The DPO datasets of a config: pairs, tokenized as TRL's DPO trainer does. */
export function loadTrainingDatasets(config: TrainingConfig, cwd: string, tokenizer: TextTokenizer, log: (message: string, level?: 'info' | 'warning') => void): Promise<{ train: LoadedDataset[]; eval: LoadedDataset | undefined }> {
  return loadDatasets(
    config,
    {
      load: (path, weight, role) => loadDataset(path, cwd, tokenizer, config.data, weight, { role, log }),
      unit: 'pairs',
      truncation: `truncated to max_length ${config.data.max_length} / max_prompt_length ${config.data.max_prompt_length} (${config.data.truncation_mode})`,
    },
    log,
  );
}

/** A resumed run must see the data its checkpoint planned its batches on (same files, same bytes). */
export function assertSameTrainingData(saved: ReadonlyArray<{ sha256: string }>, train: ReadonlyArray<LoadedDataset<unknown>>, checkpointDir: string): void {
  const changed = train.filter((d, i) => saved[i]?.sha256 !== d.sha256).map((d) => d.path);
  if (changed.length > 0 || saved.length !== train.length)
    throw new TrainingSetupError(`the training data changed since ${checkpointDir} (${changed.join(', ') || 'a different number of files'}): the batches of the remaining steps would not be the ones planned. Restore the data, or start a new run in another output_dir.`);
}

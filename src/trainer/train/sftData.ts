import type { TrainingConfig } from '../../core/config/types.ts';
import { isSftFormat } from '../../core/dataset/types.ts';
import { describePacking, packBestFitDecreasing, packingReport, type PackingReport } from '../../core/training/packing.ts';
import type { SkippedRecord } from '../logps/datasetLogps.ts';
import { exampleTargets, tokenizeSft, truncateSft } from '../tokenizer/sftTokens.ts';
import type { TextTokenizer } from '../tokenizer/textTokenizer.ts';
import { loadDatasets, readDataSource, type DataReadOptions, type DatasetReader, type LoadedDataset, type SftExample } from './trainingData.ts';

/**
 * An SFT dataset read through the dataset core (every SFT format, errors located), tokenized as
 * TRL's SFTTrainer does (sftTokens.ts) and cut to max_length keeping the start. A record left
 * with nothing to train on (no completion or assistant token after the cut) is skipped and
 * named, as TRL drops fully masked records.
 */
export async function loadSftDataset(path: string, cwd: string, tokenizer: TextTokenizer, config: TrainingConfig, weight = 1, options: DataReadOptions = {}): Promise<LoadedDataset<SftExample>> {
  const source = await readDataSource(path, cwd, config.data, options);
  const valid = source.records;
  const examples: SftExample[] = [];
  const skipped: SkippedRecord[] = [...valid.fileErrors, ...valid.skipped];
  let truncated = 0;
  for (const { span, value, format } of valid.records) {
    if (!isSftFormat(format)) {
      skipped.push({ index: span.index, line: span.line, column: span.column, code: 'preference-record', message: `a ${format} record is a preference pair or candidates, not an SFT record` });
      continue;
    }
    let tokens;
    try {
      tokens = tokenizeSft(tokenizer, value, format, { completionOnlyLoss: config.sft.completion_only_loss });
    } catch (e) {
      skipped.push({ index: span.index, line: span.line, column: span.column, code: 'not-tokenizable', message: (e as Error).message });
      continue;
    }
    const cut = truncateSft(tokens, config.data.max_length);
    if (cut.inputIds.length < tokens.inputIds.length) truncated++;
    if (exampleTargets(cut) === 0) {
      const why = tokens.inputIds.length > cut.inputIds.length ? `its first ${config.data.max_length} tokens (data.max_length) hold no completion or assistant token` : 'it has no completion or assistant token to train on';
      skipped.push({ index: span.index, line: span.line, column: span.column, code: 'nothing-to-train', message: why });
      continue;
    }
    examples.push({ index: span.index, line: span.line, inputIds: cut.inputIds, labelMask: cut.labelMask });
  }
  skipped.sort((a, b) => a.line - b.line || a.column - b.column);
  return { path, resolved: source.resolved, weight, sha256: source.sha256, examples, skipped, dropped: [], truncated };
}

/** Packs a dataset's records into sequences of `seqLength` (packing.ts), each remembering its records. */
export function packDataset(dataset: LoadedDataset<SftExample>, seqLength: number): { dataset: LoadedDataset<SftExample>; report: PackingReport } {
  const lengths = dataset.examples.map((e) => e.inputIds.length);
  const bins = packBestFitDecreasing(lengths, seqLength);
  const examples = bins.map((ids): SftExample => {
    const parts = ids.map((i) => dataset.examples[i]!);
    return {
      index: parts[0]!.index,
      line: parts[0]!.line,
      inputIds: parts.flatMap((p) => p.inputIds),
      labelMask: parts.flatMap((p) => p.labelMask),
      seqLengths: parts.map((p) => p.inputIds.length),
      records: parts.map((p) => ({ index: p.index, line: p.line })),
    };
  });
  return { dataset: { ...dataset, examples }, report: packingReport(lengths, bins, seqLength) };
}

/** How an SFT run reads its files (both engines; the TRL engine leaves the packing to TRL). */
export function sftReader(config: TrainingConfig, cwd: string, tokenizer: TextTokenizer, log?: (message: string, level?: 'info' | 'warning') => void): DatasetReader<SftExample> {
  return { load: (path, weight, role) => loadSftDataset(path, cwd, tokenizer, config, weight, { role, log }), unit: 'records', truncation: `cut to max_length ${config.data.max_length}` };
}

/** The SFT datasets of a config, packed when `sft.packing` says so (the report says what packing saved). */
export async function loadSftDatasets(config: TrainingConfig, cwd: string, tokenizer: TextTokenizer, log: (message: string, level?: 'info' | 'warning') => void): Promise<{ train: LoadedDataset<SftExample>[]; eval: LoadedDataset<SftExample> | undefined }> {
  const loaded = await loadDatasets(config, sftReader(config, cwd, tokenizer, log), log);
  if (!config.sft.packing) return loaded;
  const pack = (dataset: LoadedDataset<SftExample>, role: string) => {
    const packed = packDataset(dataset, config.data.max_length);
    log(`${role} data ${dataset.path}: ${describePacking(packed.report, config.data.max_length)}`);
    return packed.dataset;
  };
  return { train: loaded.train.map((d) => pack(d, 'training')), eval: loaded.eval ? pack(loaded.eval, 'eval') : undefined };
}

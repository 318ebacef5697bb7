import { makeDirs } from '../../core/files/makeDirs.ts';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/files/atomicWrite.ts';
import { weightFiles } from '../model/modelFolder.ts';
import type { ReferenceLogps } from './reference.ts';
import { writing } from './trainErrors.ts';
import type { LoadedDataset, TrainingExample } from './trainingData.ts';

/**
 * Reference log-probabilities computed once and kept on disk, one file per dataset under
 * `<output_dir>/ref_logps/`, named by a key over everything they depend on: the reference
 * model's weights, its quantization, the tokenizer, the dataset's bytes and the truncation
 * limits. A later epoch, a resumed run or a new run in the same output_dir with the same key
 * reads them back instead of running the reference model again.
 */

export const REFERENCE_CACHE_DIR = 'ref_logps';
const FORMAT = 1;
const SAMPLE_BYTES = 64 * 1024;
const SAMPLES = 16;

/**
 * A cheap fingerprint of a model folder: config.json, and for each weight file its size, its
 * safetensors header (every tensor's name, dtype, shape and offsets) and 16 samples of 64 KB
 * spread over its data. Hashing all of a multi-gigabyte model would cost seconds per run; a
 * retrained model changes every sample, a copied one keeps its fingerprint.
 */
export function modelFingerprint(dir: string): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(dir, 'config.json')));
  for (const path of weightFiles(dir)) {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      hash.update(`${path.slice(dir.length)}:${size}\n`);
      const head = Buffer.alloc(Math.min(size, 8));
      readSync(fd, head, 0, head.length, 0);
      const headerLength = head.length === 8 ? Number(head.readBigUInt64LE(0)) : 0;
      const header = Buffer.alloc(Math.min(headerLength, Math.max(0, size - 8)));
      readSync(fd, header, 0, header.length, 8);
      hash.update(header);
      const chunk = Buffer.alloc(SAMPLE_BYTES);
      for (let i = 0; i < SAMPLES; i++) {
        const position = Math.floor(((size - SAMPLE_BYTES) * i) / (SAMPLES - 1));
        const n = readSync(fd, chunk, 0, chunk.length, Math.max(0, position));
        hash.update(chunk.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
  }
  return hash.digest('hex');
}

/** The tokenizer files of a model folder that decide the token ids. */
export function tokenizerFingerprint(dir: string): string {
  const hash = createHash('sha256');
  for (const name of ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'chat_template.json']) {
    const path = join(dir, name);
    if (existsSync(path)) hash.update(`${name}\n`).update(readFileSync(path));
  }
  return hash.digest('hex');
}

export interface CacheKeyParts {
  referenceModel: string;
  quantizationBits: number | null;
  tokenizer: string;
  dataSha256: string;
  maxLength: number;
  maxPromptLength: number;
  truncationMode: string;
}

export function referenceCacheKey(parts: CacheKeyParts): string {
  // One fixed order whoever builds the parts (training, the scorer): the order caches were written with.
  const { referenceModel, quantizationBits, tokenizer, maxLength, maxPromptLength, truncationMode, dataSha256 } = parts;
  return createHash('sha256').update(JSON.stringify({ format: FORMAT, referenceModel, quantizationBits, tokenizer, maxLength, maxPromptLength, truncationMode, dataSha256 })).digest('hex').slice(0, 32);
}

interface CacheFile {
  format: number;
  key: string;
  data: string;
  /** Per kept record: its index in the file, token counts (a cheap check that tokenization matches), and the two sums. */
  records: Array<[index: number, promptTokens: number, chosenTokens: number, rejectedTokens: number, chosen: number, rejected: number]>;
}

export type CachedValues = Map<TrainingExample, { chosen: number; rejected: number }>;

/** The cached values for a dataset, or undefined when there is no file for the key or it does not match the records. */
export function readReferenceCache(outputDir: string, key: string, dataset: LoadedDataset): CachedValues | undefined {
  const path = join(outputDir, REFERENCE_CACHE_DIR, `${key}.json`);
  if (!existsSync(path)) return undefined;
  let file: CacheFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
  } catch {
    return undefined;
  }
  if (file.format !== FORMAT || file.key !== key || file.records.length !== dataset.examples.length) return undefined;
  const values: CachedValues = new Map();
  for (let i = 0; i < dataset.examples.length; i++) {
    const example = dataset.examples[i]!;
    const [index, prompt, chosenTokens, rejectedTokens, chosen, rejected] = file.records[i]!;
    if (index !== example.index || prompt !== example.promptIds.length || chosenTokens !== example.chosenIds.length || rejectedTokens !== example.rejectedIds.length) return undefined;
    values.set(example, { chosen, rejected });
  }
  return values;
}

export function writeReferenceCache(outputDir: string, key: string, dataset: LoadedDataset, values: CachedValues): string {
  const dir = join(outputDir, REFERENCE_CACHE_DIR);
  const path = join(dir, `${key}.json`);
  const file: CacheFile = {
    format: FORMAT,
    key,
    data: dataset.path,
    records: dataset.examples.map((e) => {
      const v = values.get(e)!;
      return [e.index, e.promptIds.length, e.chosenIds.length, e.rejectedIds.length, v.chosen, v.rejected];
    }),
  };
  writing('the reference cache', path, () => {
    makeDirs(dir);
    writeFileAtomic(path, JSON.stringify(file) + '\n');
  });
  return path;
}

/**
 * Scores every example with `score`, `batchSize` pairs at a time, batched by length so little
 * is padding. Yields to the event loop between batches so a stop signal is heard.
 */
export async function computeReferenceValues(
  examples: readonly TrainingExample[],
  score: (batch: readonly TrainingExample[]) => ReferenceLogps,
  batchSize: number,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<CachedValues> {
  const size = (e: TrainingExample) => e.promptIds.length + Math.max(e.chosenIds.length, e.rejectedIds.length);
  const order = [...examples].sort((a, b) => size(a) - size(b));
  const values: CachedValues = new Map();
  for (let start = 0; start < order.length; start += batchSize) {
    const batch = order.slice(start, start + batchSize);
    const logps = score(batch);
    batch.forEach((e, i) => values.set(e, { chosen: logps.chosen[i]!, rejected: logps.rejected[i]! }));
    onProgress(Math.min(start + batchSize, order.length), order.length);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return values;
}

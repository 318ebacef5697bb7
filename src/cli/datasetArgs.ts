import { ColumnMappingError, parseColumnsFlag, type ColumnMapping } from '../core/dataset/columnMapping.ts';
import { existsSync } from 'node:fs';
import { isParquetPath } from '../core/dataset/parquetTable.ts';
import { DatasetResolveError, isHubDatasetName, resolveDataset, type ResolvedDataset } from '../core/hub/hubDatasets.ts';
import { formatProgress } from '../core/hub/hubDownload.ts';
import { UsageError } from './cliTypes.ts';

/** The flags every command that reads a dataset takes: a Hub dataset's split and revision, and a column mapping. */
export const DATASET_FLAGS = {
  columns: { type: 'string' },
  split: { type: 'string' },
  revision: { type: 'string' },
} as const;

export const DATASET_FLAGS_HELP = `  --columns <map>        which column holds which field: prompt=question,chosen=response_j,rejected=response_k
  --split <name>         the split of a Hugging Face Hub dataset given as org/name (default train)
  --revision <rev>       its branch, tag or commit (default main)`;

export function columnsFlag(value: string | undefined): ColumnMapping | undefined {
  if (value === undefined) return undefined;
  try {
    return parseColumnsFlag(value);
  } catch (error) {
    if (error instanceof ColumnMappingError) throw new UsageError(error.message);
    throw error;
  }
}

/** A name read as rows (a Parquet file, or a Hub dataset: not a file here): the other inputs are text files. */
export function isTableSource(name: string): boolean {
  return isParquetPath(name) || (isHubDatasetName(name) && !existsSync(name));
}

/** A dataset named on the command line: a file, or a Hub dataset found in the cache or downloaded (progress on stderr). */
export async function resolveDatasetArg(name: string, flag: string, values: { split?: string | undefined; revision?: string | undefined }, err: { write(text: string): unknown }): Promise<ResolvedDataset> {
  let last = 0;
  try {
    return await resolveDataset(process.cwd(), name, flag, {
      ...(values.split ? { split: values.split } : {}),
      ...(values.revision ? { revision: values.revision } : {}),
      onDownloadStart: (repo) => err.write(`downloading the dataset ${repo} into the Hugging Face cache\n`),
      onProgress: (p) => {
        if (Date.now() - last < 1000 && p.bytes < p.total) return;
        last = Date.now();
        err.write(`${formatProgress(name, p)}\n`);
      },
    });
  } catch (error) {
    if (error instanceof DatasetResolveError) throw Object.assign(new Error(error.message), { code: 'DATASET' });
    throw error;
  }
}

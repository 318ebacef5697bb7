import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { cachedCommit, hubCacheDir, hubOffline, isHubId, repoCacheDir, type Env } from './hubCache.ts';
import { downloadRepo, HubError, repoFiles, type DownloadProgress } from './hubDownload.ts';

/**
 * A dataset as a config or flag names it: a local file, or a Hugging Face Hub dataset `org/name`
 * with a split and revision, the way TRL scripts name them. Resolved as `datasets` does: the HF
 * cache first (`datasets--org--name`, used offline as it is), else a download into that cache
 * with the same downloader, token and messages as models. The split's Parquet files are used: the
 * repo's own, or, when the repo holds another format, those of the Hub's Parquet conversion
 * (revision `refs/convert/parquet`).
 */

export const PARQUET_CONVERSION_REVISION = 'refs/convert/parquet';
const DATA_FILE = /\.(jsonl|json|parquet)$/i;

export class DatasetResolveError extends Error {}

export interface DatasetRequest {
  split?: string;
  revision?: string;
  env?: Env;
  /** Absent: a dataset missing from disk and cache is an error instead of a download. */
  onProgress?: (progress: DownloadProgress) => void;
  onDownloadStart?: (repo: string) => void;
  signal?: AbortSignal;
}

export interface ResolvedDataset {
  /** As written. */
  name: string;
  /** The files to read, in order (a split may be sharded). */
  files: string[];
  source: 'file' | 'cache' | 'download';
  repo?: string;
  split?: string;
  /** The commit the files come from. */
  sha?: string;
}

/** `org/name` that is not a file path (a path ends in a data file's extension or has more parts). */
export function isHubDatasetName(name: string): boolean {
  return isHubId(name) && !DATA_FILE.test(name);
}

/** The split's files among a repo's, following the Hub's layouts (data/train-00000-of-00001.parquet, default/train/0000.parquet, train.parquet). */
export function splitFiles(names: readonly string[], split: string): string[] {
  const parquet = names.filter((n) => /\.parquet$/i.test(n));
  const escaped = split.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const fileOfSplit = new RegExp(`^${escaped}(?:-\\d[^/]*)?\\.parquet$`, 'i');
  const matches = parquet.filter((n) => {
    const parts = n.split('/');
    return fileOfSplit.test(parts[parts.length - 1]!) || parts.slice(0, -1).includes(split);
  });
  // Several configurations each with this split (org/name has default/ and others/): the default one.
  const configs = new Set(matches.map((n) => (n.includes('/') ? n.split('/')[0]! : '')));
  const chosen = configs.size > 1 && configs.has('default') ? matches.filter((n) => n.startsWith('default/')) : configs.size > 1 && configs.has('data') ? matches.filter((n) => n.startsWith('data/')) : matches;
  return chosen.sort();
}

export function splitsOf(names: readonly string[]): string[] {
  const found = new Set<string>();
  for (const n of names.filter((x) => /\.parquet$/i.test(x))) {
    const parts = n.split('/');
    const base = parts[parts.length - 1]!.replace(/\.parquet$/i, '');
    const fromName = /^([A-Za-z][\w]*?)(?:-\d.*)?$/.exec(base)?.[1];
    if (parts.length >= 3) found.add(parts[parts.length - 2]!);
    else if (fromName) found.add(fromName);
  }
  return [...found].sort();
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path).split(sep).join('/'));
    }
  };
  walk(dir);
  return out;
}

/** The split's files in a cached snapshot of `revision`, or undefined when that revision is not cached or holds none. */
function cachedSplit(repo: string, revision: string, split: string, env: Env): { files: string[]; sha: string } | undefined {
  const sha = cachedCommit(repo, revision, env, 'dataset');
  if (!sha) return undefined;
  const snapshot = join(repoCacheDir(repo, env, 'dataset'), 'snapshots', sha);
  if (!statSync(snapshot, { throwIfNoEntry: false })?.isDirectory()) return undefined;
  const names = splitFiles(listFiles(snapshot), split);
  return names.length > 0 ? { files: names.map((n) => join(snapshot, n)), sha } : undefined;
}

export async function resolveDataset(cwd: string, name: string, key: string, request: DatasetRequest = {}): Promise<ResolvedDataset> {
  const env = request.env ?? process.env;
  const local = resolve(cwd, name);
  const stat = statSync(local, { throwIfNoEntry: false });
  if (stat?.isFile()) return { name, files: [local], source: 'file' };
  if (stat?.isDirectory()) throw new DatasetResolveError(`${key ? `${key} ` : ''}"${name}" is a folder (${local}), not a dataset file`);
  if (!isHubDatasetName(name)) throw new DatasetResolveError(`${key ? `${key} ` : ''}"${name}": no such file (resolved to ${local})${isHubId(name) ? '' : ', and not a Hugging Face dataset name (org/name)'}`);
  const split = request.split ?? 'train';
  const revision = request.revision ?? 'main';
  const described = `${name}@${revision} (split "${split}")`;
  const cached = cachedSplit(name, revision, split, env) ?? (revision === 'main' ? cachedSplit(name, PARQUET_CONVERSION_REVISION, split, env) : undefined);
  if (cached) return { name, files: cached.files, source: 'cache', repo: name, split, sha: cached.sha };
  if (hubOffline(env))
    throw new DatasetResolveError(`${key ? `${key} ` : ''}"${name}" is not a local file (${local}) and ${described} is not in the Hugging Face cache (${hubCacheDir(env)}); HF_HUB_OFFLINE=1 forbids downloading it: unset it, or download it where there is a network`);
  try {
    const listed = await repoFiles(name, 'dataset', { revision, env, ...(request.signal ? { signal: request.signal } : {}) });
    let from = revision;
    let names = listed.files;
    if (!names.some((n) => /\.parquet$/i.test(n)) && revision === 'main') {
      // No Parquet of its own (JSON, CSV, a script): the Hub's conversion of it.
      from = PARQUET_CONVERSION_REVISION;
      names = (await repoFiles(name, 'dataset', { revision: from, env, ...(request.signal ? { signal: request.signal } : {}) })).files;
    }
    const wanted = splitFiles(names, split);
    if (wanted.length === 0) {
      const splits = splitsOf(names);
      throw new DatasetResolveError(`${key ? `${key} ` : ''}"${name}": the dataset has no Parquet files for split "${split}"${splits.length ? `; its splits: ${splits.join(', ')} (set data.train_split / data.eval_split, or --split)` : ' (and no Parquet files at all)'}`);
    }
    request.onDownloadStart?.(name);
    const result = await downloadRepo(name, 'dataset', { revision: from, env, ...(request.onProgress ? { onProgress: request.onProgress } : {}), ...(request.signal ? { signal: request.signal } : {}) }, () => wanted);
    return { name, files: wanted.map((n) => join(result.path, n)), source: 'download', repo: name, split, sha: result.sha };
  } catch (error) {
    if (error instanceof HubError) throw new DatasetResolveError(`${key ? `${key} ` : ''}"${name}" is not a local file (${local}); ${error.message}`);
    throw error;
  }
}

/** How a resolved dataset is named in messages: the file, or `org/name (train split)`. */
export function datasetLabel(resolved: ResolvedDataset): string {
  return resolved.repo ? `${resolved.repo} (${resolved.split} split)` : resolved.name;
}

import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, openSync, renameSync, rmSync, statSync, symlinkSync, writeSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from '../files/atomicWrite.ts';
import { sha256OfFiles } from '../files/fileHash.ts';
import { makeDirs } from '../files/makeDirs.ts';
import { hubEndpoint, hubToken, repoCacheDir, type Env, type RepoType } from './hubCache.ts';

/**
 * Downloads what a model needs from the Hub into the HF cache layout (hubCache.ts): the config,
 * generation config, tokenizer files and the safetensors weights with their index; never the
 * .bin/.pt/.onnx/.gguf duplicates. A file is written to `blobs/<etag>.incomplete` (the name
 * huggingface_hub uses too), resumed with an HTTP range request after an interruption, checked
 * against the size and, for LFS files, the sha256 the Hub lists, and only then renamed into place;
 * `refs/<revision>` is written last, so a cache never points at a partial model.
 * (@huggingface/hub's downloadFileToCacheDir was the first choice; it neither resumes nor checks
 * sha256 nor reports bytes, and it does not write refs/.)
 */

export type HubErrorKind = 'gated' | 'missing' | 'network' | 'integrity' | 'no-weights' | 'cancelled';

export class HubError extends Error {
  constructor(
    readonly kind: HubErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface DownloadProgress {
  file: string;
  /** Bytes of all wanted files present so far (including what was already cached), and in all. */
  bytes: number;
  total: number;
  bytesPerSecond: number;
  etaSeconds: number | undefined;
}

export interface DownloadOptions {
  revision?: string;
  env?: Env;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface DownloadResult {
  repo: string;
  sha: string;
  path: string;
  files: string[];
  downloadedBytes: number;
}

interface Sibling {
  rfilename: string;
  size?: number;
  blobId?: string;
  lfs?: { sha256: string; size: number };
}

const WANTED = /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|added_tokens\.json|chat_template\.jinja|chat_template\.json|vocab\.json|merges\.txt|tokenizer\.model|model\.safetensors\.index\.json|[^/]*\.safetensors)$/;

export function wantedFiles(names: readonly string[]): string[] {
  return names.filter((n) => WANTED.test(n) && !n.startsWith('.'));
}

function authHeaders(env: Env): Record<string, string> {
  const token = hubToken(env);
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function hubFetch(url: string, init: RequestInit, repo: string, signal?: AbortSignal, type: RepoType = 'model'): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (signal?.aborted) throw new HubError('cancelled', `download of ${repo} cancelled`);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new HubError('network', `cannot reach the Hugging Face Hub at ${new URL(url).origin} (${cause?.code ?? cause?.message ?? (error as Error).message}) to download ${repo}, and it is not in the cache: check the network (or HF_ENDPOINT for a mirror), or download it where there is one and copy the cache`);
  }
  if (response.status === 401 || response.status === 403)
    throw new HubError('gated', `${type === 'dataset' ? 'the dataset ' : ''}${repo} is gated or private (HTTP ${response.status}): accept its licence on https://huggingface.co/${type === 'dataset' ? 'datasets/' : ''}${repo} with your account, then give a token with read access (HF_TOKEN, \`huggingface-cli login\`, or "DPO: Set Hugging Face Token")`);
  if (response.status === 404) throw new HubError('missing', `${type === 'dataset' ? 'the dataset ' : ''}${repo} was not found on the Hub (HTTP 404): check the name (org/name, as on its page) and the revision`);
  return response;
}


function linkIntoSnapshot(blob: string, target: string): void {
  makeDirs(dirname(target));
  rmSync(target, { force: true });
  try {
    symlinkSync(relative(dirname(target), blob), target);
  } catch {
    // No symlinks (Windows without developer mode): a copy, as huggingface_hub falls back to.
    copyFileSync(blob, target);
  }
}

export async function downloadModel(repo: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  return downloadRepo(repo, 'model', options, (names, revision) => {
    const files = wantedFiles(names);
    if (!files.some((f) => f.endsWith('.safetensors')))
      throw new HubError('no-weights', `${repo}@${revision} has no safetensors weights (only ${names.filter((n) => /\.(bin|pt|pth|gguf|onnx)$/.test(n)).join(', ') || 'other files'}); DPO Studio reads safetensors: convert it (transformers' save_pretrained(safe_serialization=True)) or pick a repo that publishes them`);
    return files;
  });
}

/** What a repo holds at a revision: its commit and file names, without downloading anything. */
export async function repoFiles(repo: string, type: RepoType, options: Pick<DownloadOptions, 'revision' | 'env' | 'signal'> = {}): Promise<{ sha: string; files: string[] }> {
  const info = await repoInfo(repo, type, options.revision ?? 'main', options.env ?? process.env, options.signal);
  return { sha: info.sha, files: info.siblings.map((s) => s.rfilename) };
}

async function repoInfo(repo: string, type: RepoType, revision: string, env: Env, signal?: AbortSignal): Promise<{ sha: string; siblings: Sibling[] }> {
  const response = await hubFetch(`${hubEndpoint(env)}/api/${type}s/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`, { headers: authHeaders(env) }, repo, signal, type);
  if (!response.ok) throw new HubError('network', `the Hub answered HTTP ${response.status} for ${repo}@${revision}`);
  const info = (await response.json()) as { sha?: string; siblings?: Sibling[] };
  if (typeof info.sha !== 'string' || !Array.isArray(info.siblings)) throw new HubError('network', `the Hub's answer for ${repo}@${revision} has no commit sha or file list`);
  return { sha: info.sha, siblings: info.siblings };
}

/**
 * Downloads the files `select` picks from a model or dataset repo into the HF cache, as
 * huggingface_hub lays them out (blobs, snapshot links, refs written last).
 */
export async function downloadRepo(repo: string, type: RepoType, options: DownloadOptions, select: (names: string[], revision: string) => string[]): Promise<DownloadResult> {
  const env = options.env ?? process.env;
  const revision = options.revision ?? 'main';
  const endpoint = hubEndpoint(env);
  const headers = authHeaders(env);
  const info = await repoInfo(repo, type, revision, env, options.signal);
  const sha = info.sha;
  const byName = new Map(info.siblings.map((s) => [s.rfilename, s]));
  const files = select([...byName.keys()], revision);

  const repoDir = repoCacheDir(repo, env, type);
  const snapshot = join(repoDir, 'snapshots', sha);
  const sizeOf = (s: Sibling) => s.lfs?.size ?? s.size ?? 0;
  const total = files.reduce((n, f) => n + sizeOf(byName.get(f)!), 0);
  let done = 0;
  let downloaded = 0;
  const started = Date.now();
  const report = (file: string) => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? downloaded / seconds : 0;
    options.onProgress?.({ file, bytes: done, total, bytesPerSecond: rate, etaSeconds: rate > 0 ? (total - done) / rate : undefined });
  };

  for (const file of files) {
    const sibling = byName.get(file)!;
    const etag = sibling.lfs?.sha256 ?? sibling.blobId ?? createHash('sha256').update(`${sha}/${file}`).digest('hex');
    const blob = join(repoDir, 'blobs', etag);
    const expectedSize = sizeOf(sibling);
    if (statSync(blob, { throwIfNoEntry: false })?.size === expectedSize && expectedSize > 0) {
      done += expectedSize;
      linkIntoSnapshot(blob, join(snapshot, file));
      report(file);
      continue;
    }
    makeDirs(dirname(blob));
    const partial = `${blob}.incomplete`;
    let have = statSync(partial, { throwIfNoEntry: false })?.size ?? 0;
    if (expectedSize > 0 && have > expectedSize) {
      rmSync(partial, { force: true });
      have = 0;
    }
    const url = `${endpoint}/${type === 'dataset' ? 'datasets/' : ''}${repo}/resolve/${sha}/${file.split('/').map(encodeURIComponent).join('/')}`;
    const response = await hubFetch(url, { headers: { ...headers, ...(have > 0 ? { range: `bytes=${have}-` } : {}) } }, repo, options.signal, type);
    if (response.status === 416 && have === expectedSize) {
      // Already whole: the last run stopped between the last byte and the rename.
    } else if (!response.ok || !response.body) {
      throw new HubError('network', `downloading ${repo}/${file}: HTTP ${response.status}`);
    } else {
      if (have > 0 && response.status !== 206) have = 0; // the server ignored the range: start over
      const fd = openSync(partial, have > 0 ? 'a' : 'w');
      done += have;
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          writeSync(fd, chunk);
          done += chunk.length;
          downloaded += chunk.length;
          report(file);
        }
      } catch (error) {
        if (options.signal?.aborted) throw new HubError('cancelled', `download of ${repo} cancelled; run it again to resume from ${done} bytes`);
        throw new HubError('network', `the connection broke while downloading ${repo}/${file} (${(error as Error).message}); run it again to resume where it stopped`);
      } finally {
        closeSync(fd);
      }
    }
    const size = statSync(partial).size;
    if (expectedSize > 0 && size !== expectedSize) {
      throw new HubError('network', `${repo}/${file} arrived with ${size} of ${expectedSize} bytes (the connection closed early); run it again to resume`);
    }
    if (sibling.lfs && (await sha256OfFiles([partial])) !== sibling.lfs.sha256) {
      rmSync(partial, { force: true });
      throw new HubError('integrity', `${repo}/${file} does not match the sha256 the Hub lists for it; the partial file was removed, run it again`);
    }
    renameSync(partial, blob);
    linkIntoSnapshot(blob, join(snapshot, file));
    report(file);
  }
  if (revision !== sha) {
    makeDirs(dirname(join(repoDir, 'refs', revision)));
    writeFileAtomic(join(repoDir, 'refs', revision), sha);
  }
  return { repo, sha, path: snapshot, files, downloadedBytes: downloaded };
}

export function formatProgress(repo: string, p: DownloadProgress): string {
  const mb = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);
  const eta = p.etaSeconds === undefined ? '' : `, ETA ${p.etaSeconds < 60 ? `${Math.ceil(p.etaSeconds)}s` : `${Math.floor(p.etaSeconds / 60)}m${String(Math.ceil(p.etaSeconds % 60)).padStart(2, '0')}s`}`;
  return `downloading ${repo}: ${mb(p.bytes)} of ${mb(p.total)} (${p.total ? Math.floor((100 * p.bytes) / p.total) : 100}%), ${mb(p.bytesPerSecond)}/s${eta} — ${p.file}`;
}


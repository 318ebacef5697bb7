import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { cachedSnapshot, hubCacheDir, hubOffline, isHubId, type Env } from './hubCache.ts';
import { downloadModel, HubError, type DownloadProgress } from './hubDownload.ts';

/**
 * A model as the config or a flag names it, resolved to a local folder the way transformers
 * does it: an existing folder of that path first; then the Hugging Face cache (offline, as it
 * is); else a download into that cache, unless HF_HUB_OFFLINE=1. Both engines and every command
 * get the folder, so nothing downloads behind the user's back later (the TRL engine runs offline).
 */

export class ModelResolveError extends Error {}

export interface ResolveOptions {
  revision?: string;
  env?: Env;
  /** Absent: a model missing from disk and cache is an error instead of a download. */
  onProgress?: (progress: DownloadProgress) => void;
  onDownloadStart?: (repo: string) => void;
  signal?: AbortSignal;
}

export interface ResolvedModel {
  path: string;
  source: 'folder' | 'cache' | 'download';
  repo?: string;
  revision?: string;
}

export async function resolveModel(cwd: string, name: string, key: string, options: ResolveOptions = {}): Promise<ResolvedModel> {
  const env = options.env ?? process.env;
  const local = resolve(cwd, name);
  const stat = statSync(local, { throwIfNoEntry: false });
  if (stat?.isDirectory()) return { path: local, source: 'folder' };
  if (stat) throw new ModelResolveError(`${key} "${name}" is a file (${local}), not a model folder`);
  if (!isHubId(name)) throw new ModelResolveError(`${key} "${name}" is not a model folder (resolved to ${local}) nor a Hugging Face model id (org/name)`);
  const revision = options.revision ?? 'main';
  const cached = cachedSnapshot(name, revision, env);
  if (cached) return { path: cached, source: 'cache', repo: name, revision };
  if (hubOffline(env))
    throw new ModelResolveError(`${key} "${name}" is not a local folder (${local}) and ${name}@${revision} is not in the Hugging Face cache (${hubCacheDir(env)}); HF_HUB_OFFLINE=1 forbids downloading it: unset it, or download it where there is a network (dpo-studio download ${name})`);
  options.onDownloadStart?.(name);
  try {
    const result = await downloadModel(name, { revision, env, ...(options.onProgress ? { onProgress: options.onProgress } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    return { path: result.path, source: 'download', repo: name, revision };
  } catch (error) {
    if (error instanceof HubError) throw new ModelResolveError(`${key} "${name}" is not a local folder (${local}); ${error.message}`);
    throw error;
  }
}

import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The Hugging Face cache as transformers, TRL and huggingface_hub lay it out, so a model any of
 * them downloaded is used here as it is, and one downloaded here is found by them:
 *   <cache>/models--{org}--{name}/refs/{revision}       the commit sha a branch or tag points to
 *   <cache>/models--{org}--{name}/snapshots/{sha}/{file} a link to ../../blobs/{etag}
 *   <cache>/models--{org}--{name}/blobs/{etag}           the file (etag: sha256 for LFS files, else the git blob id)
 * <cache> is HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
 */

export type Env = NodeJS.ProcessEnv;

export function hfHome(env: Env = process.env): string {
  return env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
}

export function hubCacheDir(env: Env = process.env): string {
  return env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || join(hfHome(env), 'hub');
}

/** Models and datasets live side by side in the cache, told apart by the folder's prefix. */
export type RepoType = 'model' | 'dataset';

export function repoCacheDir(repo: string, env: Env = process.env, type: RepoType = 'model'): string {
  return join(hubCacheDir(env), `${type}s--${repo.split('/').join('--')}`);
}

export function hubEndpoint(env: Env = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

export function hubOffline(env: Env = process.env): boolean {
  return ['1', 'ON', 'YES', 'TRUE'].includes((env.HF_HUB_OFFLINE ?? '').toUpperCase());
}

/** HF_TOKEN, else the file `huggingface-cli login` writes ($HF_HOME/token, or HF_TOKEN_PATH). */
export function hubToken(env: Env = process.env): string | undefined {
  const fromEnv = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  const path = env.HF_TOKEN_PATH || join(hfHome(env), 'token');
  try {
    const token = readFileSync(path, 'utf8').trim();
    return token || undefined;
  } catch {
    return undefined;
  }
}

/**
 * `org/name` as the Hub spells repo ids. A bare name is taken for a folder (a typo in a path
 * should say "no such folder", not reach for the network), and anything path-like is not an id.
 */
export function isHubId(name: string): boolean {
  return /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(name) && !name.includes('..') && !name.endsWith('.');
}

const SHA = /^[0-9a-f]{40}$/;

/** The commit a revision names in the cache: a sha as it is, a branch or tag through refs/. */
export function cachedCommit(repo: string, revision: string, env: Env = process.env, type: RepoType = 'model'): string | undefined {
  if (SHA.test(revision)) return revision;
  try {
    const sha = readFileSync(join(repoCacheDir(repo, env, type), 'refs', revision), 'utf8').trim();
    return SHA.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

/** A cached snapshot folder that holds a model (config.json and weights), or undefined. */
export function cachedSnapshot(repo: string, revision: string, env: Env = process.env): string | undefined {
  const sha = cachedCommit(repo, revision, env);
  if (!sha) return undefined;
  const dir = join(repoCacheDir(repo, env), 'snapshots', sha);
  const has = (file: string) => statSync(join(dir, file), { throwIfNoEntry: false })?.isFile() ?? false;
  return has('config.json') && (has('model.safetensors') || has('model.safetensors.index.json')) ? dir : undefined;
}

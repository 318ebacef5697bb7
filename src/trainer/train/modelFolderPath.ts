import { formatProgress, type DownloadProgress } from '../../core/hub/hubDownload.ts';
import { ModelResolveError, resolveModel } from '../../core/hub/resolveModel.ts';
import { TrainingSetupError } from './trainErrors.ts';

/** A progress reporter that speaks every 10% or 15 seconds, whichever comes first: a log, not a flood. */
export function throttledProgress(repo: string, write: (line: string) => void): (p: DownloadProgress) => void {
  let lastPercent = -10;
  let lastTime = 0;
  return (p) => {
    const percent = p.total ? Math.floor((100 * p.bytes) / p.total) : 0;
    const now = Date.now();
    if (percent >= lastPercent + 10 || now - lastTime >= 15_000 || p.bytes === p.total) {
      if (p.bytes === p.total && lastPercent === 100) return;
      lastPercent = p.bytes === p.total ? 100 : percent;
      lastTime = now;
      write(formatProgress(repo, p));
    }
  };
}

/**
 * A model the config names (`model.name`, `dpo.reference_model`): a local folder, else the
 * Hugging Face cache, else a download into it (resolveModel.ts), as a setup error when none works.
 */
export async function resolveModelFolder(cwd: string, name: string, key: string, options: { revision?: string; log?: (line: string) => void; signal?: AbortSignal } = {}): Promise<string> {
  try {
    const resolved = await resolveModel(cwd, name, key, {
      ...(options.revision ? { revision: options.revision } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onDownloadStart: (repo) => options.log?.(`${key} ${repo} is not in the Hugging Face cache: downloading it`),
      onProgress: throttledProgress(name, (line) => options.log?.(line)),
    });
    if (resolved.source === 'cache') options.log?.(`${key} ${name}@${resolved.revision}: ${resolved.path} (from the Hugging Face cache)`);
    return resolved.path;
  } catch (error) {
    if (error instanceof ModelResolveError) throw new TrainingSetupError(error.message);
    throw error;
  }
}

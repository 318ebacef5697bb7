/**
 * The ways a run ends early, each with what the user needs to act on it. The runner turns them
 * into an `error` event, an `end` event and an exit code.
 */

/** Found before any training step: bad data paths, unusable model, output dir, changed config on resume. */
export class TrainingSetupError extends Error {}

/** A loss or gradient that is NaN or infinite: the update is not applied, no checkpoint is written over the last good one. */
export class NonFiniteLossError extends Error {
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
  }
}

/** A file of the run could not be written (disk full, read-only, not a directory, ...). */
export class OutputWriteError extends Error {}

const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a parent of that path is a file, not a directory',
  EISDIR: 'that path is a directory',
  ENAMETOOLONG: 'the path is too long',
};

/** Runs a write and turns a file-system error into one sentence naming the path and the cause. */
export function writing<T>(what: string, path: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    const cause = WRITE_ERRORS[code] ?? (error as Error).message;
    throw new OutputWriteError(`cannot write ${what} ${path}: ${cause} (${code})`);
  }
}

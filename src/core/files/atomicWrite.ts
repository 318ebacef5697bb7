import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a file so that readers see either the old content or the new, never half of it:
 * the bytes go to a temporary file in the same directory (same file system, so the rename
 * is atomic), are flushed to disk, then renamed over the target.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'w');
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * A file written piece by piece that readers see whole or not at all: the pieces go to a
 * temporary file in the same directory; `commit` flushes it to disk and renames it over the
 * target, `abort` removes it. For outputs too big to hold in memory at once.
 */
export class AtomicFileWriter {
  private readonly temp: string;
  private fd: number | undefined;

  constructor(private readonly path: string) {
    this.temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
    this.fd = openSync(this.temp, 'w');
  }

  write(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd!, bytes, done, Math.min(WRITE_CHUNK, bytes.length - done));
  }

  commit(): void {
    fsyncSync(this.fd!);
    closeSync(this.fd!);
    this.fd = undefined;
    renameSync(this.temp, this.path);
  }

  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed.
      }
      this.fd = undefined;
    }
    rmSync(this.temp, { force: true });
  }
}

/** Largest single write: writeSync may write less than asked, and very large writes are refused on some systems. */
const WRITE_CHUNK = 1 << 30;

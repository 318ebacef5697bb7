import { RUN_LAYOUT } from '../training/engineContract.ts';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * Advisory locks that keep two writers out of one output (a run's folder, an export target, a
 * candidates file). A lock is a small JSON file created with O_EXCL, so exactly one process
 * can create it; it names its holder (pid, host, start time, command) so a refusal can say who
 * holds it. A lock whose process is gone (kill -9, a crash, a machine reboot) is stale and is
 * taken over: it is first renamed to a private name, and only if the renamed file is still the
 * stale one (same token) is it dropped, so two processes taking over at once cannot both win,
 * and neither can remove a lock a third process has just created.
 */

export const OUTPUT_DIR_LOCK = RUN_LAYOUT.lock;

export interface LockHolder {
  pid: number;
  host: string;
  started_at: string;
  command: string;
  token: string;
}

export class LockedError extends Error {
  constructor(
    message: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(message);
  }
}

export interface HeldLock {
  readonly path: string;
  release(): void;
}

/** The lock of a folder the lock lives in (a training run's output_dir). */
export function lockInside(dir: string): string {
  return join(dir, OUTPUT_DIR_LOCK);
}

/** The lock of a file or of a folder that is replaced as a whole (an export target, a candidates file). */
export function lockBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}${OUTPUT_DIR_LOCK}`);
}

/** Tokens of the locks this process holds: a lock with our pid but not in here was left by an earlier run of this process's code that never released it. */
const heldTokens = new Set<string>();

/** A lock file younger than this that cannot be parsed is being written by its creator. */
const TORN_GRACE_MS = 5000;

function readHolder(path: string): LockHolder | 'torn' | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.token === 'string') return value as LockHolder;
  } catch {
    // Fall through.
  }
  return 'torn';
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process whose parent has not reaped it yet still answers signal 0, but writes nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Whether the holder may still be writing; a holder on another host cannot be checked, so it counts as alive. */
function holderIsAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true;
  if (holder.pid === process.pid) return heldTokens.has(holder.token);
  return processIsAlive(holder.pid);
}

export function describeHolder(holder: LockHolder): string {
  return `${holder.command || 'a dpo-studio process'} (pid ${holder.pid} on ${holder.host}, since ${holder.started_at})`;
}

/** The live holder of a lock, if any (a stale or absent lock gives undefined). */
export function liveLockHolder(lockPath: string): LockHolder | undefined {
  return liveHolderOf(lockPath, readHolder(lockPath));
}

/** Whether what was read from the lock file is a holder still at work; a torn file is one only while its creator may still be writing it. */
function liveHolderOf(lockPath: string, read: LockHolder | 'torn' | undefined): LockHolder | undefined {
  if (read === undefined) return undefined;
  if (read === 'torn') return isRecent(lockPath) ? { pid: 0, host: hostname(), started_at: 'just now', command: 'another dpo-studio process', token: '' } : undefined;
  return holderIsAlive(read) ? read : undefined;
}

function isRecent(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < TORN_GRACE_MS;
  } catch {
    return false;
  }
}

/**
 * Takes the lock at `lockPath` for `command`, or throws LockedError naming its live holder.
 * `what` names the thing locked in the message ("the output folder runs/a").
 */
export function acquireLock(lockPath: string, command: string, what: string, onStaleTaken?: (holder: LockHolder) => void): HeldLock {
  const holder: LockHolder = { pid: process.pid, host: hostname(), started_at: new Date().toISOString(), command, token: randomUUID() };
  const inUse = (live: LockHolder) =>
    new LockedError(
      `${what} is in use by ${describeHolder(live)}: wait for it to finish or stop it first` +
        (live.host !== hostname() ? ` (it runs on another machine; if it is gone, delete ${lockPath})` : ''),
      live,
    );
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockPath, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const existing = readHolder(lockPath);
      if (existing === undefined) continue;
      const live = liveHolderOf(lockPath, existing);
      if (live) throw inUse(live);
      takeOverStale(lockPath, existing === 'torn' ? undefined : existing, onStaleTaken);
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(holder, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    heldTokens.add(holder.token);
    const release = () => {
      if (!heldTokens.delete(holder.token)) return;
      process.off('exit', release);
      const current = readHolder(lockPath);
      if (current !== undefined && current !== 'torn' && current.token === holder.token) rmSync(lockPath, { force: true });
    };
    // A process that exits without reaching its own release (process.exit on a second Ctrl-C) still frees the lock.
    process.on('exit', release);
    return { path: lockPath, release };
  }
  throw new LockedError(`${what}: could not take its lock ${lockPath} (other processes keep taking it)`, undefined);
}

function takeOverStale(lockPath: string, stale: LockHolder | undefined, onStaleTaken?: (holder: LockHolder) => void): void {
  const aside = `${lockPath}.stale-${process.pid}-${randomUUID().slice(0, 8)}`;
  try {
    renameSync(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = readHolder(aside);
  const same = stale === undefined ? moved === 'torn' : moved !== undefined && moved !== 'torn' && moved.token === stale.token;
  if (!same) {
    // Someone replaced the stale lock between our read and our rename: give theirs back
    // (link fails only if yet another lock exists, which then stands).
    try {
      linkSync(aside, lockPath);
    } catch {
      // That one holds.
    }
  } else if (stale) {
    onStaleTaken?.(stale);
  }
  rmSync(aside, { force: true });
}

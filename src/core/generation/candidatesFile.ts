import { makeDirs } from '../files/makeDirs.ts';
import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { acquireLock, lockBeside, type HeldLock } from '../files/fileLock.ts';
import { dirname } from 'node:path';
import { forEachJsonlLine } from '../dataset/recordSpans.ts';
import type { PromptValue } from '../dataset/types.ts';
import { promptKey } from './promptKey.ts';
import type { CandidatesRecord } from './types.ts';

/**
 * The output file of a generation run. Each record is appended the moment its prompt is done,
 * as one line in a single write(), so a crash of the process loses only the prompts in flight.
 * The data is then synced to disk (fdatasync) in the background, one sync at a time covering
 * every line written before it, so a crash of the machine loses at most the last few
 * milliseconds' records too, and the 4-7 ms a sync takes never stalls the requests in flight.
 * Opening an existing file resumes it: the prompts it already answers are skipped, and a
 * half-written last line (the one thing a crash can leave) is cut off before anything is
 * appended.
 */

export interface ResumeState {
  /** Keys of the prompts the file already answers. */
  doneKeys: Set<string>;
  /** Records in the file. */
  records: number;
  /** 1-based lines that are not candidates records (left as they are). */
  unreadableLines: number[];
  /** Set when a half-written last line was removed: its line number and length in bytes. */
  cutTail?: { line: number; bytes: number };
}

function isPromptValue(value: unknown): value is PromptValue {
  if (typeof value === 'string') return true;
  if (Array.isArray(value)) return value.every((m) => m !== null && typeof m === 'object' && typeof m.role === 'string' && typeof m.content === 'string');
  return value !== null && typeof value === 'object' && typeof (value as { instruction?: unknown }).instruction === 'string';
}

/** Which prompts a candidates file answers, from its text. */
export function scanCandidatesText(text: string): Omit<ResumeState, 'cutTail'> {
  const state: Omit<ResumeState, 'cutTail'> = { doneKeys: new Set(), records: 0, unreadableLines: [] };
  forEachJsonlLine(text, (span) => {
    let value: unknown;
    try {
      value = JSON.parse(span.source);
    } catch {
      state.unreadableLines.push(span.line);
      return;
    }
    const record = value as { prompt?: unknown; candidates?: unknown } | null;
    if (record === null || typeof record !== 'object' || !Array.isArray(record.candidates) || !isPromptValue(record.prompt)) {
      state.unreadableLines.push(span.line);
      return;
    }
    state.records++;
    state.doneKeys.add(promptKey(record.prompt));
  });
  return state;
}

/** The output is not a file generate may write (not a candidates file, the input itself, a folder). */
export class CandidatesFileError extends Error {}

/** How every line this tool writes begins (JSON.stringify of a record: id first when it has one, else prompt). */
const RECORD_START = /^\{"(id|prompt)":/;

export class CandidatesWriter {
  private fd: number | undefined;
  /** The sync in progress, if any: the file is not closed under it. */
  private syncing: Promise<void> | undefined;
  /** Lines written since the last sync began. */
  private dirty = false;
  private syncError: Error | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    /** The file's last line has no line end yet (someone saved it so): write one first. */
    private needsNewline: boolean,
    private readonly durable: boolean,
    private readonly lock: HeldLock,
    /** This writer created the file: removed again at close if nothing was written. */
    private readonly created: boolean,
  ) {
    this.fd = fd;
  }

  private appended = 0;

  /**
   * Opens `path` for appending, creating it (and its folder) when missing, and reads what it
   * already holds. `fresh` empties an existing file instead of resuming it. Only a candidates
   * file (every line a candidates record) is resumed, repaired or emptied: anything else (notes,
   * a pairs dataset, a prompts file) is refused with CandidatesFileError, and so is the file the
   * prompts come from (`inputPath`). The file is locked while open, so two runs cannot
   * interleave their records, and a file this call created is removed again if nothing was
   * written to it (a run that failed to start leaves no empty file behind).
   * `durable: false` skips fdatasync (for a benchmark of the client alone); a crash of the
   * process still loses nothing written, only a crash of the machine could.
   */
  static open(path: string, options: { fresh?: boolean; durable?: boolean; inputPath?: string } = {}): { writer: CandidatesWriter; resume: ResumeState } {
    const existing = statSync(path, { throwIfNoEntry: false });
    if (existing?.isDirectory()) throw new CandidatesFileError(`${path} is a folder: name a .jsonl file to write the candidates to`);
    if (existing && !existing.isFile()) throw new CandidatesFileError(`${path} is not a regular file`);
    if (existing && options.inputPath !== undefined) {
      const input = statSync(options.inputPath, { throwIfNoEntry: false });
      if (input && input.ino === existing.ino && input.dev === existing.dev) throw new CandidatesFileError(`${path} is the prompts file itself: write the candidates to another file`);
    }
    makeDirs(dirname(path));
    const lock = acquireLock(lockBeside(path), 'dpo-studio generate', path);
    try {
      const resume: ResumeState = { doneKeys: new Set(), records: 0, unreadableLines: [] };
      let needsNewline = false;
      let keepBytes: number | undefined;
      if (existing && existing.size > 0) {
        const bytes = readFileSync(path);
        const lastNewline = bytes.lastIndexOf(0x0a);
        const tail = bytes.subarray(lastNewline + 1);
        keepBytes = bytes.length;
        let tornTail = false;
        if (tail.toString('utf8').trim().length > 0) {
          try {
            JSON.parse(tail.toString('utf8'));
            needsNewline = true;
          } catch {
            tornTail = true;
            keepBytes = lastNewline + 1;
          }
        }
        Object.assign(resume, scanCandidatesText(bytes.toString('utf8', 0, tornTail ? keepBytes : bytes.length)));
        if (resume.unreadableLines.length > 0 || (tornTail && !RECORD_START.test(tail.toString('utf8')))) {
          const line = resume.unreadableLines[0] ?? countLines(bytes, lastNewline + 1) + 1;
          throw new CandidatesFileError(
            `${path} is not a candidates file (line ${line} is not a candidates record with "prompt" and "candidates"): generate only resumes${options.fresh ? ' or replaces' : ''} a file it wrote. Choose another output file.`,
          );
        }
        if (tornTail) resume.cutTail = { line: countLines(bytes, lastNewline + 1) + 1, bytes: tail.length };
      }
      if (options.fresh) {
        Object.assign(resume, { doneKeys: new Set(), records: 0, unreadableLines: [] });
        delete resume.cutTail;
        needsNewline = false;
      } else if (keepBytes !== undefined && keepBytes < existing!.size) {
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, keepBytes);
        } finally {
          closeSync(fd);
        }
      }
      const fd = openSync(path, options.fresh ? 'w' : 'a');
      return { writer: new CandidatesWriter(path, fd, needsNewline, options.durable ?? true, lock, existing === undefined), resume };
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** Appends one record as one line, in one write; a background sync to disk follows. */
  append(record: CandidatesRecord): void {
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    if (this.syncError) throw this.syncError;
    const line = (this.needsNewline ? '\n' : '') + JSON.stringify(record) + '\n';
    this.needsNewline = false;
    // One write for the whole line (a partial write, rare on regular files, is continued).
    const bytes = Buffer.from(line, 'utf8');
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done);
    this.appended++;
    if (this.durable) this.sync();
  }

  /** Starts a sync unless one runs; a write during a sync gets the next one. */
  private sync(): void {
    this.dirty = true;
    if (this.syncing || this.fd === undefined) return;
    this.syncing = new Promise<void>((resolve) => {
      this.dirty = false;
      fdatasync(this.fd!, (error) => {
        if (error) this.syncError = error;
        this.syncing = undefined;
        resolve();
        if (this.dirty && !error) this.sync();
      });
    });
  }

  /** Waits for the last sync, syncs what is left and closes the file. */
  async close(): Promise<void> {
    while (this.syncing) await this.syncing;
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      if (this.durable && this.dirty) fdatasyncSync(fd);
    } finally {
      closeSync(fd);
      if (this.created && this.appended === 0) rmSync(this.path, { force: true });
      this.lock.release();
    }
    if (this.syncError) throw this.syncError;
  }
}

function countLines(bytes: Uint8Array, end: number): number {
  let lines = 0;
  for (let i = 0; i < end; i++) if (bytes[i] === 0x0a) lines++;
  return lines;
}

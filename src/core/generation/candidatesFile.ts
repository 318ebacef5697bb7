import { closeSync, existsSync, fdatasync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
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
  ) {
    this.fd = fd;
  }

  /**
   * Opens `path` for appending, creating it (and its folder) when missing, and reads what it
   * already holds. `fresh` empties an existing file instead of resuming it.
   * `durable: false` skips fdatasync (for a benchmark of the client alone); a crash of the
   * process still loses nothing written, only a crash of the machine could.
   */
  static open(path: string, options: { fresh?: boolean; durable?: boolean } = {}): { writer: CandidatesWriter; resume: ResumeState } {
    mkdirSync(dirname(path), { recursive: true });
    const resume: ResumeState = { doneKeys: new Set(), records: 0, unreadableLines: [] };
    let needsNewline = false;
    if (existsSync(path) && !options.fresh) {
      const bytes = readFileSync(path);
      const lastNewline = bytes.lastIndexOf(0x0a);
      const tail = bytes.subarray(lastNewline + 1);
      let keepBytes = bytes.length;
      if (tail.toString('utf8').trim().length > 0) {
        try {
          JSON.parse(tail.toString('utf8'));
          needsNewline = true;
        } catch {
          keepBytes = lastNewline + 1;
          resume.cutTail = { line: countLines(bytes, lastNewline + 1) + 1, bytes: tail.length };
        }
      }
      Object.assign(resume, scanCandidatesText(bytes.toString('utf8', 0, keepBytes)));
      if (keepBytes < bytes.length) {
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, keepBytes);
        } finally {
          closeSync(fd);
        }
      }
    }
    const fd = openSync(path, options.fresh ? 'w' : 'a');
    return { writer: new CandidatesWriter(path, fd, needsNewline, options.durable ?? true), resume };
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
    }
    if (this.syncError) throw this.syncError;
  }
}

function countLines(bytes: Uint8Array, end: number): number {
  let lines = 0;
  for (let i = 0; i < end; i++) if (bytes[i] === 0x0a) lines++;
  return lines;
}

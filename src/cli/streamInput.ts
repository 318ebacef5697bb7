import { closeSync, constants, createReadStream, createWriteStream, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MAX_LINE_BYTES } from '../core/dataset/validateFile.ts';

/**
 * Inputs that are not regular files: `-` (standard input), pipes and process substitution
 * (`<(cat f)`), named pipes. They can be read once, front to back, so they are copied to a
 * temporary file first (the validator reads a file twice where records may repeat), with
 * bounds that stop an endless source such as `cat /dev/zero |` instead of filling the disk or
 * the memory. Devices and sockets are refused by name.
 */

export const MAX_STREAM_BYTES = 16 * 1024 ** 3;
/** How long a named pipe may wait for its writer before validate gives up (DPO_STUDIO_PIPE_WAIT_SECONDS). */
export function fifoWaitMs(): number {
  const seconds = Number(process.env.DPO_STUDIO_PIPE_WAIT_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 10_000;
}

export class InputError extends Error {}

export interface SpooledInput {
  path: string;
  dispose(): void;
}

export type InputKind = { kind: 'file' } | { kind: 'stream'; open: () => Promise<Readable> };

/** What `name` is as an input: a regular file to read in place, or a stream to spool. */
export function classifyInput(name: string, stdin: Readable): InputKind {
  if (name === '-') return { kind: 'stream', open: async () => stdin };
  const stat = statSync(name);
  if (stat.isDirectory()) throw new InputError(`${name} is a directory, not a dataset file`);
  if (stat.isFile()) return { kind: 'file' };
  if (stat.isFIFO()) return { kind: 'stream', open: () => openFifo(name, fifoWaitMs()) };
  const what = stat.isCharacterDevice() ? 'a character device' : stat.isBlockDevice() ? 'a block device' : stat.isSocket() ? 'a socket' : 'not a regular file';
  throw new InputError(`${name} is ${what}: give a dataset file, a pipe, or - for standard input`);
}

/** Opens a named pipe, giving up when no writer comes (opening a pipe blocks until one does). */
async function openFifo(path: string, waitMs: number): Promise<Readable> {
  const stream = createReadStream(path);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // The pending open only returns once a writer exists: be that writer for a moment.
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // A writer came after all, or the pipe is gone: the open settles either way.
    }
  }, waitMs);
  try {
    await once(stream, 'open');
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) {
    stream.destroy();
    throw new InputError(`${path} is a named pipe and nothing wrote to it within ${waitMs / 1000} s`);
  }
  return stream;
}

/** Copies a stream into a temporary .jsonl file (the validator tells JSON arrays apart by content). */
export async function spoolStream(name: string, source: Readable, limits = { maxBytes: MAX_STREAM_BYTES, maxLineBytes: MAX_LINE_BYTES }): Promise<SpooledInput> {
  const dir = mkdtempSync(join(tmpdir(), 'dpo-studio-input-'));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  const path = join(dir, 'input.jsonl');
  const out = createWriteStream(path);
  let total = 0;
  let lineBytes = 0;
  let line = 1;
  try {
    for await (const chunk of source as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += bytes.length;
      if (total > limits.maxBytes) throw new InputError(`${name}: more than ${(limits.maxBytes / 1024 ** 2).toFixed(0)} MB came in; validate reads at most that much from a stream (save it to a file first)`);
      let from = 0;
      for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, nl + 1)) {
        lineBytes += nl - from;
        if (lineBytes > limits.maxLineBytes) break;
        lineBytes = 0;
        line++;
        from = nl + 1;
      }
      lineBytes += bytes.length - from;
      if (lineBytes > limits.maxLineBytes) throw new InputError(`${name}:${line}: the line is longer than ${limits.maxLineBytes / 1024 ** 2} MB without a line end: not a dataset (is the input binary or endless?)`);
      if (!out.write(bytes)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    return { path, dispose };
  } catch (error) {
    out.destroy();
    if (source !== process.stdin) (source as Readable).destroy();
    dispose();
    throw error;
  }
}

import type { GeneratedText, GenerationRequest } from './types.ts';

/**
 * The line-delimited JSON spoken between the extension and `dpo-studio generate --worker`, the
 * process that holds a local model. TensorFlow.js stays out of the extension host that way (a
 * model's memory and compute would stall every other extension), and cancelling is as simple
 * and as immediate as ending the process.
 *
 * stdin:  {"type": "generate", "id": 1, "request": GenerationRequest}
 * stdout: {"type": "ready", ...} once the model is loaded, then one "result" or "error" per id;
 *         {"type": "fatal"} when the model cannot be loaded. Logs go to stderr.
 */

export interface WorkerGenerate {
  type: 'generate';
  id: number;
  request: GenerationRequest;
}

export type WorkerRequest = WorkerGenerate;

export interface WorkerReady {
  type: 'ready';
  architecture: string;
  parameters: number;
  backend: string;
  /** The tokenizer has a chat template: system prompts and chat turns are rendered with it. */
  chatTemplate: boolean;
  maxAnswersPerCall: number;
}

export type WorkerReply =
  | WorkerReady
  | { type: 'result'; id: number; answers: GeneratedText[] }
  | { type: 'error'; id: number; message: string }
  | { type: 'fatal'; message: string };

/** Parses one line from the other side; undefined for anything that is not a message (stray output). */
export function parseWorkerLine<T extends { type: string }>(line: string): T | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as T;
    return value && typeof value.type === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

import type { RecordAction, WebviewToHost } from '../../protocol/pairEditorMessages.ts';
import { MAX_RECORDS_PER_REQUEST } from '../../protocol/pairEditorMessages.ts';

/**
 * Checks every message from the pair editor's webview before the host acts on it: a webview
 * renders text from the dataset, so it is treated as untrusted. Anything not exactly in the
 * protocol's shape (unknown type, extra-large strings, out-of-range numbers) is refused with a
 * reason for the log. No `vscode` import, so it is tested on its own.
 */

export type GuardResult = { ok: true; message: WebviewToHost } | { ok: false; reason: string };

/** Longest text an edit may write (a whole answer). */
const MAX_TEXT = 5_000_000;
const MAX_QUERY = 1000;
const MAX_URL = 2048;
/** A day: more is a clock that kept running, not time spent on one record. */
const MAX_TIME_MS = 86_400_000;
const MAX_CANDIDATES = 1000;
/** Only the texts the editor offers to edit: the prompt, the answers, chat turns, candidates. */
const EDITABLE_POINTER = /^\/(prompt|chosen|rejected)(\/(instruction|input|\d{1,6}\/content))?$|^\/candidates\/\d{1,6}(\/text)?$/;

type Obj = Record<string, unknown>;

class Invalid extends Error {}

function fail(reason: string): never {
  throw new Invalid(reason);
}

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function onlyKeys(value: Obj, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) fail(`${what}: unexpected field "${key}"`);
}

function index(value: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) fail(`${what} must be an integer from 0 to ${max}`);
  return value;
}

function text(value: unknown, what: string, max: number): string {
  if (typeof value !== 'string') fail(`${what} must be a string`);
  if (value.length > max) fail(`${what} is longer than ${max} characters`);
  return value;
}

function requestId(message: Obj): number {
  return index(message.requestId, 'requestId');
}

function candidateIndex(value: unknown, what: string): number {
  return index(value, what, MAX_CANDIDATES - 1);
}

function action(value: unknown): RecordAction {
  if (!isObject(value)) fail('action must be an object');
  switch (value.kind) {
    case 'decide':
      onlyKeys(value, ['kind', 'preference'], 'decide');
      if (value.preference !== 'chosen' && value.preference !== 'rejected' && value.preference !== 'tie') fail('decide: preference must be "chosen", "rejected" or "tie"');
      return { kind: 'decide', preference: value.preference };
    case 'clearDecision':
    case 'swap':
      onlyKeys(value, ['kind'], value.kind);
      return { kind: value.kind };
    case 'chooseCandidates': {
      onlyKeys(value, ['kind', 'best', 'worst', 'ranking'], 'chooseCandidates');
      if (value.ranking !== undefined) {
        if (!Array.isArray(value.ranking) || value.ranking.length > MAX_CANDIDATES) fail('chooseCandidates: ranking must be a list of candidate indices');
        if (value.best !== undefined || value.worst !== undefined) fail('chooseCandidates: give a ranking or best and worst, not both');
        return { kind: 'chooseCandidates', ranking: value.ranking.map((i, k) => candidateIndex(i, `ranking[${k}]`)) };
      }
      return { kind: 'chooseCandidates', best: candidateIndex(value.best, 'best'), worst: candidateIndex(value.worst, 'worst') };
    }
    case 'note':
      onlyKeys(value, ['kind', 'note'], 'note');
      return { kind: 'note', note: text(value.note, 'note', MAX_TEXT) };
    case 'editText': {
      onlyKeys(value, ['kind', 'pointer', 'value'], 'editText');
      const pointer = text(value.pointer, 'pointer', 64);
      if (!EDITABLE_POINTER.test(pointer)) fail(`editText: ${JSON.stringify(pointer)} is not an editable field`);
      return { kind: 'editText', pointer, value: text(value.value, 'value', MAX_TEXT) };
    }
    default:
      return fail(`unknown action ${JSON.stringify(value.kind)}`);
  }
}

function parse(raw: unknown): WebviewToHost {
  if (!isObject(raw)) fail('a message must be an object');
  const m = raw;
  switch (m.type) {
    case 'ready':
      onlyKeys(m, ['type', 'index'], 'ready');
      return { type: 'ready', index: index(m.index, 'index') };
    case 'getRecords': {
      onlyKeys(m, ['type', 'requestId', 'start', 'end'], 'getRecords');
      const start = index(m.start, 'start');
      const end = index(m.end, 'end');
      if (end < start || end - start > MAX_RECORDS_PER_REQUEST) fail(`getRecords: [start, end) must hold 0 to ${MAX_RECORDS_PER_REQUEST} records`);
      return { type: 'getRecords', requestId: requestId(m), start, end };
    }
    case 'act': {
      onlyKeys(m, ['type', 'requestId', 'index', 'revision', 'action', 'timeMs'], 'act');
      if (typeof m.revision !== 'number' || !Number.isSafeInteger(m.revision)) fail('act: revision must be an integer');
      const message: WebviewToHost = { type: 'act', requestId: requestId(m), index: index(m.index, 'index'), revision: m.revision, action: action(m.action) };
      if (m.timeMs !== undefined) {
        if (typeof m.timeMs !== 'number' || !Number.isFinite(m.timeMs) || m.timeMs < 0 || m.timeMs > MAX_TIME_MS) fail('act: timeMs must be a duration in milliseconds');
        message.timeMs = m.timeMs;
      }
      return message;
    }
    case 'search': {
      onlyKeys(m, ['type', 'requestId', 'query', 'from', 'step'], 'search');
      if (m.step !== 1 && m.step !== -1) fail('search: step must be 1 or -1');
      return { type: 'search', requestId: requestId(m), query: text(m.query, 'query', MAX_QUERY), from: index(m.from, 'from'), step: m.step };
    }
    case 'current':
      onlyKeys(m, ['type', 'index'], 'current');
      return { type: 'current', index: index(m.index, 'index') };
    case 'openLink':
      onlyKeys(m, ['type', 'url'], 'openLink');
      return { type: 'openLink', url: text(m.url, 'url', MAX_URL) };
    case 'runCommand':
      onlyKeys(m, ['type', 'command'], 'runCommand');
      if (m.command !== 'showText' && m.command !== 'exportPairs' && m.command !== 'exportJsonl') fail(`runCommand: unknown command ${JSON.stringify(m.command)}`);
      return { type: 'runCommand', command: m.command };
    case 'sortBy':
      onlyKeys(m, ['type', 'column', 'descending'], 'sortBy');
      if (typeof m.descending !== 'boolean') fail('sortBy: descending must be true or false');
      return { type: 'sortBy', column: m.column === null ? null : text(m.column, 'column', MAX_QUERY), descending: m.descending };
    default:
      return fail(`unknown message type ${JSON.stringify(m.type)}`);
  }
}

export function guardWebviewMessage(raw: unknown): GuardResult {
  try {
    return { ok: true, message: parse(raw) };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, reason: error.message };
    throw error;
  }
}

/** Links from a dataset open only when they are plain web addresses (never file:, command:, vscode:). */
export function isOpenableLink(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

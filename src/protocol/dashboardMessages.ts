/**
 * The training dashboard's messages, both ways, as discriminated unions on `type`, and the
 * host's check of everything the webview sends (`parseDashboardMessage`): the webview shows
 * text from metrics files, so it is treated as untrusted and may only name runs the host
 * already knows (by key) and charts by their id; it never hands the host a path.
 *
 * Metric rows travel as Float64Array columns (NaN: no value at that step). VS Code 1.57+
 * transfers typed arrays to a webview as binary, so 100,000 steps are not turned into JSON.
 */

/** How a run stands, as the dashboard and the status bar show it. */
export type RunStatus = 'running' | 'completed' | 'stopped' | 'failed' | 'interrupted' | 'waiting';

export interface RunInfo {
  /** The run's output folder (absolute): its identity. */
  key: string;
  /** The folder relative to the workspace. */
  label: string;
  status: RunStatus;
  /** A trainer started by this window is behind it (it can be stopped from here). */
  live: boolean;
  model?: string;
  dataset: string[];
  backend?: string;
  engine?: string;
  worldSize?: number;
  devices?: string[];
  memory?: { estimateBytes: number; limitBytes: number; limit: string };
  /** Made by a TRL script outside DPO Studio (read from its trainer_state.json). */
  external?: boolean;
  lossType?: string;
  /** What the run trains (absent: dpo). */
  stage?: 'dpo' | 'sft';
  step: number;
  totalSteps?: number;
  elapsedSeconds?: number;
  etaSeconds?: number;
  updatedAt?: string;
  lastCheckpoint?: string;
  finalCheckpoint?: string;
  error?: string;
  canStop: boolean;
  /** Not running, not completed, and a checkpoint to go on from. */
  canResume: boolean;
}

export interface TableChunk {
  /** Row index the chunk starts at; the webview asks for the whole run again if it holds another count. */
  start: number;
  steps: Float64Array;
  columns: Record<string, Float64Array>;
}

// ---- host → webview ----

/** Every run found (on `ready`, and when runs come and go); `focus`: the run to show first. */
export interface RunsMessage {
  type: 'runs';
  runs: RunInfo[];
  focus?: string;
}

/** One run's header facts changed (a step, a checkpoint, the end). */
export interface RunInfoMessage {
  type: 'runInfo';
  run: RunInfo;
}

/** Rows of a run: the whole history (`reset`) or the rows appended since the last message. */
export interface RunDataMessage {
  type: 'runData';
  run: string;
  reset: boolean;
  train: TableChunk;
  eval: TableChunk;
}

/** The host wants a run shown (after "DPO: Train" started it, say). */
export interface FocusMessage {
  type: 'focus';
  run: string;
}

/** One scored dataset of a run, as "Pairs to review" shows it. */
export interface ReviewDatasetView {
  /** The file, relative to the workspace. */
  label: string;
  pairs: number;
  agreeing: number;
  candidates: number;
  histogram: { edges: number[]; counts: number[] };
  /** The pairs the model disagrees with most: record index, line, margin, the start of the prompt. */
  top: Array<{ index: number; line: number; margin: number; prompt: string }>;
  /** Opens in the pair editor (JSON Lines and JSON files). */
  openable: boolean;
  /** The file changed since it was scored. */
  changed: boolean;
}

/** A run's review with its model (`runReview` on the host): absent checkpoint when nothing was scored yet. */
export interface ReviewDataMessage {
  type: 'reviewData';
  run: string;
  checkpoint: string | null;
  datasets: ReviewDatasetView[];
  /** The run has weights to score with and the workspace is trusted. */
  canScore: boolean;
  scoring: boolean;
}

export type HostToDashboard = RunsMessage | RunInfoMessage | RunDataMessage | FocusMessage | ReviewDataMessage;

// ---- webview → host ----

export interface ReadyMessage {
  type: 'ready';
}

/** Send the rows of these runs (the ones plotted), from scratch. */
export interface LoadMessage {
  type: 'load';
  runs: string[];
}

export interface RunActionMessage {
  type: 'stop' | 'resume' | 'exportCsv' | 'openOutput';
  run: string;
}

/** A chart rendered to PNG in the webview; the host asks where to save it. */
export interface SavePngMessage {
  type: 'savePng';
  chart: string;
  dataUrl: string;
}

/** Ask for a run's review (`reviewData`), or score its data with its model now (`score`). */
export interface ReviewRequestMessage {
  type: 'reviewData' | 'score';
  run: string;
}

/** Open a record of the review: which dataset (its place in the last `reviewData` of the run) and record. */
export interface OpenReviewMessage {
  type: 'openReview';
  run: string;
  dataset: number;
  index: number;
}

export type DashboardToHost = ReadyMessage | LoadMessage | RunActionMessage | SavePngMessage | ReviewRequestMessage | OpenReviewMessage;

// ---- the host's check ----

/** Most runs plotted at once. */
export const MAX_LOADED_RUNS = 32;
const MAX_KEY = 4096;
/** A PNG of a chart at any sane size is far below this. */
export const MAX_PNG_DATA_URL = 32 * 1024 * 1024;
const PNG_PREFIX = 'data:image/png;base64,';
const CHART_ID = /^[a-z][a-z0-9-]{0,39}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export type DashboardMessageCheck = { ok: true; message: DashboardToHost } | { ok: false; reason: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[]): string | undefined {
  const extra = Object.keys(value).find((key) => !allowed.includes(key));
  return extra === undefined ? undefined : `${String(value.type)}: unexpected field "${extra}"`;
}

function runKey(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_KEY;
}

/**
 * Shape only: whether a run key names a known run is the host's next check (it looks the key
 * up and acts on what it finds, never on the string).
 */
export function parseDashboardMessage(raw: unknown): DashboardMessageCheck {
  if (!isObject(raw)) return { ok: false, reason: 'a message must be an object' };
  const fail = (reason: string): DashboardMessageCheck => ({ ok: false, reason });
  switch (raw.type) {
    case 'ready': {
      const extra = onlyKeys(raw, ['type']);
      return extra ? fail(extra) : { ok: true, message: { type: 'ready' } };
    }
    case 'load': {
      const extra = onlyKeys(raw, ['type', 'runs']);
      if (extra) return fail(extra);
      if (!Array.isArray(raw.runs) || raw.runs.length > MAX_LOADED_RUNS || !raw.runs.every(runKey))
        return fail(`load: runs must be a list of at most ${MAX_LOADED_RUNS} run keys`);
      return { ok: true, message: { type: 'load', runs: [...new Set(raw.runs as string[])] } };
    }
    case 'openReview': {
      const extra = onlyKeys(raw, ['type', 'run', 'dataset', 'index']);
      if (extra) return fail(extra);
      if (!runKey(raw.run)) return fail('openReview: run must be a run key');
      if (!Number.isSafeInteger(raw.dataset) || (raw.dataset as number) < 0 || !Number.isSafeInteger(raw.index) || (raw.index as number) < 0) return fail('openReview: dataset and index must be whole numbers');
      return { ok: true, message: { type: 'openReview', run: raw.run, dataset: raw.dataset as number, index: raw.index as number } };
    }
    case 'reviewData':
    case 'score':
    case 'stop':
    case 'resume':
    case 'exportCsv':
    case 'openOutput': {
      const extra = onlyKeys(raw, ['type', 'run']);
      if (extra) return fail(extra);
      if (!runKey(raw.run)) return fail(`${raw.type}: run must be a run key`);
      return { ok: true, message: { type: raw.type, run: raw.run } };
    }
    case 'savePng': {
      const extra = onlyKeys(raw, ['type', 'chart', 'dataUrl']);
      if (extra) return fail(extra);
      if (typeof raw.chart !== 'string' || !CHART_ID.test(raw.chart)) return fail('savePng: chart must be a chart id');
      if (typeof raw.dataUrl !== 'string' || !raw.dataUrl.startsWith(PNG_PREFIX) || raw.dataUrl.length > MAX_PNG_DATA_URL)
        return fail('savePng: dataUrl must be a PNG data URL');
      return { ok: true, message: { type: 'savePng', chart: raw.chart, dataUrl: raw.dataUrl } };
    }
    default:
      return fail(`unknown message type ${JSON.stringify(raw.type)}`);
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The bytes of a PNG data URL, or undefined when it is not base64 of a PNG file. */
export function pngBytes(dataUrl: string): Uint8Array | undefined {
  if (!dataUrl.startsWith(PNG_PREFIX)) return undefined;
  const base64 = dataUrl.slice(PNG_PREFIX.length);
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) return undefined;
  const bytes = Uint8Array.from(Buffer.from(base64, 'base64'));
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b) ? bytes : undefined;
}

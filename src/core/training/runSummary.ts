import type { TrainerEvent } from '../../protocol/trainerEvents.ts';
import { EXTERNAL_RUN_PREFIX } from './externalRuns.ts';
import { ETA_WINDOW, estimateEta, type Eta, type ProgressSample } from './eta.ts';

/**
 * `unfinished`: started, and no `end` yet. Whether a trainer is still behind it (running) or
 * it died without a word (interrupted) only the caller can tell: it knows its own processes and
 * how long ago the file last changed.
 */
export type RunState = 'unfinished' | 'completed' | 'stopped' | 'failed';

/** What the header, the status bar and the notifications say about a run. */
export interface RunSummary {
  state: RunState | 'empty';
  runId?: string;
  model?: string;
  dataset: string[];
  backend?: string;
  /** Which engine trains, and on what: `trl` on 2 processes over `cuda:0 …, cuda:1 …`. */
  engine?: string;
  worldSize?: number;
  devices?: string[];
  /** The memory plan made before loading: estimate and limit, in bytes. */
  memory?: { estimateBytes: number; limitBytes: number; limit: string };
  /** A run written by a plain TRL script (its trainer_state.json), not by DPO Studio. */
  external?: boolean;
  lossType?: string;
  stage?: 'dpo' | 'sft';
  outputDir?: string;
  totalSteps?: number;
  /** The last step with metrics (or the step the run ended at). */
  step: number;
  startedAt?: string;
  updatedAt?: string;
  /** Set when the current process resumed a checkpoint. */
  resumedFromStep?: number;
  /** How many times the run was started (1 + resumes). */
  starts: number;
  elapsedSeconds?: number;
  lastMetrics: Record<string, number>;
  lastEval: Record<string, number>;
  lastCheckpoint?: string;
  finalCheckpoint?: string;
  error?: string;
  /** Recent (step, seconds) of the current process, for the ETA. */
  progress: ProgressSample[];
}

export function emptySummary(): RunSummary {
  return { state: 'empty', dataset: [], step: 0, starts: 0, lastMetrics: {}, lastEval: {}, progress: [] };
}

function secondsOf(event: { time: string; metrics: Record<string, number> }): number | undefined {
  const elapsed = event.metrics.elapsed_seconds;
  if (typeof elapsed === 'number' && Number.isFinite(elapsed)) return elapsed;
  const clock = Date.parse(event.time);
  return Number.isFinite(clock) ? clock / 1000 : undefined;
}

/** Folds one event into a summary (in place: a live run applies one event per step). */
export function applyToSummary(summary: RunSummary, event: TrainerEvent): RunSummary {
  if ('time' in event && typeof event.time === 'string') summary.updatedAt = event.time;
  switch (event.type) {
    case 'start':
      if (event.resumedFromStep === undefined) {
        // A fresh run in the same folder replaces what was there.
        Object.assign(summary, emptySummary(), { startedAt: event.time, updatedAt: event.time });
      }
      summary.state = 'unfinished';
      summary.runId = event.runId;
      summary.model = event.model;
      summary.dataset = Array.isArray(event.dataset) ? [...event.dataset] : [];
      summary.backend = event.backend;
      summary.engine = event.engine ?? 'tfjs';
      summary.worldSize = event.worldSize ?? 1;
      summary.devices = event.devices ? [...event.devices] : undefined;
      summary.memory = event.memory ? { ...event.memory } : undefined;
      summary.external = event.runId.startsWith(EXTERNAL_RUN_PREFIX) || undefined;
      summary.lossType = event.lossType;
      if (event.stage !== undefined) summary.stage = event.stage;
      summary.outputDir = event.outputDir;
      summary.totalSteps = event.totalSteps;
      summary.resumedFromStep = event.resumedFromStep;
      summary.starts++;
      summary.startedAt ??= event.time;
      summary.error = undefined;
      summary.finalCheckpoint = undefined;
      if (event.resumedFromStep !== undefined) summary.step = event.resumedFromStep;
      summary.progress = [];
      break;
    case 'metrics': {
      summary.step = event.step;
      summary.lastMetrics = { ...event.metrics };
      const seconds = secondsOf(event);
      if (typeof event.metrics.elapsed_seconds === 'number') summary.elapsedSeconds = event.metrics.elapsed_seconds;
      if (seconds !== undefined) {
        summary.progress.push({ step: event.step, seconds });
        if (summary.progress.length > ETA_WINDOW * 2) summary.progress.splice(0, summary.progress.length - ETA_WINDOW);
      }
      break;
    }
    case 'eval':
      summary.lastEval = { ...event.metrics };
      break;
    case 'checkpoint':
      summary.lastCheckpoint = event.path;
      break;
    case 'error':
      summary.error = event.message;
      if (event.lastCheckpoint) summary.lastCheckpoint = event.lastCheckpoint;
      break;
    case 'end':
      summary.state = event.status;
      summary.step = Math.max(summary.step, event.step);
      if (event.finalCheckpoint) summary.finalCheckpoint = event.finalCheckpoint;
      break;
    case 'log':
      break;
  }
  return summary;
}

export function summarizeEvents(events: Iterable<TrainerEvent>): RunSummary {
  const summary = emptySummary();
  for (const event of events) applyToSummary(summary, event);
  return summary;
}

/** Time left, while the run is unfinished. */
export function summaryEta(summary: RunSummary): Eta | undefined {
  if (summary.state !== 'unfinished') return undefined;
  return estimateEta(summary.progress, summary.totalSteps);
}

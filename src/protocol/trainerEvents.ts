/**
 * The one stream the trainer process speaks: one JSON object per line, on stdout to its
 * parent and appended to `<output_dir>/metrics.jsonl`, so a run can be watched live, reopened
 * after a restart, compared and resumed. Metric names follow TRL's (`rewards/margins`, ...).
 */

export const TRAINER_PROTOCOL_VERSION = 1;

export interface TrainerStartEvent {
  type: 'start';
  version: typeof TRAINER_PROTOCOL_VERSION;
  /** Unique per run; a resumed run keeps its id and sets `resumedFromStep`. */
  runId: string;
  time: string;
  model: string;
  dataset: string[];
  outputDir: string;
  backend: string;
  lossType: string;
  /** What the run trains (absent in runs from before there was SFT: dpo). */
  stage?: 'dpo' | 'sft';
  totalSteps: number;
  resumedFromStep?: number;
  config: Record<string, unknown>;
  /** Which engine trains (absent in runs from before there were two: tfjs). */
  engine?: 'tfjs' | 'trl';
  /** Library versions the engine runs on (torch, transformers, trl, peft, accelerate; tfjs). */
  libraries?: Record<string, string>;
  /** Devices in use: `cuda:0 NVIDIA H100 80GB HBM3`, `cpu`, `wasm`. */
  devices?: string[];
  /** Processes training together (ranks); 1 for the tfjs engine. */
  worldSize?: number;
  /** The memory plan made before loading (memoryPlan.ts): estimate and the limit it was held to. */
  memory?: { estimateBytes: number; limitBytes: number; limit: string };
}

/** Training metrics of one logging step. Keys are TRL's names, plus `tokens_per_second` and `elapsed_seconds`. */
export interface TrainerMetricsEvent {
  type: 'metrics';
  step: number;
  time: string;
  metrics: Record<string, number>;
}

/** Eval metrics: the same names prefixed with `eval_`. */
export interface TrainerEvalEvent {
  type: 'eval';
  step: number;
  time: string;
  metrics: Record<string, number>;
}

export interface TrainerCheckpointEvent {
  type: 'checkpoint';
  step: number;
  time: string;
  path: string;
  /** Why it was written: on schedule, at the end, or because the run was asked to stop. */
  reason: 'scheduled' | 'final' | 'interrupted';
}

export interface TrainerLogEvent {
  type: 'log';
  time: string;
  level: 'info' | 'warning';
  message: string;
}

export interface TrainerErrorEvent {
  type: 'error';
  time: string;
  message: string;
  step?: number;
  /** The last checkpoint that is still good, for the user to resume from. */
  lastCheckpoint?: string;
}

export interface TrainerEndEvent {
  type: 'end';
  time: string;
  status: 'completed' | 'stopped' | 'failed';
  step: number;
  finalCheckpoint?: string;
}

export type TrainerEvent =
  | TrainerStartEvent
  | TrainerMetricsEvent
  | TrainerEvalEvent
  | TrainerCheckpointEvent
  | TrainerLogEvent
  | TrainerErrorEvent
  | TrainerEndEvent;

// The training engine's public face: the CLI's train command, tests and benchmarks import from here.
export { runTraining, type RunTrainingOptions, type TrainResult, type Writer } from './runTraining.ts';
export type { TrainOptions } from './trainingSession.ts';
export { findLatestCheckpoint, readTrainerState, CHECKPOINT_PREFIX, OPTIMIZER_FILE, TRAINER_STATE_FILE, type TrainerState } from './checkpoint.ts';
export { FINAL_DIR, METRICS_FILE, RUN_FILE } from './outputDir.ts';
export { REFERENCE_CACHE_DIR } from './referenceCache.ts';
export { pairBatchLogps } from './pairBatchLogps.ts';

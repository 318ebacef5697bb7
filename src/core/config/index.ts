// The public face of the config module: everything outside src/core/config imports from here.
export type {
  ConfigProblem,
  DataSection,
  DatasetSource,
  DpoSection,
  LoraSection,
  LossType,
  LrSchedulerType,
  ModelSection,
  QuantizationSection,
  SftSection,
  TrainingBackend,
  TrainingConfig,
  TrainingConfigResult,
  TrainingSection,
  TrainingStage,
  TruncationMode,
} from './types.ts';
export { stageConfigs } from './stages.ts';
export { isLikelyTrainingConfig, parseTrainingConfig, trainSources } from './trainingConfig.ts';
export { applyOverrides, CLI_FLAG_KEYS, overrideTarget } from './overrides.ts';
export { KEY_ALIASES } from './aliases.ts';
export { TRAINING_CONFIG_SCHEMA_ID, trainingConfigSchema } from './configSchema.ts';

import { applySchemaDefaults } from './configSchema.ts';
import type { Issue } from './issue.ts';
import type { DpoSection, SftSection, StageOverrides, TrainingConfig, TrainingStage } from './types.ts';

/**
 * `stages: [sft, dpo]`: the guide's two runs from one config. Each stage trains with its own
 * config: the shared sections, then the stage section's own `data` / `training` / `lora` keys
 * over them, `training.stage` set, and the other stage's knobs back at their defaults (they do
 * not apply). DPO after SFT starts from the SFT run's output (its final model, merged when it
 * is an adapter; see startingModel.ts), which is also its frozen reference.
 */

const OVERRIDDEN = ['data', 'training', 'lora'] as const;

function sectionDefaults<K extends 'sft' | 'dpo'>(key: K): TrainingConfig[K] {
  const holder: Record<string, unknown> = { [key]: {} };
  applySchemaDefaults(holder);
  return holder[key] as TrainingConfig[K];
}

function knobsOf<T extends StageOverrides>(section: T): Omit<T, keyof StageOverrides> {
  const { data: _d, training: _t, lora: _l, ...knobs } = section;
  return knobs;
}

/** Each stage's own config, in order; a config without `stages` is its own only stage. */
export function stageConfigs(config: TrainingConfig): TrainingConfig[] {
  if (!config.stages) return [config];
  const configs: TrainingConfig[] = [];
  let previous: TrainingConfig | undefined;
  for (const stage of config.stages) {
    const own = config[stage];
    const { stages: _stages, ...shared } = structuredClone(config);
    const stageConfig: TrainingConfig = {
      ...shared,
      data: { ...shared.data, ...own.data },
      training: { ...shared.training, ...own.training, stage },
      // Writing a lora section turns LoRA on, as at the top level.
      lora: own.lora ? { ...shared.lora, use_lora: true, ...own.lora } : shared.lora,
      sft: stage === 'sft' ? (knobsOf(config.sft) as SftSection) : sectionDefaults('sft'),
      dpo: stage === 'dpo' ? (knobsOf(config.dpo) as DpoSection) : sectionDefaults('dpo'),
    };
    // A stage's shorter max_length brings the prompt limit down with it, as a lone config's does.
    if (own.data?.max_length !== undefined && own.data.max_prompt_length === undefined && stageConfig.data.max_prompt_length >= stageConfig.data.max_length)
      stageConfig.data.max_prompt_length = Math.max(1, Math.floor(stageConfig.data.max_length / 2));
    if (stage === 'dpo' && previous?.training.stage === 'sft') {
      // The SFT run's output folder; its final/ is found and, for an adapter, merged (startingModel.ts).
      stageConfig.model = { ...shared.model, name: previous.training.output_dir, base_model: shared.model.base_model ?? shared.model.name };
      delete stageConfig.model.revision;
    }
    configs.push(stageConfig);
    previous = stageConfig;
  }
  return configs;
}

/**
 * Where a problem found in a stage's config is written in the file: a key the stage section
 * overrides is under it (`/sft/training/learning_rate`), anything else is the shared key.
 */
export function stagePointer(config: TrainingConfig, stage: TrainingStage, pointer: string): string {
  const [, section, key] = pointer.split('/');
  const own = config[stage] as StageOverrides;
  if (section && key && (OVERRIDDEN as readonly string[]).includes(section)) {
    const overrides = own[section as (typeof OVERRIDDEN)[number]] as Record<string, unknown> | undefined;
    if (overrides && key in overrides) return `/${stage}${pointer}`;
  }
  return pointer;
}

/** What a staged config itself gets wrong: stages that would write into one folder, a stage set twice. */
export function lintStages(config: TrainingConfig): Issue[] {
  const issues: Issue[] = [];
  if (!config.stages) {
    for (const stage of ['sft', 'dpo'] as const)
      for (const key of OVERRIDDEN)
        if (config[stage][key] !== undefined)
          issues.push({ severity: 'warning', code: 'config-unused-option', message: `"${stage}.${key}" is a stage's own section, used with "stages: [sft, dpo]"; this config trains one stage from the top-level "${key}" section.`, pointer: `/${stage}/${key}`, part: 'key' });
    return issues;
  }
  const configs = stageConfigs(config);
  const seen = new Map<string, TrainingStage>();
  configs.forEach((stageConfig, i) => {
    const stage = config.stages![i]!;
    const dir = stageConfig.training.output_dir.replace(/\/+$/, '');
    const earlier = seen.get(dir);
    if (earlier)
      issues.push({
        severity: 'error',
        code: 'config-stage-output-dir',
        message: `The ${stage.toUpperCase()} stage would write into training.output_dir "${dir}" like the ${earlier.toUpperCase()} stage: give it its own, under "${stage}.training.output_dir".`,
        pointer: stagePointer(config, stage, '/training/output_dir'),
        related: ['/stages'],
        part: 'value',
      });
    seen.set(dir, stage);
    if (config[stage].training?.stage !== undefined)
      issues.push({ severity: 'error', code: 'config-stage-conflict', message: `"${stage}.training.stage" is set by "stages": remove it.`, pointer: `/${stage}/training/stage`, part: 'key' });
  });
  if (config.training.stage !== 'dpo')
    issues.push({ severity: 'warning', code: 'config-unused-option', message: '"training.stage" is ignored when "stages" lists the stages to run.', pointer: '/training/stage', related: ['/stages'], part: 'key' });
  for (const stage of ['sft', 'dpo'] as const) {
    if (config.stages.includes(stage)) continue;
    for (const key of OVERRIDDEN)
      if (config[stage][key] !== undefined)
        issues.push({ severity: 'warning', code: 'config-unused-option', message: `"${stage}.${key}" is for the ${stage.toUpperCase()} stage, which "stages" does not run.`, pointer: `/${stage}/${key}`, related: ['/stages'], part: 'key' });
  }
  return issues;
}

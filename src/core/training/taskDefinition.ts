import { overrideTarget } from '../config/overrides.ts';

/**
 * The `dpo` task type (package.json `contributes.taskDefinitions`): what a tasks.json entry
 * or the task provider says, checked before anything runs, and the trainer's command line it
 * becomes. Values reach the trainer as separate argv entries, never through a shell.
 */

export const DPO_TASK_TYPE = 'dpo';

export type OverrideValue = string | number | boolean;

export interface DpoTaskDefinition {
  type: typeof DPO_TASK_TYPE;
  /** The training config, relative to the workspace folder (or absolute). */
  config: string;
  /** Continue from the newest checkpoint in the config's output_dir. */
  resume?: boolean;
  /** Replace an earlier run in output_dir instead of refusing to mix with it. */
  overwrite?: boolean;
  /** Config keys set for this run only, e.g. {"training.learning_rate": 1e-6}. */
  overrides?: Record<string, OverrideValue>;
}

export type TaskDefinitionCheck = { ok: true; definition: DpoTaskDefinition } | { ok: false; problems: string[] };

/** The trainer's own flags: an override of that name would be read as the flag instead. */
const RESERVED = new Set(['config', 'resume', 'overwrite_output_dir', 'overwrite-output-dir', 'help', 'h']);
const KNOWN_FIELDS = new Set(['type', 'config', 'resume', 'overwrite', 'overrides', 'label', 'problemMatcher', 'group', 'presentation', 'runOptions', 'detail', 'icon', 'hide', 'isBackground', 'dependsOn', 'dependsOrder', 'options']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a definition as VS Code hands it over (from tasks.json: anything may be in it). */
export function checkTaskDefinition(raw: unknown): TaskDefinitionCheck {
  if (!isRecord(raw)) return { ok: false, problems: ['a dpo task definition must be an object'] };
  const problems: string[] = [];
  if (raw.type !== DPO_TASK_TYPE) problems.push(`"type" must be "${DPO_TASK_TYPE}"`);
  if (typeof raw.config !== 'string' || raw.config.trim() === '') problems.push('"config" must name the training config file, e.g. "configs/dpo_config.yaml"');
  for (const key of ['resume', 'overwrite'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'boolean') problems.push(`"${key}" must be true or false`);
  }
  if (raw.resume === true && raw.overwrite === true) problems.push('"resume" and "overwrite" exclude each other: continue the run in output_dir, or replace it');
  const overrides: Record<string, OverrideValue> = {};
  if (raw.overrides !== undefined) {
    if (!isRecord(raw.overrides)) problems.push('"overrides" must map config keys to values, e.g. {"training.learning_rate": 1e-6}');
    else {
      for (const [key, value] of Object.entries(raw.overrides)) {
        const name = key.trim().replace(/^-+/, '');
        if (RESERVED.has(name)) problems.push(`overrides: "${key}" is an option of the task itself, not a config key`);
        else if (overrideTarget(name) === undefined) problems.push(`overrides: "${key}" is not a config key (write section.key, e.g. "training.learning_rate" or "lora.r")`);
        else if (!(typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))))
          problems.push(`overrides: "${key}" must be a string, a number or true/false`);
        else overrides[name] = value;
      }
    }
  }
  for (const key of Object.keys(raw)) {
    if (!KNOWN_FIELDS.has(key)) problems.push(`unknown field "${key}" (a dpo task takes config, resume, overwrite and overrides)`);
  }
  if (problems.length > 0) return { ok: false, problems };
  const definition: DpoTaskDefinition = { type: DPO_TASK_TYPE, config: (raw.config as string).trim() };
  if (raw.resume === true) definition.resume = true;
  if (raw.overwrite === true) definition.overwrite = true;
  if (Object.keys(overrides).length > 0) definition.overrides = overrides;
  return { ok: true, definition };
}

/** Overrides as the strings `parseTrainingConfig` and the trainer's flags take. */
export function overrideStrings(definition: DpoTaskDefinition): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(definition.overrides ?? {})) out[key] = String(value);
  return out;
}

/**
 * The arguments after `dist/cli.cjs`. Overrides are written `--key=value` so that a value that
 * starts with dashes (a negative number) is not read as the next flag.
 */
export function trainerArgs(definition: DpoTaskDefinition): string[] {
  const args = ['train', '--config', definition.config];
  if (definition.resume) args.push('--resume');
  if (definition.overwrite) args.push('--overwrite_output_dir');
  for (const [key, value] of Object.entries(overrideStrings(definition))) args.push(`--${key}=${value}`);
  return args;
}

/** The task's name in "Run Task": the config, and how it starts. */
export function taskName(definition: DpoTaskDefinition): string {
  const how = definition.resume ? ' (resume)' : definition.overwrite ? ' (start over)' : '';
  const overrides = Object.entries(definition.overrides ?? {}).map(([k, v]) => `${k}=${v}`);
  return `train ${definition.config.replace(/\\/g, '/')}${how}${overrides.length ? ` ${overrides.join(' ')}` : ''}`;
}

import { KEY_ALIASES } from './aliases.ts';
import { lintTrainingConfig } from './configLints.ts';
import { lintTrlEngine } from './engineLints.ts';
import { lintStages, stageConfigs, stagePointer } from './stages.ts';
import { applySchemaDefaults, getConfigValidator, orderLikeSchema, schemaAt, typesOf } from './configSchema.ts';
import type { Issue } from './issue.ts';
import { describeSchemaErrors, describeValue, keyLabel } from './schemaErrors.ts';
import type { ConfigProblem, TrainingConfig, TrainingConfigResult } from './types.ts';
import { toPointer, type Locator, type Position } from './yamlPositions.ts';

/** A command-line override already written into the raw config. */
export interface AppliedFlag {
  /** As the user would type it: `--learning_rate`. */
  flag: string;
  /** `--learning_rate=1e-6`, what problems quote. */
  token: string;
  /** Canonical pointer the value was written to; '' when the flag named no known key. */
  pointer: string;
  /** The token's place in the overrides rendered as one command line. */
  position: Position;
}

export interface BuildContext {
  /** Positions in the config file; absent when there is no file (a config rebuilt from flags). */
  locate?: Locator;
  flags: readonly AppliedFlag[];
  /** Issues found before validation (bad override values, unknown flags). */
  issues: Issue[];
}

const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Numbers written as strings (`learning_rate: "1e-6"`, or `1e-6` under a YAML 1.1 reader) are
 * what TRL users write all the time, so they are read as numbers with a warning rather than
 * refused. Non-finite numbers (`.inf`, `.nan`) pass a JSON Schema `number` but break training.
 */
function coerceNumbers(value: unknown, path: string[], issues: Issue[]): unknown {
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) value[key] = coerceNumbers(value[key], [...path, key], issues);
    return value;
  }
  if (Array.isArray(value)) return value.map((item, i) => coerceNumbers(item, [...path, String(i)], issues));
  const node = schemaAt(path);
  if (!node || path.length === 0) return value;
  const pointer = toPointer(path);
  const types = typesOf(node);
  const wantsNumber = types.includes('number') || types.includes('integer');
  if (wantsNumber && !types.includes('string') && typeof value === 'string' && NUMERIC.test(value.trim())) {
    const number = Number(value.trim());
    issues.push({
      severity: 'warning',
      code: 'config-quoted-number',
      message: `"${keyLabel(pointer)}" is ${describeValue(value)}; read as the number ${number}. Write it without quotes.`,
      pointer,
      part: 'value',
    });
    return number;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    issues.push({ severity: 'error', code: 'config-non-finite', message: `"${keyLabel(pointer)}" must be a finite number, not ${value}.`, pointer, part: 'value' });
  }
  return value;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Moves alias keys to their canonical key. Returns canonical pointer → pointer as written, so
 * a problem about `/training/num_epochs` can still underline `num_train_epochs:` in the file.
 */
function foldAliases(raw: Record<string, unknown>, issues: Issue[]): Map<string, string> {
  const writtenAs = new Map<string, string>();
  for (const { alias, canonical } of KEY_ALIASES) {
    const [aliasSection, aliasKey] = alias.split('.') as [string, string];
    const [section, key] = canonical.split('.') as [string, string];
    const from = raw[aliasSection];
    if (!isPlainObject(from) || !(aliasKey in from)) continue;
    if (raw[section] === undefined) raw[section] = {};
    const to = raw[section];
    if (!isPlainObject(to)) continue;
    const value = from[aliasKey];
    const aliasPointer = toPointer([aliasSection, aliasKey]);
    if (key in to && !sameValue(to[key], value)) {
      issues.push({
        severity: 'error',
        code: 'config-alias-conflict',
        message: `"${alias}" is another name for "${canonical}", which says ${describeValue(to[key])} while this says ${describeValue(value)}; keep one.`,
        pointer: aliasPointer,
        part: 'key',
      });
      continue;
    }
    delete from[aliasKey];
    if (!(key in to)) writtenAs.set(toPointer([section, key]), aliasPointer);
    to[key] = value;
  }
  const model = raw.model;
  if (isPlainObject(model) && model.name === undefined && typeof model.base_model === 'string') {
    model.name = model.base_model;
    writtenAs.set('/model/name', '/model/base_model');
  }
  return writtenAs;
}

function translate(pointer: string, writtenAs: Map<string, string>): string {
  for (const [canonical, written] of writtenAs) {
    if (pointer === canonical || pointer.startsWith(canonical + '/')) return written + pointer.slice(canonical.length);
  }
  return pointer;
}

function flagFor(issue: Issue, flags: readonly AppliedFlag[]): AppliedFlag | undefined {
  if (issue.flagIndex !== undefined) return flags[issue.flagIndex];
  // The last flag wins when two name the same key, as it does when they are applied.
  const concerns = [issue.pointer, ...(issue.related ?? [])];
  for (let i = flags.length - 1; i >= 0; i--) {
    const p = flags[i].pointer;
    if (p !== '' && concerns.some((c) => c === p || c.startsWith(p + '/'))) return flags[i];
  }
  return undefined;
}

const NOWHERE: Position = { line: 1, column: 1, offset: 0, length: 0 };

function toProblems(issues: readonly Issue[], ctx: BuildContext, writtenAs: Map<string, string>): ConfigProblem[] {
  const fromFile: ConfigProblem[] = [];
  const fromFlags: ConfigProblem[] = [];
  for (const issue of issues) {
    const flag = flagFor(issue, ctx.flags);
    if (flag) {
      const message = issue.flagIndex !== undefined ? issue.message : `${flag.token}: ${issue.message}`;
      fromFlags.push({ severity: issue.severity, code: issue.code, message, pointer: issue.pointer, flag: flag.flag, ...flag.position });
      continue;
    }
    const pointer = translate(issue.pointer, writtenAs);
    const at = translate(issue.at ?? issue.pointer, writtenAs);
    const position = ctx.locate ? ctx.locate(at, issue.part) : NOWHERE;
    fromFile.push({ severity: issue.severity, code: issue.code, message: issue.message, pointer, ...position });
  }
  fromFile.sort((a, b) => a.offset - b.offset);
  fromFlags.sort((a, b) => a.offset - b.offset);
  return [...fromFile, ...fromFlags];
}

const hasError = (issues: readonly Issue[]) => issues.some((i) => i.severity === 'error');

/** The cross-key lints of each stage's own config, located where the file says each key (once per place). */
function stageLints(config: TrainingConfig): Issue[] {
  if (!config.stages) return [...lintTrainingConfig(config), ...lintTrlEngine(config)];
  const seen = new Set<string>();
  const issues: Issue[] = [];
  stageConfigs(config).forEach((stageConfig, i) => {
    const stage = config.stages![i]!;
    for (const issue of [...lintTrainingConfig(stageConfig), ...lintTrlEngine(stageConfig)]) {
      const located = { ...issue, pointer: stagePointer(config, stage, issue.pointer), ...(issue.related ? { related: issue.related.map((p) => stagePointer(config, stage, p)) } : {}) };
      const key = `${located.code}\u0000${located.pointer}`;
      if (seen.has(key)) continue;
      seen.add(key);
      issues.push(located);
    }
  });
  return issues;
}

/**
 * Validates a raw config (the file's mapping with any overrides written in), folds aliases,
 * fills defaults and runs the cross-key checks. The config comes back only when no error was
 * found, so a caller holding one can train with it.
 */
export function buildConfig(raw: Record<string, unknown>, ctx: BuildContext): TrainingConfigResult {
  const issues = [...ctx.issues];
  coerceNumbers(raw, [], issues);
  const validate = getConfigValidator();
  if (!validate(raw)) issues.push(...describeSchemaErrors(validate.errors ?? [], raw));
  const writtenAs = foldAliases(raw, issues);
  if (hasError(issues)) return { problems: toProblems(issues, ctx, writtenAs) };

  const data = raw.data;
  const promptLengthGiven = isPlainObject(data) && data.max_prompt_length !== undefined;
  applySchemaDefaults(raw);
  const config = orderLikeSchema(raw) as unknown as TrainingConfig;
  if (!promptLengthGiven && config.data.max_prompt_length >= config.data.max_length) {
    config.data.max_prompt_length = Math.max(1, Math.floor(config.data.max_length / 2));
  }
  issues.push(...lintStages(config), ...stageLints(config));
  const problems = toProblems(issues, ctx, writtenAs);
  return hasError(issues) ? { problems } : { config, problems };
}

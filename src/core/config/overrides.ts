import { parseDocument } from 'yaml';
import { aliasesOf, canonicalPath } from './aliases.ts';
import { buildConfig, isPlainObject, type AppliedFlag } from './buildConfig.ts';
import { SECTIONS, schemaAt, typesOf, type SchemaNode } from './configSchema.ts';
import { closestMatch } from './didYouMean.ts';
import type { Issue } from './issue.ts';
import type { TrainingConfig, TrainingConfigResult } from './types.ts';
import { toPointer } from './yamlPositions.ts';

/** The flags of the guide's `train_dpo.py` command line, whose names are not the config keys. */
export const CLI_FLAG_KEYS: Readonly<Record<string, string>> = {
  model_name: 'model.name',
  dataset_path: 'data.train_path',
  dataset_name: 'data.train_path',
  dataset_train_split: 'data.train_split',
  dataset_test_split: 'data.eval_split',
  output_dir: 'training.output_dir',
  num_epochs: 'training.num_epochs',
  batch_size: 'training.batch_size',
  learning_rate: 'training.learning_rate',
  beta: 'dpo.beta',
};

function flagName(flag: string): string {
  return flag.trim().replace(/^-+/, '').replace(/-/g, '_');
}

/** Every key a bare flag can name: `r` is `lora.r` because no other section has an `r`. */
function sectionsHolding(key: string): string[] {
  return SECTIONS.filter((s) => schemaAt([s, key]) !== undefined);
}

/**
 * The canonical dotted key an override flag sets, or undefined when it names none. Accepts the
 * guide's flags (`--model_name`), dotted paths (`training.learning_rate`, `lora.r`), aliases,
 * and a bare key that exactly one section has (`--loss_type`, `--r`). Leading dashes and
 * `-` for `_` are forgiven. The CLI uses this to tell config overrides from its own flags.
 */
export function overrideTarget(flag: string): string | undefined {
  const name = flagName(flag);
  const mapped = CLI_FLAG_KEYS[name];
  if (mapped) return mapped;
  const parts = name.split('.');
  if (parts.length === 2) return schemaAt(parts) ? canonicalPath(name) : undefined;
  if (parts.length !== 1) return undefined;
  const homes = sectionsHolding(name);
  return homes.length === 1 ? canonicalPath(`${homes[0]}.${name}`) : undefined;
}

function knownFlagNames(): string[] {
  const dotted = SECTIONS.flatMap((s) => Object.keys(schemaAt([s])?.properties ?? {}).map((k) => `${s}.${k}`));
  return [...Object.keys(CLI_FLAG_KEYS), ...dotted, ...dotted.map((d) => d.split('.')[1])];
}

type ParsedValue = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Values are YAML scalars, so `1e-6`, `true`, `[q_proj, v_proj]` mean what they would in the
 * file; but a key that holds text takes the flag's text verbatim (a model id `123` stays a
 * string), and a bare boolean flag (`--use_lora`, as the guide writes it) means true.
 */
function parseValue(text: string, node: SchemaNode): ParsedValue {
  const types = typesOf(node);
  if (types.includes('boolean') && text === '') return { ok: true, value: true };
  if (types.includes('string') && !/^\s*[[{]/.test(text)) return { ok: true, value: text };
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) return { ok: false, message: doc.errors[0].message };
  return { ok: true, value: doc.toJS() };
}

/**
 * Writes overrides into a raw config in place. Every flag gets a span in the overrides
 * rendered as one command line, so a problem with it can be shown where the user typed it.
 */
export function writeOverrides(raw: Record<string, unknown>, overrides: Record<string, string>): { flags: AppliedFlag[]; issues: Issue[] } {
  const flags: AppliedFlag[] = [];
  const issues: Issue[] = [];
  let offset = 0;
  for (const [key, text] of Object.entries(overrides)) {
    const flag = `--${key.trim().replace(/^-+/, '')}`;
    const token = `${flag}=${text}`;
    const index = flags.length;
    const applied: AppliedFlag = { flag, token, pointer: '', position: { line: 1, column: offset + 1, offset, length: token.length } };
    flags.push(applied);
    offset += token.length + 1;

    const target = overrideTarget(key);
    if (!target) {
      const name = flagName(key);
      const homes = name.includes('.') ? [] : sectionsHolding(name);
      const close = closestMatch(name, knownFlagNames());
      const message =
        homes.length > 1
          ? `${token}: "${name}" is in several sections; write it as ${homes.map((h) => `${h}.${name}`).join(' or ')}.`
          : `${token}: no config key "${name}"` + (close ? `; did you mean --${close}?` : '.');
      issues.push({ severity: 'error', code: 'config-unknown-override', message, pointer: '', part: 'key', flagIndex: index });
      continue;
    }
    const [section, field] = target.split('.') as [string, string];
    applied.pointer = toPointer([section, field]);
    const parsed = parseValue(text, schemaAt([section, field])!);
    if (!parsed.ok) {
      issues.push({
        severity: 'error',
        code: 'config-bad-override',
        message: `${token}: not a valid value (${parsed.message}).`,
        pointer: applied.pointer,
        part: 'value',
        flagIndex: index,
      });
      continue;
    }
    if (!isPlainObject(raw[section])) raw[section] = {};
    const holder = raw[section] as Record<string, unknown>;
    // The flag replaces the key under whatever name the file used for it, so no alias conflict.
    for (const alias of aliasesOf(target)) {
      const [aliasSection, aliasKey] = alias.split('.') as [string, string];
      const aliasHolder = raw[aliasSection];
      if (isPlainObject(aliasHolder)) delete aliasHolder[aliasKey];
    }
    holder[field] = parsed.value;
  }
  return { flags, issues };
}

/**
 * A copy of a validated config with command-line overrides applied and checked again. Problems
 * caused by a flag name it (`flag`) and quote it; the original config is left untouched.
 */
export function applyOverrides(config: TrainingConfig, overrides: Record<string, string>): TrainingConfigResult {
  const raw = structuredClone(config) as unknown as Record<string, unknown>;
  const { flags, issues } = writeOverrides(raw, overrides);
  return buildConfig(raw, { flags, issues });
}

import type { ErrorObject } from 'ajv';
import { SECTIONS, schemaAt } from './configSchema.ts';
import { closestMatch } from './didYouMean.ts';
import type { Issue } from './issue.ts';
import { pointerSegments, toPointer } from './yamlPositions.ts';

/** `dpo.beta`, `data.train_path[0].path`: how people name a key in prose. */
export function keyLabel(pointer: string): string {
  return pointerSegments(pointer)
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
}

export function valueAt(data: unknown, pointer: string): unknown {
  let value = data;
  for (const segment of pointerSegments(pointer)) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value lines)',
  array: 'a list',
  null: 'empty',
};

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? value.slice(0, 37) + '...' : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

const YAML11_BOOLEANS = /^(y|yes|n|no|on|off|true|false)$/i;

function typeHint(expected: string[], value: unknown): string {
  if (expected.includes('boolean') && typeof value === 'string' && YAML11_BOOLEANS.test(value)) {
    return ' Write true or false without quotes: YAML 1.2 reads yes/no/on/off as strings.';
  }
  if (expected.includes('object') && (value === null || value === undefined)) {
    return ' Indent its keys under it, or remove the empty section.';
  }
  return '';
}

const COMPARISONS: Record<string, string> = { '>': 'greater than', '>=': 'at least', '<': 'less than', '<=': 'at most' };

/** Why a key is unknown, and what was probably meant. */
function unknownKeyMessage(parentPointer: string, key: string): string {
  const parent = pointerSegments(parentPointer);
  const where = parent.length === 0 ? 'at the top level' : `in "${keyLabel(parentPointer)}"`;
  const base = `Unknown key "${key}" ${where}`;
  const siblings = Object.keys(schemaAt(parent)?.properties ?? {});
  const close = closestMatch(key, siblings);
  if (close) return `${base}; did you mean "${close}"?`;
  if (parent.length <= 1) {
    // Misplaced rather than misspelled: a key of another section, or a section indented too far.
    const homes = SECTIONS.filter((s) => s !== parent[0] && schemaAt([s, key]) !== undefined);
    if (homes.length > 0) return `${base}; "${key}" belongs in the "${homes[0]}" section (${homes[0]}.${key}).`;
    const section = parent.length === 1 ? closestMatch(key, SECTIONS) : undefined;
    if (section) return `${base}; "${section}" is a top-level section: check its indentation.`;
    const anywhere = SECTIONS.flatMap((s) => Object.keys(schemaAt([s])?.properties ?? {}).map((k) => `${s}.${k}`));
    const far = closestMatch(key, anywhere.map((path) => path.split('.')[1]));
    if (far) {
      const path = anywhere.find((p) => p.endsWith('.' + far));
      return `${base}; did you mean "${path}"?`;
    }
  }
  return siblings.length > 0 ? `${base}. Known keys: ${siblings.join(', ')}.` : `${base}.`;
}

/**
 * Turns ajv's errors into messages a person can act on, each with the pointer of the field it
 * is about and what to underline. `data` is what was validated, for quoting the bad value.
 */
export function describeSchemaErrors(errors: readonly ErrorObject[], data: unknown): Issue[] {
  const issues: Issue[] = [];
  const handledAnyOf = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath + '/');
  for (const error of errors) {
    if (handledAnyOf.some((prefix) => error.schemaPath.startsWith(prefix))) continue;
    const pointer = error.instancePath;
    const label = keyLabel(pointer);
    const value = valueAt(data, pointer);
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String(params.additionalProperty);
        issues.push({
          severity: 'error',
          code: 'config-unknown-key',
          message: unknownKeyMessage(pointer, key),
          pointer: pointer + toPointer([key]),
          part: 'key',
        });
        break;
      }
      case 'required': {
        const missing = String(params.missingProperty);
        const message =
          pointer === '' && missing === 'model'
            ? 'The config needs a "model" section with "name": the SFT model to start from.'
            : `"${label}" needs "${missing}".`;
        issues.push({ severity: 'error', code: 'config-missing-key', message, pointer: pointer + toPointer([missing]), at: pointer, part: 'key' });
        break;
      }
      case 'anyOf': {
        // The only anyOf in the schema: model.name under any of its accepted names.
        issues.push({
          severity: 'error',
          code: 'config-missing-key',
          message: `"${label}" needs "name": the path or Hub id of the SFT model to start from ("sft_model" is also accepted).`,
          pointer: pointer + '/name',
          at: pointer,
          part: 'key',
        });
        break;
      }
      case 'type': {
        const expected = String(params.type).split(',');
        const wanted = expected.map((t) => TYPE_NAMES[t] ?? t).join(' or ');
        issues.push({
          severity: 'error',
          code: 'config-type',
          message: `"${label}" must be ${wanted}, not ${describeValue(value)}.${typeHint(expected, value)}`,
          pointer,
          part: 'value',
        });
        break;
      }
      case 'enum': {
        const allowed = (params.allowedValues as unknown[]) ?? [];
        const close = typeof value === 'string' ? closestMatch(value, allowed.map(String)) : undefined;
        issues.push({
          severity: 'error',
          code: 'config-enum',
          message:
            `"${label}" must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, not ${describeValue(value)}` +
            (close ? `; did you mean ${JSON.stringify(close)}?` : '.'),
          pointer,
          part: 'value',
        });
        break;
      }
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        issues.push({
          severity: 'error',
          code: 'config-range',
          message: `"${label}" must be ${COMPARISONS[String(params.comparison)] ?? String(params.comparison)} ${String(params.limit)}, not ${describeValue(value)}.`,
          pointer,
          part: 'value',
        });
        break;
      case 'minLength':
        issues.push({ severity: 'error', code: 'config-invalid-value', message: `"${label}" must not be empty.`, pointer, part: 'value' });
        break;
      case 'minItems':
        issues.push({
          severity: 'error',
          code: 'config-invalid-value',
          message: `"${label}" needs at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}.`,
          pointer,
          part: 'value',
        });
        break;
      case 'uniqueItems': {
        const items = Array.isArray(value) ? value : [];
        issues.push({
          severity: 'error',
          code: 'config-invalid-value',
          message: `"${label}" lists ${JSON.stringify(items[Number(params.j)])} twice.`,
          pointer,
          part: 'value',
        });
        break;
      }
      default:
        issues.push({ severity: 'error', code: 'config-schema', message: `"${label}" ${error.message ?? 'is invalid'}.`, pointer, part: 'value' });
    }
  }
  return issues;
}

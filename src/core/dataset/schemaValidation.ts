import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { recordValidators } from './recordValidators.ts';
import type { RecordFormat } from './types.ts';

/** A schema error with the field it concerns and where to underline it. */
export interface SchemaIssue {
  code: string;
  message: string;
  /** The field the error is about (for `required`: the missing field itself). */
  pointer: string;
  /** The node to underline (for `required`: the object that lacks the field). */
  locationPointer: string;
}

const VARIANT_BY_FORMAT: Record<Exclude<RecordFormat, 'candidates' | 'implicit' | 'prompt-completion'>, string> = {
  standard: 'standard',
  instruction: 'instruction',
  conversational: 'conversational',
  alpaca: 'alpaca',
  messages: 'messages',
  text: 'text',
};

let validators: Map<string, ValidateFunction> | undefined;

/** Made once per process, on first use (precompiled in the bundles, see recordValidators.ts). */
function getValidators(): Map<string, ValidateFunction> {
  validators ??= recordValidators();
  return validators;
}

function variantFor(format: RecordFormat, record: Record<string, unknown>): string {
  if (format === 'candidates') return 'candidates';
  if (format === 'implicit') return Array.isArray(record.chosen) ? 'implicitMessages' : 'implicitText';
  if (format === 'prompt-completion') return Array.isArray(record.prompt) ? 'promptCompletionTurns' : 'promptCompletionText';
  return VARIANT_BY_FORMAT[format];
}

/** Validates a record against the schema of the format it was detected as. */
export function validateRecordSchema(record: Record<string, unknown>, format: RecordFormat): SchemaIssue[] {
  if (format === 'prompt-completion' && isTextOrTurns(record.prompt) && isTextOrTurns(record.completion) && Array.isArray(record.prompt) !== Array.isArray(record.completion))
    return [
      {
        code: 'mixed-prompt-completion',
        message: `"completion" must be ${Array.isArray(record.prompt) ? 'a list of chat messages, like "prompt"' : 'a string, like "prompt"'}: a record is either text or chat turns`,
        pointer: '/completion',
        locationPointer: '/completion',
      },
    ];
  const validate = getValidators().get(variantFor(format, record))!;
  if (validate(record)) return [];
  return describeErrors(validate.errors ?? [], format);
}

const isTextOrTurns = (value: unknown) => typeof value === 'string' || Array.isArray(value);

/** What a field accepts, by `format.field` where the formats differ, else by field. */
const ANY_OF_SHAPES: Record<string, string> = {
  prompt: 'a string, an {"instruction", "input"} object or a list of chat messages',
  candidates: 'a string or an object with a "text" string',
};

function fieldLabel(pointer: string): string {
  if (pointer === '') return 'record';
  const path = pointer.slice(1).split('/').map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`));
  return `"${path.join('').slice(1)}"`;
}

function depth(pointer: string): number {
  return pointer === '' ? 0 : pointer.split('/').length - 1;
}

/**
 * Turns ajv's errors into one message per real problem. ajv reports every failed branch of an
 * `anyOf`; the branch that got deepest into the value is the one the user meant, so its
 * errors are kept and the others dropped. When no branch got past the value's type, one
 * message lists the accepted shapes instead.
 */
function describeErrors(errors: ErrorObject[], format: RecordFormat): SchemaIssue[] {
  const dropped = new Set<ErrorObject>();
  const replaced = new Map<ErrorObject, SchemaIssue>();
  for (const anyOf of errors.filter((e) => e.keyword === 'anyOf')) {
    const prefix = anyOf.schemaPath + '/';
    const branchErrors = errors.filter((e) => e !== anyOf && e.schemaPath.startsWith(prefix));
    branchErrors.forEach((e) => dropped.add(e));
    const deepest = Math.max(-1, ...branchErrors.map((e) => depth(e.instancePath)));
    if (deepest > depth(anyOf.instancePath)) {
      const branchOf = (e: ErrorObject) => e.schemaPath.slice(prefix.length).split('/')[0];
      const best = branchOf(branchErrors.find((e) => depth(e.instancePath) === deepest)!);
      branchErrors.filter((e) => branchOf(e) === best).forEach((e) => dropped.delete(e));
      dropped.add(anyOf);
    } else {
      // For an array item ("/candidates/2") the shape is the array's: name it by the array.
      const field = anyOf.instancePath.split('/').filter((part) => !/^\d+$/.test(part)).pop();
      const shape = ANY_OF_SHAPES[`${format}.${field}`] ?? ANY_OF_SHAPES[field ?? ''] ?? 'one of the accepted shapes';
      replaced.set(anyOf, {
        code: 'schema-anyOf',
        message: `${fieldLabel(anyOf.instancePath)} must be ${shape}`,
        pointer: anyOf.instancePath,
        locationPointer: anyOf.instancePath,
      });
    }
  }
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (dropped.has(error)) continue;
    const issue = replaced.get(error) ?? describeError(error);
    const key = `${issue.pointer}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function describeError(error: ErrorObject): SchemaIssue {
  const at = error.instancePath;
  const code = `schema-${error.keyword}`;
  switch (error.keyword) {
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      const pointer = `${at}/${missing}`;
      return { code, message: `missing required field ${fieldLabel(pointer)}`, pointer, locationPointer: at };
    }
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v));
      return { code, message: `${fieldLabel(at)} must be one of ${allowed.join(', ')}`, pointer: at, locationPointer: at };
    }
    case 'type': {
      const type = (error.params as { type: string | string[] }).type;
      const expected = Array.isArray(type) ? type.join(' or ') : type;
      return { code, message: `${fieldLabel(at)} must be ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`, pointer: at, locationPointer: at };
    }
    default:
      return { code, message: `${fieldLabel(at)} ${error.message ?? 'is invalid'}`, pointer: at, locationPointer: at };
  }
}

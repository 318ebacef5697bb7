import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import candidatesSchema from '../../../schemas/candidates-record.schema.json';
import pairSchema from '../../../schemas/preference-pair.schema.json';
import sftSchema from '../../../schemas/sft-record.schema.json';

/**
 * The record schemas as validate functions, by variant. Compiling them with ajv costs about
 * 100 ms, paid by every process that validates; the bundles (scripts/build.mjs) replace this
 * module with the same functions compiled ahead of time by ajv's standalone code generator, so
 * only code run from source (the tests) compiles here. Both come from the same ajv options and
 * the same schema references below.
 */

export const AJV_OPTIONS = { allErrors: true, allowUnionTypes: true } as const;

/** Variant name → schema reference. */
export const RECORD_SCHEMA_REFS: Record<string, string> = {
  standard: `${pairSchema.$id}#/$defs/standard`,
  instruction: `${pairSchema.$id}#/$defs/instruction`,
  conversational: `${pairSchema.$id}#/$defs/conversational`,
  implicitText: `${pairSchema.$id}#/$defs/implicitText`,
  implicitMessages: `${pairSchema.$id}#/$defs/implicitMessages`,
  candidates: candidatesSchema.$id,
  alpaca: `${sftSchema.$id}#/$defs/alpaca`,
  promptCompletionText: `${sftSchema.$id}#/$defs/promptCompletionText`,
  promptCompletionTurns: `${sftSchema.$id}#/$defs/promptCompletionTurns`,
  messages: `${sftSchema.$id}#/$defs/messages`,
  text: `${sftSchema.$id}#/$defs/text`,
};

export const RECORD_SCHEMAS = [pairSchema, candidatesSchema, sftSchema];

export function recordValidators(): Map<string, ValidateFunction> {
  const ajv = new Ajv2020(AJV_OPTIONS);
  for (const schema of RECORD_SCHEMAS) ajv.addSchema(schema);
  return new Map(Object.entries(RECORD_SCHEMA_REFS).map(([variant, ref]) => [variant, ajv.getSchema(ref)!]));
}

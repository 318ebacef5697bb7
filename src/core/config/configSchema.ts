import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import schemaJson from '../../../schemas/training-config.schema.json';

/** The subset of JSON Schema the training-config schema uses; enough to walk it. */
export interface SchemaNode {
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  /** A local reference (`#/properties/data`): a stage's own section has the shared section's schema. */
  $ref?: string;
}

/** The training-config JSON Schema (also what an editor's YAML/JSON validation can be pointed at). */
export const trainingConfigSchema = schemaJson as typeof schemaJson & SchemaNode;
export const TRAINING_CONFIG_SCHEMA_ID: string = schemaJson.$id;

/** The sections in file order, which is also the order problems and hints list them in. */
export const SECTIONS = ['model', 'data', 'dpo', 'sft', 'training', 'lora', 'quantization', 'review'] as const;
export type SectionName = (typeof SECTIONS)[number];

let validator: ValidateFunction | undefined;

/** Compiled on first use and kept: compiling is the costly part, and most processes never need it. */
export function getConfigValidator(): ValidateFunction {
  validator ??= new Ajv2020({ allErrors: true, allowUnionTypes: true }).compile(trainingConfigSchema);
  return validator;
}

/** The node a local `$ref` points at, with the referring node's own description. */
function dereference(node: SchemaNode): SchemaNode {
  if (!node.$ref?.startsWith('#/')) return node;
  const target = schemaAt(node.$ref.slice(2).split('/').filter((part) => part !== 'properties'));
  return target ? { ...target, ...(node.description ? { description: node.description } : {}), default: undefined } : node;
}

/**
 * The schema describing the value at `path` (array indices step into `items`, local `$ref`s are
 * followed). A referenced section brings no defaults: a stage's own section only overrides.
 */
export function schemaAt(path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = trainingConfigSchema;
  for (const segment of path) {
    if (!node) return undefined;
    node = node.properties?.[segment] ?? (/^\d+$/.test(segment) ? node.items : undefined);
    if (node) node = dereference(node);
  }
  return node;
}

/** JSON types a schema node admits; an enum without `type` admits the types of its values. */
export function typesOf(node: SchemaNode): string[] {
  if (node.type !== undefined) return Array.isArray(node.type) ? node.type : [node.type];
  if (node.enum) return [...new Set(node.enum.map((v) => (Number.isInteger(v) ? 'integer' : typeof v)))];
  return [];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Fills in the schema's defaults, recursively, creating absent sections from their own
 * `default` first. The schema is the one place defaults are written down, so the editor's
 * hover text and the trainer can never disagree about them.
 */
export function applySchemaDefaults(value: unknown, node: SchemaNode = trainingConfigSchema): void {
  if (isPlainObject(value) && node.properties) {
    for (const [key, child] of Object.entries(node.properties)) {
      if (!(key in value) && child.default !== undefined) value[key] = structuredClone(child.default);
      if (key in value) applySchemaDefaults(value[key], child);
    }
  } else if (Array.isArray(value) && node.items) {
    for (const item of value) applySchemaDefaults(item, node.items);
  }
}

/**
 * A copy with keys in the schema's order (unknown keys last): a config that is printed or shown
 * in the dashboard reads the same whatever order the file and the flags gave it in.
 */
export function orderLikeSchema<T>(value: T, node: SchemaNode = trainingConfigSchema): T {
  if (Array.isArray(value)) return value.map((item) => (node.items ? orderLikeSchema(item, node.items) : item)) as T;
  if (!isPlainObject(value) || !node.properties) return value;
  const ordered: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node.properties)) {
    if (key in value) ordered[key] = orderLikeSchema(value[key], child);
  }
  for (const key of Object.keys(value)) if (!(key in ordered)) ordered[key] = value[key];
  return ordered as T;
}

/**
 * Column mapping: published datasets name their fields their own way (`question` /
 * `response_j` / `response_k`, `instruction` / `chosen_response` / `rejected_response`). A
 * mapping says which column holds which field of a record, and every reader applies it before a
 * record is detected, validated and trained on; problems are reported under the file's own names.
 */

/** The record fields a column can be mapped to: those of the pair, candidates and SFT formats. */
export const MAPPABLE_FIELDS = ['prompt', 'chosen', 'rejected', 'candidates', 'completion', 'messages', 'text', 'instruction', 'input', 'output'] as const;
export type MappableField = (typeof MAPPABLE_FIELDS)[number];

/** Field → the column that holds it. */
export type ColumnMapping = Readonly<Partial<Record<MappableField, string>>>;

export function isMappableField(name: string): name is MappableField {
  return (MAPPABLE_FIELDS as readonly string[]).includes(name);
}

export function isEmptyMapping(mapping: ColumnMapping | undefined): boolean {
  return !mapping || Object.keys(mapping).length === 0;
}

export class ColumnMappingError extends Error {}

/**
 * `prompt=question,chosen=response_j,rejected=response_k` (the `--columns` flag). A column name
 * may hold any character but `,`; the field must be one a record has.
 */
export function parseColumnsFlag(text: string): ColumnMapping {
  const mapping: Partial<Record<MappableField, string>> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) throw new ColumnMappingError(`--columns: "${part}" is not field=column (e.g. prompt=question,chosen=response_j,rejected=response_k)`);
    const field = part.slice(0, eq).trim();
    const column = part.slice(eq + 1).trim();
    if (!isMappableField(field)) throw new ColumnMappingError(`--columns: "${field}" is not a record field; map one of ${MAPPABLE_FIELDS.join(', ')}`);
    if (mapping[field] !== undefined) throw new ColumnMappingError(`--columns: "${field}" is mapped twice`);
    mapping[field] = column;
  }
  return mapping;
}

export function describeMapping(mapping: ColumnMapping): string {
  return Object.entries(mapping)
    .map(([field, column]) => `${field}=${column}`)
    .join(',');
}

/**
 * The record a row (or a JSON object) stands for: each mapped column under its field's name,
 * every other column kept as it is (scores, ids, sources travel with the record). A mapped field
 * that is also a column of its own is replaced by the mapped column.
 */
export function applyColumnMapping(row: Record<string, unknown>, mapping: ColumnMapping | undefined): Record<string, unknown> {
  if (!mapping || isEmptyMapping(mapping)) return row;
  const mappedColumns = new Set(Object.values(mapping));
  const out: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(mapping)) if (column !== undefined && Object.hasOwn(row, column)) out[field] = row[column];
  // A field whose mapped column this row lacks keeps its own name's value, if it has one.
  for (const [key, value] of Object.entries(row)) if (!mappedColumns.has(key) && !Object.hasOwn(out, key)) out[key] = value;
  return out;
}

/** The part of a mapping whose columns a file has: a workspace-wide mapping leaves files that already use the fields' names alone. */
export function mappingFor(columns: readonly string[], mapping: ColumnMapping | undefined): ColumnMapping | undefined {
  if (!mapping) return undefined;
  const have = new Set(columns);
  const applied = Object.fromEntries(Object.entries(mapping).filter(([, column]) => column !== undefined && have.has(column)));
  return Object.keys(applied).length ? applied : undefined;
}

/** The column of the file that a record field comes from. */
export function columnOf(field: string, mapping: ColumnMapping | undefined): string {
  return (mapping && isMappableField(field) ? mapping[field] : undefined) ?? field;
}

/** A JSON pointer into the mapped record, as a pointer into the row the file holds. */
export function unmapPointer(pointer: string, mapping: ColumnMapping | undefined): string {
  if (!mapping || !pointer.startsWith('/')) return pointer;
  const slash = pointer.indexOf('/', 1);
  const head = slash === -1 ? pointer.slice(1) : pointer.slice(1, slash);
  const column = columnOf(head.replace(/~1/g, '/').replace(/~0/g, '~'), mapping);
  return `/${column.replace(/~/g, '~0').replace(/\//g, '~1')}${slash === -1 ? '' : pointer.slice(slash)}`;
}

/** The mapped columns a file lacks (and has no column of the field's own name either): reported once for the file, not for every row. */
export function missingMappedColumns(columns: readonly string[], mapping: ColumnMapping | undefined): Array<{ field: string; column: string }> {
  if (!mapping) return [];
  const have = new Set(columns);
  return Object.entries(mapping)
    .filter(([field, column]) => column !== undefined && !have.has(column) && !have.has(field))
    .map(([field, column]) => ({ field, column: column! }));
}

export function describeMissingColumns(missing: ReadonlyArray<{ field: string; column: string }>, columns: readonly string[]): string {
  const list = missing.map((m) => `"${m.column}" (mapped to ${m.field})`).join(', ');
  return `The column mapping names ${missing.length === 1 ? 'a column' : 'columns'} the file does not have: ${list}; its columns are ${columns.map((c) => `"${c}"`).join(', ') || 'none'}`;
}

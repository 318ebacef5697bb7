import { applyCandidateChoice, applyPairDecision, clearDecision, type DecisionContext, type Preference } from '../labeling/decisions.ts';
import { setAtPointer, setFields, swapFields } from '../labeling/recordEdits.ts';
import { columnOf, type ColumnMapping } from '../dataset/columnMapping.ts';

/** What a labeler can do to one record from the pair editor. */
export type RecordAction =
  /** Which stored answer they preferred ("chosen"/"rejected" name the fields, not the screen sides). */
  | { kind: 'decide'; preference: Preference }
  /** Forget the decision; the texts stay where they are. */
  | { kind: 'clearDecision' }
  /** Exchange chosen and rejected: the stored preference was the wrong way round. */
  | { kind: 'swap' }
  | { kind: 'chooseCandidates'; best?: number; worst?: number; ranking?: number[] }
  /** An empty note removes the field. */
  | { kind: 'note'; note: string }
  | { kind: 'editText'; pointer: string; value: string };

/** Refused because of what the record holds (not a programming error): shown to the labeler. */
export class RecordActionError extends Error {}

type JsonObject = Record<string, unknown>;

function parseObject(source: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch {
    throw new RecordActionError('The record is not valid JSON: fix it in the text editor first');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new RecordActionError('The record is not a JSON object');
  return value as JsonObject;
}

function valueAt(record: unknown, pointer: string): unknown {
  let node = record;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as JsonObject)[key];
  }
  return node;
}

function checkCandidateIndices(candidates: unknown, action: Extract<RecordAction, { kind: 'chooseCandidates' }>): void {
  if (!Array.isArray(candidates)) throw new RecordActionError('This record has no "candidates" list');
  const count = candidates.length;
  const picked = action.ranking ?? [action.best, action.worst].filter((i): i is number => i !== undefined);
  if (picked.length < 2) throw new RecordActionError('Pick a best and a worst candidate (or rank them)');
  for (const i of picked) {
    if (!Number.isInteger(i) || i < 0 || i >= count) throw new RecordActionError(`There is no candidate ${i + 1}: the record has ${count}`);
  }
  if (new Set(picked).size !== picked.length) throw new RecordActionError('A candidate can be picked only once');
}

/**
 * The record's new source after an action, changed only where the action says (see
 * recordEdits.ts): everything else in the record stays as the user wrote it.
 */
export function applyRecordAction(source: string, action: RecordAction, context: DecisionContext = {}, columns?: ColumnMapping): string {
  const record = parseObject(source);
  // With a column mapping the record's fields live under the file's own names (where it has them).
  const field = (name: string) => {
    const column = columnOf(name, columns);
    return column in record ? column : name;
  };
  const chosen = field('chosen');
  const rejected = field('rejected');
  const isPair = chosen in record && rejected in record && !(field('candidates') in record);
  switch (action.kind) {
    case 'decide':
      if (!isPair) throw new RecordActionError('Only a pair (chosen and rejected) takes a decision');
      return applyPairDecision(source, action.preference, context, { chosen, rejected });
    case 'clearDecision':
      return field('candidates') in record ? setFields(source, { best: undefined, worst: undefined, ranking: undefined, time_ms: undefined, labeled_at: undefined }) : clearDecision(source);
    case 'swap':
      if (!isPair) throw new RecordActionError('Only a pair (chosen and rejected) can be swapped');
      // A decision confirmed the old order; after the swap it would claim the opposite.
      return clearDecision(swapFields(source, chosen, rejected));
    case 'chooseCandidates': {
      checkCandidateIndices(record[field('candidates')], action);
      // A new best/worst choice replaces an older ranking, which would otherwise contradict it.
      const base = action.ranking ? source : setFields(source, { ranking: undefined });
      return applyCandidateChoice(base, action.ranking ? { ranking: action.ranking } : { best: action.best!, worst: action.worst! }, context);
    }
    case 'note': {
      const note = action.note.trim() ? action.note : undefined;
      return setFields(source, { note });
    }
    case 'editText': {
      // The view's pointers name the record's fields; the text lives under the file's column.
      const head = action.pointer.slice(1).split('/')[0]!.replace(/~1/g, '/').replace(/~0/g, '~');
      const pointer = `/${field(head).replace(/~/g, '~0').replace(/\//g, '~1')}${action.pointer.slice(1 + action.pointer.slice(1).split('/')[0]!.length)}`;
      if (typeof valueAt(record, pointer) !== 'string') throw new RecordActionError(`${action.pointer} is not a text field of this record`);
      return setAtPointer(source, pointer, action.value);
    }
  }
}

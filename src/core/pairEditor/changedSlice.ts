/** The part of a text that an edit really changes: [start, end) of `before`, replaced by `text`. */
export interface ChangedSlice {
  start: number;
  end: number;
  text: string;
}

/**
 * The smallest single replacement that turns `before` into `after` (their common beginning and
 * end left out). Writing only this keeps a text editor's cursor, folding and undo step local to
 * what changed. Never splits a surrogate pair. Undefined when nothing changes.
 */
export function changedSlice(before: string, after: string): ChangedSlice | undefined {
  if (before === after) return undefined;
  const shorter = Math.min(before.length, after.length);
  let start = 0;
  while (start < shorter && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (end < shorter - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
  if (start > 0 && isHighSurrogate(before.charCodeAt(start - 1))) start--;
  if (end > 0 && isLowSurrogate(before.charCodeAt(before.length - end))) end--;
  return { start, end: before.length - end, text: after.slice(start, after.length - end) };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

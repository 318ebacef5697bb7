import { visit } from 'jsonc-parser';

/**
 * Duplicate keys in a record's JSON: legal to parse, but every reader keeps only one of the
 * values (JSON.parse and Python's json the last), so the text trained on may not be the one a
 * person reads in the file. Finding them exactly needs a second, slower parse; a count of the
 * keys in the source against the keys JSON.parse kept says first, in one native scan, whether
 * that parse is needed at all.
 */

export interface DuplicateKey {
  key: string;
  /** JSON pointer of the object holding it. */
  pointer: string;
  /** Where the second occurrence's key starts in the source. */
  offset: number;
  length: number;
}

/** Keys of every object in a parsed value (iterative: a record may nest deeply). */
function parsedKeyCount(value: unknown): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object') continue;
    if (Array.isArray(item)) {
      for (const element of item) if (element !== null && typeof element === 'object') stack.push(element);
      continue;
    }
    for (const key in item) {
      count++;
      const element = (item as Record<string, unknown>)[key];
      if (element !== null && typeof element === 'object') stack.push(element);
    }
  }
  return count;
}

/** `":` outside strings ends a key (inside a string a quote is escaped: `\":`). */
function sourceKeyCount(source: string): number {
  let count = 0;
  for (let i = source.indexOf('":'); i !== -1; i = source.indexOf('":', i + 2)) {
    let backslashes = 0;
    for (let j = i - 1; j >= 0 && source.charCodeAt(j) === 0x5c; j--) backslashes++;
    if (backslashes % 2 === 0) count++;
  }
  return count;
}

const escapePointer = (segment: string | number) => String(segment).replace(/~/g, '~0').replace(/\//g, '~1');

export function findDuplicateKey(source: string, parsed: unknown): DuplicateKey | undefined {
  if (sourceKeyCount(source) === parsedKeyCount(parsed)) return undefined;
  const objects: Array<Set<string>> = [];
  let found: DuplicateKey | undefined;
  try {
    visit(source, {
      onObjectBegin: () => void objects.push(new Set()),
      onObjectEnd: () => void objects.pop(),
      onObjectProperty: (key, offset, length, _line, _column, pathSupplier) => {
        const keys = objects.at(-1);
        if (!keys || found) return;
        if (keys.has(key)) found = { key, pointer: pathSupplier().map((s) => `/${escapePointer(s)}`).join(''), offset, length };
        keys.add(key);
      },
    });
  } catch {
    // Too deep for the visitor: no place to name.
  }
  return found;
}

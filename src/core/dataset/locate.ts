import { findNodeAtLocation, parse, parseTree, printParseErrorCode, type ParseError, type Segment } from 'jsonc-parser';

/** A span relative to the start of a record's source text. */
export interface RelativeSpan {
  offset: number;
  length: number;
}

function pointerToPath(pointer: string): Segment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/**
 * Where the value at `pointer` sits in a record's source. Only called for records that have a
 * problem, so the parse into a tree (which JSON.parse can't give) costs nothing on clean data.
 * Falls back to the nearest existing ancestor, then the whole record.
 */
export function locatePointer(source: string, pointer: string): RelativeSpan {
  let root;
  try {
    root = parseTree(source, [], { disallowComments: true });
  } catch {
    // A pathologically deep record can exhaust the parser's stack: underline the record.
    root = undefined;
  }
  const path = pointerToPath(pointer);
  if (root) {
    for (let n = path.length; n >= 0; n--) {
      const node = findNodeAtLocation(root, path.slice(0, n));
      if (node) return { offset: node.offset, length: node.length };
    }
  }
  // Too deep for the tree: the field's own value, found by a flat scan, is still a place to point at.
  const field = typeof path[0] === 'string' ? topLevelValue(source, path[0]) : undefined;
  return field ?? { offset: 0, length: source.length };
}

/**
 * The span of the value of a top-level key of an object, by one pass over the characters
 * (no recursion, so any depth): strings are skipped whole, brackets counted.
 */
export function topLevelValue(source: string, key: string): RelativeSpan | undefined {
  let depth = 0;
  let lastKey: string | undefined;
  let valueStart = -1;
  const span = (end: number) => {
    let last = end;
    while (last > valueStart && /\s/.test(source[last - 1]!)) last--;
    return { offset: valueStart, length: Math.max(1, last - valueStart) };
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '"') {
      const start = i;
      for (i++; i < source.length && source[i] !== '"'; i++) if (source[i] === '\\') i++;
      if (depth === 1 && valueStart < 0) {
        try {
          lastKey = JSON.parse(source.slice(start, i + 1)) as string;
        } catch {
          lastKey = undefined;
        }
      }
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0 && valueStart >= 0) return span(i);
    } else if (depth === 1 && c === ',') {
      if (valueStart >= 0) return span(i);
      lastKey = undefined;
    } else if (depth === 1 && c === ':' && valueStart < 0 && lastKey === key) {
      valueStart = i + 1;
      while (valueStart < source.length && /\s/.test(source[valueStart]!)) valueStart++;
    }
  }
  return valueStart >= 0 ? span(source.length) : undefined;
}

const PARSE_ERROR_MESSAGES: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ','",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: 'unexpected text after the end of the record',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'control character in a string (escape it, e.g. \\n)',
};

/** Describes why `source` is not valid JSON, at the first place it goes wrong. */
export function describeJsonSyntaxError(source: string, nativeError: unknown): RelativeSpan & { message: string } {
  const errors: ParseError[] = [];
  try {
    parse(source, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  } catch {
    errors.length = 0;
  }
  const first = errors[0];
  if (first) {
    const code = printParseErrorCode(first.error);
    return { offset: first.offset, length: Math.max(1, first.length), message: `Invalid JSON: ${PARSE_ERROR_MESSAGES[code] ?? code}` };
  }
  const detail = nativeError instanceof Error ? nativeError.message : String(nativeError);
  // Too deep for the tolerant parser: V8's own message says where it stopped.
  const position = /at position (\d+)/.exec(detail);
  if (position) return { offset: Number(position[1]), length: 1, message: `Invalid JSON: ${detail.replace(/^SyntaxError: /, '')}` };
  return { offset: 0, length: source.length, message: `Invalid JSON: ${detail}` };
}

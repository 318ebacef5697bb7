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
  if (root) {
    const path = pointerToPath(pointer);
    for (let n = path.length; n >= 0; n--) {
      const node = findNodeAtLocation(root, path.slice(0, n));
      if (node) return { offset: node.offset, length: node.length };
    }
  }
  return { offset: 0, length: source.length };
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
  return { offset: 0, length: source.length, message: `Invalid JSON: ${detail}` };
}

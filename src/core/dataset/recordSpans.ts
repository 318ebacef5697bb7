import { printParseErrorCode, visit, type ParseErrorCode } from 'jsonc-parser';
import type { FileKind } from './types.ts';

/** Where one record's text sits in a file. */
export interface RecordSpan {
  index: number;
  /** 1-based line and column of the record's first character. */
  line: number;
  column: number;
  offset: number;
  length: number;
  source: string;
}

/** A problem with the file as a whole rather than with one record. */
export interface FileIssue {
  code: string;
  message: string;
  offset: number;
  length: number;
  line: number;
  column: number;
}

export interface SplitResult {
  /** The kind the content really is, which may differ from what its extension says. */
  kind: FileKind;
  spans: RecordSpan[];
  issues: FileIssue[];
}

/**
 * Calls `visit` for every non-blank line of JSON Lines text. CRLF line ends, blank lines and
 * a byte order mark are tolerated; the `\r` is not part of the record's source, so an edit
 * that replaces a record keeps the file's line ends.
 */
export function forEachJsonlLine(text: string, visitLine: (span: RecordSpan) => void, start = { offset: 0, line: 1, index: 0 }): { index: number } {
  let index = start.index;
  let line = start.line;
  let pos = start.offset;
  if (pos === 0 && text.charCodeAt(0) === 0xfeff) pos = 1;
  while (pos <= text.length) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = text.length;
    let contentEnd = end;
    if (contentEnd > pos && text.charCodeAt(contentEnd - 1) === 13) contentEnd--;
    if (!isBlankRange(text, pos, contentEnd)) {
      visitLine({ index: index++, line, column: 1, offset: pos, length: contentEnd - pos, source: text.slice(pos, contentEnd) });
    }
    if (end === text.length) break;
    pos = end + 1;
    line++;
  }
  return { index };
}

function isBlankRange(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** 1-based line and column of `offset`, counting from a known line start. */
export function lineColumnAt(text: string, offset: number, from = { offset: 0, line: 1 }): { line: number; column: number } {
  let line = from.line;
  let lineStart = from.offset;
  for (let i = text.indexOf('\n', from.offset); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

function firstContentOffset(text: string): number {
  const match = /[^\s\uFEFF]/.exec(text);
  return match ? match.index : -1;
}

function issueAt(text: string, code: string, message: string, offset: number, length: number): FileIssue {
  return { code, message, offset, length, ...lineColumnAt(text, offset) };
}

/**
 * Splits the text of a dataset file into its records' spans. The file's extension says what
 * it should hold, but the content decides: a JSON array saved as `.jsonl`, or JSON Lines saved
 * as `.json`, is reported once and then read for what it is, so every record is still checked.
 */
export function splitRecords(text: string, declared: FileKind): SplitResult {
  const first = firstContentOffset(text);
  if (first === -1) {
    return { kind: declared, spans: [], issues: [issueAt(text, 'empty-file', 'The file is empty: it holds no records', 0, 0)] };
  }
  // Binary: NUL bytes in a file that does not start like JSON Lines. JSON Lines with a NUL line
  // (a crash can leave a block of zeros) are read line by line, and that line is reported.
  if (text.slice(0, 8192).includes('\u0000') && (declared !== 'jsonl' || text.charCodeAt(first) !== 0x7b)) {
    return { kind: declared, spans: [], issues: [issueAt(text, 'binary-file', 'This is a binary file, not a JSON or JSON Lines dataset', 0, 0)] };
  }
  const startsArray = text.charCodeAt(first) === 0x5b; // '['
  if (declared === 'jsonl') {
    if (!startsArray) return { kind: 'jsonl', spans: jsonlSpans(text), issues: [] };
    const split = splitJsonArray(text, first);
    split.issues.unshift(
      issueAt(text, 'json-array-in-jsonl', 'This .jsonl file holds a JSON array, but JSON Lines needs one record per line: rename it to .json, or write each record on its own line', first, 1),
    );
    return split;
  }
  if (startsArray) return splitJsonArray(text, first);
  const spans = jsonlSpans(text);
  const second = spans[1];
  if (second && startsAsObject(spans[0]!.source) && startsAsObject(second.source) && parsesAsJson(spans[0]!.source)) {
    return {
      kind: 'jsonl',
      spans,
      issues: [
        issueAt(text, 'jsonl-in-json-file', 'This .json file holds JSON Lines (one record per line), but a .json dataset must be an array of records: rename it to .jsonl, or wrap the records in [ ] with commas', second.offset, second.length),
      ],
    };
  }
  const whole = text.slice(first).trimEnd();
  const { line, column } = lineColumnAt(text, first);
  const issues = [issueAt(text, 'not-an-array', 'A .json dataset must be an array of records, [ {...}, {...} ]', first, whole.length)];
  // A lone object is still worth checking as a record; a lone scalar is not a record at all.
  return { kind: 'json', spans: startsAsObject(whole) ? [{ index: 0, line, column, offset: first, length: whole.length, source: whole }] : [], issues };
}

function jsonlSpans(text: string): RecordSpan[] {
  const spans: RecordSpan[] = [];
  forEachJsonlLine(text, (span) => spans.push(span));
  return spans;
}

function startsAsObject(source: string): boolean {
  return source.trimStart().startsWith('{');
}

function parsesAsJson(source: string): boolean {
  try {
    JSON.parse(source);
    return true;
  } catch {
    return false;
  }
}

/** Finds the top-level elements of a JSON array, with jsonc-parser's positions. */
function splitJsonArray(text: string, arrayStart: number): SplitResult {
  const spans: RecordSpan[] = [];
  const errors: FileIssue[] = [];
  let depth = 0;
  let elementStart = -1;
  let elementLine = 0;
  let elementColumn = 0;
  let arrayClosed = false;
  const push = (end: number) => {
    spans.push({ index: spans.length, line: elementLine, column: elementColumn, offset: elementStart, length: end - elementStart, source: text.slice(elementStart, end) });
  };
  const begin = (offset: number, _length: number, line: number, character: number) => {
    if (depth === 1) {
      elementStart = offset;
      elementLine = line + 1;
      elementColumn = character + 1;
    }
    depth++;
  };
  const end = (offset: number, length: number) => {
    depth--;
    if (depth === 1 && elementStart >= 0) {
      push(offset + length);
      elementStart = -1;
    }
    if (depth === 0) arrayClosed = true;
  };
  try {
    visit(
      text.slice(0, arrayStart).replace(/[^\n]/g, ' ') + text.slice(arrayStart),
      {
        onObjectBegin: begin,
        onObjectEnd: end,
        onArrayBegin: begin,
        onArrayEnd: end,
        onLiteralValue: (_value, offset, length, line, character) => {
          if (depth === 1) {
            elementStart = offset;
            elementLine = line + 1;
            elementColumn = character + 1;
            push(offset + length);
            elementStart = -1;
          }
        },
        onError: (error, offset, length, line, character) => {
          errors.push({ code: 'invalid-json', message: describeArrayError(error, arrayClosed), offset, length: Math.max(1, length), line: line + 1, column: character + 1 });
        },
      },
      { disallowComments: true, allowTrailingComma: false },
    );
  } catch {
    errors.push(issueAt(text, 'invalid-json', 'The JSON is nested too deeply to read', arrayStart, 1));
  }
  // An error inside an element is reported by that record's own check, with a better message.
  const insideElement = (offset: number) => spans.some((s) => offset > s.offset && offset < s.offset + s.length);
  return { kind: 'json', spans, issues: errors.filter((e) => !insideElement(e.offset)) };
}

function describeArrayError(error: ParseErrorCode, arrayClosed: boolean): string {
  switch (printParseErrorCode(error)) {
    case 'CommaExpected':
      return "Invalid JSON: expected ',' between records";
    case 'EndOfFileExpected':
      return arrayClosed ? 'Invalid JSON: unexpected text after the end of the array' : "Invalid JSON: expected ',' between records";
    case 'ValueExpected':
      return 'Invalid JSON: expected a record';
    case 'CloseBracketExpected':
      return "Invalid JSON: expected ']' at the end of the array";
    case 'InvalidCommentToken':
      return 'Invalid JSON: comments are not allowed';
    default:
      return 'Invalid JSON between records';
  }
}

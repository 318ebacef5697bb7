import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { DatasetValidation, type ValidationResult } from './datasetValidation.ts';
import { DEFAULT_LINT_OPTIONS, type LintOptions } from './lintRules.ts';
import { analyzeRecord } from './recordAnalysis.ts';
import { validateText, fileKindOf } from './validateText.ts';

const CHUNK_BYTES = 8 * 1024 * 1024;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Validates a dataset file from disk. JSON Lines are streamed line by line in fixed-size chunks
 * and no record is kept once checked, so memory does not grow with the file; anything else is
 * read whole. Throws only for I/O errors (missing file, a directory, unreadable).
 */
export function validateFile(path: string, options: LintOptions = DEFAULT_LINT_OPTIONS): ValidationResult {
  const head = readHead(path);
  const kind = fileKindOf(path);
  if (kind !== 'jsonl' || looksLikeJsonArray(head) || head.includes(0)) {
    const bytes = readFileSync(path);
    const text = bytes.toString('utf8');
    const result = validateText(text, path, options);
    const badByte = text.includes('\uFFFD') && !head.includes(0) ? firstInvalidUtf8(bytes) : -1;
    if (badByte >= 0) {
      const before = bytes.toString('utf8', 0, badByte);
      const lineStart = before.lastIndexOf('\n') + 1;
      const line = before.split('\n').length;
      result.problems.unshift({ severity: 'error', code: 'invalid-utf8', message: `Invalid UTF-8 at byte ${badByte + 1} of the file: the file must be saved as UTF-8`, line, column: before.length - lineStart + 1, offset: before.length, length: 1, pointer: '' });
      result.errorCount++;
    }
    const { records: _records, ...summary } = result;
    return summary;
  }
  return validateJsonlStream(path, options);
}

function readHead(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(8192);
    return head.subarray(0, readSync(fd, head, 0, head.length, 0));
  } finally {
    closeSync(fd);
  }
}

function looksLikeJsonArray(head: Buffer): boolean {
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  return /^\s*\[/.test(text);
}

function firstInvalidUtf8(bytes: Buffer): number {
  for (let i = 0; i < bytes.length; ) {
    const step = utf8SequenceLength(bytes, i);
    if (step === 0) return i;
    i += step;
  }
  return -1;
}

function validateJsonlStream(path: string, options: LintOptions): ValidationResult {
  const validation = new DatasetValidation(options, 'jsonl');
  const fd = openSync(path, 'r');
  let carry = Buffer.alloc(0);
  let line = 1;
  let offset = 0;
  let index = 0;
  let sawContent = false;
  const visitLine = (bytes: Buffer, start: number, end: number, isFirst: boolean) => {
    let from = start;
    if (isFirst && bytes[from] === 0xef && bytes[from + 1] === 0xbb && bytes[from + 2] === 0xbf) from += 3;
    let to = end;
    const hadCarriageReturn = to > from && bytes[to - 1] === 13;
    if (hadCarriageReturn) to--;
    const source = bytes.toString('utf8', from, to);
    if (source.trim().length > 0) {
      sawContent = true;
      const span = { index: index++, line, column: 1, offset, length: source.length, source };
      const analysis = analyzeRecord(source, options);
      validation.addRecord(span, analysis);
      if (source.includes('\uFFFD')) reportInvalidUtf8(validation, bytes.subarray(from, to), span);
    }
    offset += source.length + (hadCarriageReturn ? 2 : 1);
    line++;
  };
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let first = true;
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      const bytes = carry.length ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      let start = 0;
      for (let nl = bytes.indexOf(10, start); nl !== -1; nl = bytes.indexOf(10, start)) {
        visitLine(bytes, start, nl, first);
        first = false;
        start = nl + 1;
      }
      // The chunk buffer is reused by the next read, so the unfinished line must be copied out.
      carry = Buffer.from(bytes.subarray(start));
    }
    if (carry.length) visitLine(carry, 0, carry.length, first);
  } finally {
    closeSync(fd);
  }
  if (!sawContent) validation.addFileIssue({ code: 'empty-file', message: 'The file is empty: it holds no records', offset: 0, length: 0, line: 1, column: 1 });
  return validation.finish();
}

/** U+FFFD may be in the file on purpose; only bytes that fail strict decoding are an error. */
function reportInvalidUtf8(validation: DatasetValidation, bytes: Buffer, span: { index: number; line: number; offset: number }) {
  try {
    strictUtf8.decode(bytes);
    return;
  } catch {
    // Fall through to find where.
  }
  const good = firstInvalidUtf8(bytes);
  const column = bytes.toString('utf8', 0, good).length + 1;
  validation.addProblem({
    severity: 'error',
    code: 'invalid-utf8',
    message: `Invalid UTF-8 at byte ${good + 1} of the line: the file must be saved as UTF-8`,
    line: span.line,
    column,
    offset: span.offset + column - 1,
    length: 1,
    pointer: '',
    recordIndex: span.index,
  });
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the bytes there are invalid. */
function utf8SequenceLength(bytes: Buffer, i: number): number {
  const b = bytes[i]!;
  if (b < 0x80) return 1;
  const need = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  if (need === 0 || i + need > bytes.length) return 0;
  // The second byte's range is narrower after some lead bytes: that rules out overlong forms,
  // UTF-16 surrogates and code points past U+10FFFF (RFC 3629, table 3-7 of Unicode).
  const second = bytes[i + 1]!;
  const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
  const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
  if (second < low || second > high) return 0;
  for (let k = 2; k < need; k++) {
    const c = bytes[i + k]!;
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return need;
}

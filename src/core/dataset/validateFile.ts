import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { DatasetValidation, type ValidationResult } from './datasetValidation.ts';
import { DEFAULT_LINT_OPTIONS, type LintOptions } from './lintRules.ts';
import { analyzeRecord, type RecordAnalysis } from './recordAnalysis.ts';
import { RecordLocations } from './compactTables.ts';
import { samePairTexts } from './datasetLinter.ts';
import type { RecordSpan } from './recordSpans.ts';
import { validateText, fileKindOf } from './validateText.ts';

const CHUNK_BYTES = 8 * 1024 * 1024;
/** Longest line read as a record: far past any real one, and below what a JavaScript string holds. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;
/** Largest file read whole (a JSON array): a JavaScript string holds about 512 M characters. */
export const MAX_WHOLE_FILE_BYTES = 512 * 1024 * 1024;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Validates a dataset file from disk. JSON Lines are streamed line by line in fixed-size chunks
 * and no record is kept once checked, so memory does not grow with the file; anything else is
 * read whole. Throws only for I/O errors (missing file, a directory, unreadable).
 */
export function validateFile(path: string, options: LintOptions = DEFAULT_LINT_OPTIONS): ValidationResult {
  const head = readHead(path);
  const kind = fileKindOf(path);
  const utf16 = utf16Encoding(head);
  if (utf16) {
    const validation = new DatasetValidation(options, kind);
    validation.addFileIssue({ code: 'utf16-file', message: `This file is ${utf16}: save it as UTF-8 (in VS Code: the encoding in the status bar → Save with Encoding → UTF-8)`, offset: 0, length: 0, line: 1, column: 1 });
    return validation.finish({ compare: () => false, spanOf: () => ({ index: 0, line: 1, column: 1, offset: 0, length: 0, source: '' }) });
  }
  // NUL bytes in a file that does not start like JSON Lines: read whole, so the one binary-file error is reported.
  if (kind !== 'jsonl' || looksLikeJsonArray(head) || (head.includes(0) && head.toString('latin1').trimStart()[0] !== '{')) {
    const size = statSync(path).size;
    if (size > MAX_WHOLE_FILE_BYTES)
      throw Object.assign(new Error(`${path} is ${(size / 1024 ** 2).toFixed(0)} MB: a file read whole (a JSON array${head.includes(0) ? ', or a file with NUL bytes' : ''}) may be at most ${MAX_WHOLE_FILE_BYTES / 1024 ** 2} MB; save large datasets as JSON Lines`), { code: 'EFBIG' });
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

/** UTF-16 by its byte order mark, or by the zero byte beside every ASCII character. */
function utf16Encoding(head: Buffer): string | undefined {
  if (head[0] === 0xff && head[1] === 0xfe) return 'UTF-16 LE (it starts with a byte order mark)';
  if (head[0] === 0xfe && head[1] === 0xff) return 'UTF-16 BE (it starts with a byte order mark)';
  const pairs = Math.min(64, head.length >> 1);
  if (pairs < 4) return undefined;
  let low = 0;
  let high = 0;
  for (let i = 0; i < pairs; i++) {
    if (head[2 * i] !== 0 && head[2 * i + 1] === 0) low++;
    if (head[2 * i] === 0 && head[2 * i + 1] !== 0) high++;
  }
  if (low === pairs) return 'UTF-16 LE (a zero byte beside every character)';
  if (high === pairs) return 'UTF-16 BE (a zero byte beside every character)';
  return undefined;
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
  const locations = new RecordLocations();
  const fd = openSync(path, 'r');
  let line = 1;
  let offset = 0;
  let index = 0;
  let sawContent = false;
  let fileOffset = 0;
  // No record is kept: the few whose cheap keys match another's are read again at the end, to
  // compare the texts (and to say where they are).
  const readRecord = (index: number): RecordSpan => {
    const source = readLineAt(fd, locations.byteOffset(index));
    return { index, line: locations.line(index), column: 1, offset: locations.charOffset(index), length: source.length, source };
  };
  const again = new Map<number, RecordAnalysis>();
  const analysisOf = (index: number) => {
    let analysis = again.get(index);
    if (!analysis) again.set(index, (analysis = analyzeRecord(readRecord(index).source, options)));
    return analysis;
  };
  const visitLine = (bytes: Buffer, start: number, end: number, isFirst: boolean) => {
    const lineOffset = fileOffset + start;
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
      locations.add(span.index, line, offset, lineOffset + (from - start));
      validation.addRecord(span, analysis);
      if (source.includes('\uFFFD')) reportInvalidUtf8(validation, bytes.subarray(from, to), span);
    }
    offset += source.length + (hadCarriageReturn ? 2 : 1);
    line++;
  };
  // A line past MAX_LINE_BYTES is reported and skipped to its end, never held: /dev/zero-like
  // content must not grow the buffer without bound.
  let overlong: { line: number; offset: number; bytes: number } | undefined;
  const endOverlong = () => {
    const o = overlong!;
    validation.addFileIssue({ code: 'line-too-long', message: `Line ${o.line} is ${(o.bytes / 1024 ** 2).toFixed(0)} MB long, more than the ${MAX_LINE_BYTES / 1024 ** 2} MB a record may have: not read (is the file binary?)`, offset: o.offset, length: 0, line: o.line, column: 1 });
    overlong = undefined;
    offset += o.bytes + 1;
    line++;
  };
  try {
    let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let kept = 0;
    let first = true;
    for (;;) {
      // A line longer than the buffer: grow it rather than split the line, up to the bound.
      if (kept === buffer.length) {
        if (buffer.length >= MAX_LINE_BYTES) {
          overlong = { line, offset, bytes: kept };
          sawContent = true;
          fileOffset += kept;
          kept = 0;
        } else buffer = Buffer.concat([buffer, Buffer.allocUnsafe(buffer.length)]);
      }
      const read = readSync(fd, buffer, kept, buffer.length - kept, null);
      if (read === 0) break;
      const end = kept + read;
      let start = 0;
      if (overlong) {
        const nl = buffer.indexOf(10, 0);
        if (nl === -1 || nl >= end) {
          overlong.bytes += read;
          fileOffset += read;
          continue;
        }
        overlong.bytes += nl;
        endOverlong();
        start = nl + 1;
      }
      for (let nl = buffer.indexOf(10, Math.max(kept, start)); nl !== -1 && nl < end; nl = buffer.indexOf(10, start)) {
        visitLine(buffer, start, nl, first);
        first = false;
        start = nl + 1;
      }
      // Move the unfinished last line to the front; the next read appends to it.
      buffer.copy(buffer, 0, start, end);
      kept = end - start;
      fileOffset += start;
    }
    if (overlong) endOverlong();
    else if (kept > 0) visitLine(buffer, 0, kept, first);
    if (!sawContent) validation.addFileIssue({ code: 'empty-file', message: 'The file is empty: it holds no records', offset: 0, length: 0, line: 1, column: 1 });
    return validation.finish({ compare: (earlier, later, relation) => samePairTexts(analysisOf(earlier).normalized, analysisOf(later).normalized, relation), spanOf: readRecord });
  } finally {
    closeSync(fd);
  }
}

/** The line that starts at byte `position` (without its line end). */
function readLineAt(fd: number, position: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    const read = readSync(fd, chunk, 0, chunk.length, position + total);
    const newline = chunk.subarray(0, read).indexOf(10);
    const end = newline === -1 ? read : newline;
    chunks.push(chunk.subarray(0, end));
    total += end;
    if (newline !== -1 || read === 0 || total > MAX_LINE_BYTES) break;
  }
  const line = Buffer.concat(chunks);
  return line.toString('utf8', 0, line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length);
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

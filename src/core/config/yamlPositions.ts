import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';

/** A span of the source text (UTF-16 offsets, as the `yaml` parser and editors count). */
export interface Span {
  offset: number;
  length: number;
}

export interface Position extends Span {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

/** What to underline for a pointer: the key (unknown key, missing child) or the value (bad type). */
export type SpanPart = 'key' | 'value';

export type Locator = (pointer: string, part: SpanPart) => Position;

export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function toPointer(segments: readonly string[]): string {
  return segments.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function nodeSpan(node: unknown): Span | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  if (!range || range[1] <= range[0]) return undefined;
  return { offset: range[0], length: range[1] - range[0] };
}

/**
 * Finds the node a JSON pointer names in a parsed YAML (or JSON) document. Stops at the nearest
 * ancestor that exists, so a missing key is reported on the mapping that should hold it.
 * A value that is an empty scalar (`beta:` with nothing after it) has no text of its own;
 * its key stands in for it.
 */
export function spanInDocument(doc: Document, pointer: string, part: SpanPart): Span {
  let node: unknown = doc.contents;
  let keySpan: Span | undefined;
  let fallback: Span = { offset: nodeSpan(node)?.offset ?? 0, length: 0 };
  for (const segment of pointerSegments(pointer)) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    let nextKey: Span | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) return fallback;
      next = pair.value;
      nextKey = nodeSpan(pair.key);
    } else if (isSeq(node) && /^\d+$/.test(segment) && Number(segment) < node.items.length) {
      next = node.items[Number(segment)];
    } else {
      return fallback;
    }
    node = next;
    keySpan = nextKey;
    fallback = keySpan ?? nodeSpan(node) ?? fallback;
  }
  if (part === 'key') return keySpan ?? nodeSpan(node) ?? fallback;
  return nodeSpan(node) ?? fallback;
}

/**
 * Maps pointers to positions in `text`. Spans are clipped to their first line: a block
 * mapping's value spans many lines, and underlining a whole section hides the point.
 */
export function documentLocator(text: string, doc: Document, lineCounter: LineCounter): Locator {
  return (pointer, part) => positionOf(text, lineCounter, spanInDocument(doc, pointer, part));
}

export function positionOf(text: string, lineCounter: LineCounter, span: Span): Position {
  const newline = text.indexOf('\n', span.offset);
  let lineEnd = newline === -1 ? text.length : newline;
  if (text[lineEnd - 1] === '\r') lineEnd--;
  const length = Math.max(0, Math.min(span.length, lineEnd - span.offset));
  const { line, col } = lineCounter.linePos(span.offset);
  return { offset: span.offset, length, line, column: col };
}

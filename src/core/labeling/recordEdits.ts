import { applyEdits, findNodeAtLocation, modify, parseTree, type Edit, type Node, type Segment } from 'jsonc-parser';

/**
 * Minimal edits to one record's JSON text. Every change replaces only the value it concerns
 * and leaves the rest of the record (key order, spacing, escapes, unknown fields) as the user
 * wrote it, so a labeled file diffs cleanly against the original.
 */

function rootOf(source: string): Node {
  const root = parseTree(source, [], { disallowComments: true });
  if (!root || root.type !== 'object') throw new Error('The record is not a JSON object');
  return root;
}

function pathOf(pointer: string): Segment[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** The newline and indentation a multi-line record uses for its top-level properties. */
function layoutOf(source: string, root: Node): { eol: string; indent: string } | undefined {
  const first = root.children?.[0];
  if (!first || !source.includes('\n')) return undefined;
  const lineStart = source.lastIndexOf('\n', first.offset) + 1;
  const indent = source.slice(lineStart, first.offset);
  if (!/^[ \t]*$/.test(indent)) return undefined;
  return { eol: source.includes('\r\n') ? '\r\n' : '\n', indent };
}

/** Sets (or, with undefined, removes) top-level fields. */
export function setFields(source: string, fields: Record<string, unknown>): string {
  let text = source;
  for (const [key, value] of Object.entries(fields)) text = setAtPath(text, [key], value);
  return text;
}

/** Sets the value at a JSON pointer inside the record (the parent must exist). */
export function setAtPointer(source: string, pointer: string, value: unknown): string {
  const path = pathOf(pointer);
  if (path.length === 0) throw new Error('Cannot replace the whole record with a pointer edit');
  return setAtPath(source, path, value);
}

function setAtPath(source: string, path: Segment[], value: unknown): string {
  const root = rootOf(source);
  const existing = findNodeAtLocation(root, path);
  if (existing && value !== undefined) {
    // Replace the value's text only: its key, the spacing around it and its neighbours stay.
    return source.slice(0, existing.offset) + JSON.stringify(value) + source.slice(existing.offset + existing.length);
  }
  const layout = path.length === 1 ? layoutOf(source, root) : undefined;
  if (!existing && value !== undefined && layout && root.children?.length) {
    const last = root.children[root.children.length - 1]!;
    const end = last.offset + last.length;
    const property = `,${layout.eol}${layout.indent}${JSON.stringify(path[0])}: ${JSON.stringify(value)}`;
    return source.slice(0, end) + property + source.slice(end);
  }
  // No formatting options: jsonc-parser then edits in place on the same line, as JSONL needs.
  const edits: Edit[] = modify(source, path, value, {});
  return applyEdits(source, edits);
}

/** Exchanges the texts of two top-level fields, exactly as written (escapes and all). */
export function swapFields(source: string, a: string, b: string): string {
  const root = rootOf(source);
  const nodeA = findNodeAtLocation(root, [a]);
  const nodeB = findNodeAtLocation(root, [b]);
  if (!nodeA || !nodeB) throw new Error(`The record has no "${nodeA ? b : a}" field to swap`);
  const [first, second] = nodeA.offset < nodeB.offset ? [nodeA, nodeB] : [nodeB, nodeA];
  const firstText = source.slice(first.offset, first.offset + first.length);
  const secondText = source.slice(second.offset, second.offset + second.length);
  return (
    source.slice(0, first.offset) +
    secondText +
    source.slice(first.offset + first.length, second.offset) +
    firstText +
    source.slice(second.offset + second.length)
  );
}

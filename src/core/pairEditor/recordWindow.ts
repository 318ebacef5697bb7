/**
 * Windowing for the pair editor (as vscode-hexeditor does for bytes): the webview holds only the
 * records around the one on screen and asks the host for ranges ahead of the labeler, so moving
 * to the next record renders from memory while a 100,000-record file never crosses the wire whole.
 */

/** Records [start, end). */
export interface IndexRange {
  start: number;
  end: number;
}

/**
 * The records worth holding around `center` in the order they will be wanted: the center, then
 * up to `ahead` matching records after it and `behind` before it (labeling moves forward, so
 * `ahead` is the larger). `matches` narrows to the active filter.
 */
export function indicesAround(center: number, count: number, behind: number, ahead: number, matches: (index: number) => boolean = () => true): number[] {
  const out: number[] = [];
  if (count === 0) return out;
  const c = Math.min(Math.max(center, 0), count - 1);
  out.push(c);
  // A filter may match nothing: bound the scan so a sparse filter can't walk 100,000 records per keypress.
  const scanLimit = Math.max(ahead, behind) * 64;
  for (let i = c + 1, found = 0, seen = 0; i < count && found < ahead && seen < scanLimit; i++, seen++) {
    if (matches(i)) {
      out.push(i);
      found++;
    }
  }
  for (let i = c - 1, found = 0, seen = 0; i >= 0 && found < behind && seen < scanLimit; i--, seen++) {
    if (matches(i)) {
      out.push(i);
      found++;
    }
  }
  return out;
}

/**
 * The ranges to request so that every index in `wanted` is held: missing indices are grouped
 * into ranges (neighbours up to `maxGap` apart share one request, filling the gap, since one
 * round trip costs more than a few extra records), each at most `maxChunk` long, nearest first.
 */
export function rangesToFetch(wanted: readonly number[], has: (index: number) => boolean, maxChunk: number, maxGap = 8): IndexRange[] {
  const missing = [...new Set(wanted.filter((i) => !has(i)))].sort((a, b) => a - b);
  const ranges: IndexRange[] = [];
  for (const i of missing) {
    const last = ranges[ranges.length - 1];
    if (last && i - last.end <= maxGap && i + 1 - last.start <= maxChunk) last.end = i + 1;
    else ranges.push({ start: i, end: i + 1 });
  }
  const first = wanted[0] ?? 0;
  const distance = (r: IndexRange) => (first < r.start ? r.start - first : first >= r.end ? first - r.end + 1 : 0);
  return ranges.sort((a, b) => distance(a) - distance(b));
}

/** A bounded map of records by index that forgets the ones farthest from where the labeler is. */
export class RecordWindow<T> {
  private readonly held = new Map<number, T>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.held.size;
  }

  get(index: number): T | undefined {
    return this.held.get(index);
  }

  has(index: number): boolean {
    return this.held.has(index);
  }

  put(index: number, value: T): void {
    this.held.set(index, value);
  }

  /** Replaces a record only if it is held: an update for a record far away is not worth keeping. */
  replace(index: number, value: T): boolean {
    if (!this.held.has(index)) return false;
    this.held.set(index, value);
    return true;
  }

  clear(): void {
    this.held.clear();
  }

  /** Drops records beyond capacity, farthest from `center` first, never one in `keep`. */
  trim(center: number, keep: ReadonlySet<number> = new Set()): void {
    if (this.held.size <= this.capacity) return;
    const byDistance = [...this.held.keys()].filter((i) => !keep.has(i)).sort((a, b) => Math.abs(b - center) - Math.abs(a - center));
    for (const index of byDistance) {
      if (this.held.size <= this.capacity) break;
      this.held.delete(index);
    }
  }
}

/**
 * Bookkeeping of a validation pass on typed arrays. A million-record file adds a million
 * entries to each: as Map and Set entries (a boxed double for every 52-bit fingerprint) they
 * cost more memory than the file and most of the time outside JSON.parse, and a hash table of
 * that size costs a cache miss per record. Here every record appends a few numbers to logs,
 * in order, and the questions that need all records at once (how many distinct prompts, which
 * records share a key) are answered once at the end by sorting.
 */

const BLOCK_BITS = 16;
const BLOCK = 1 << BLOCK_BITS;

type NumberArray = Int32Array | Float64Array;

/** Numbers appended one by one into fixed-size blocks: growing never copies or doubles. */
class BlockLog<T extends NumberArray> {
  private readonly blocks: T[] = [];
  length = 0;

  constructor(private readonly make: (n: number) => T) {}

  push(value: number): void {
    const offset = this.length & (BLOCK - 1);
    if (offset === 0) this.blocks.push(this.make(BLOCK));
    this.blocks[this.blocks.length - 1]![offset] = value;
    this.length++;
  }

  get(i: number): number {
    return this.blocks[i >>> BLOCK_BITS]![i & (BLOCK - 1)]!;
  }

  /** The values as one contiguous array; the log keeps them. */
  copy(): T {
    const out = this.make(this.length);
    for (let b = 0; b < this.blocks.length; b++) out.set(b === this.blocks.length - 1 ? (this.blocks[b]!.subarray(0, this.length - b * BLOCK) as T) : this.blocks[b]!, b * BLOCK);
    return out;
  }

  /** The values as one contiguous array, the blocks let go as they are copied (the log is empty after). */
  drain(): T {
    const out = this.make(this.length);
    for (let b = 0; b < this.blocks.length; b++) {
      out.set(b === this.blocks.length - 1 ? (this.blocks[b]!.subarray(0, this.length - b * BLOCK) as T) : this.blocks[b]!, b * BLOCK);
      this.blocks[b] = undefined as unknown as T;
    }
    this.blocks.length = 0;
    this.length = 0;
    return out;
  }
}

export class Int32Log extends BlockLog<Int32Array> {
  constructor() {
    super((n) => new Int32Array(n));
  }
}

export class Float64Log extends BlockLog<Float64Array> {
  constructor() {
    super((n) => new Float64Array(n));
  }
}

/** How many distinct values (the 52-bit prompt fingerprints). */
export function countDistinct(values: Float64Array): number {
  if (values.length === 0) return 0;
  values.sort();
  let distinct = 1;
  for (let i = 1; i < values.length; i++) if (values[i] !== values[i - 1]) distinct++;
  return distinct;
}

/**
 * Sorts `values` by `keys` (non-negative 31-bit), keeping the given order among equal keys:
 * an LSD radix sort in three 11-bit passes (2,048 buckets stay in cache), linear and without a
 * comparison callback. The result is in the second pair of arrays; the given ones are reused.
 */
export function sortByKey(keys: Int32Array, values: Int32Array): { keys: Int32Array; values: Int32Array } {
  let k: Int32Array = keys;
  let v: Int32Array = values;
  let k2: Int32Array = new Int32Array(k.length);
  let v2: Int32Array = new Int32Array(v.length);
  const counts = new Int32Array(1 << 11);
  for (const shift of [0, 11, 22]) {
    counts.fill(0);
    for (let i = 0; i < k.length; i++) counts[(k[i]! >>> shift) & 0x7ff]!++;
    let sum = 0;
    for (let d = 0; d < counts.length; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < k.length; i++) {
      const at = counts[(k[i]! >>> shift) & 0x7ff]!++;
      k2[at] = k[i]!;
      v2[at] = v[i]!;
    }
    [k, k2] = [k2, k];
    [v, v2] = [v2, v];
  }
  return { keys: k, values: v };
}

/**
 * Where each record is, by its index (records arrive in order 0, 1, 2, ...): its line as runs
 * of (first index, line - index), which change only at blank lines, and for a streaming reader
 * its byte offset and its character offset as runs of (first index, characters - bytes),
 * which change only after non-ASCII text or a CRLF line end.
 */
export class RecordLocations {
  private readonly lineRuns: number[] = [];
  private readonly charRuns: number[] = [];
  private readonly byteOffsets = new Float64Log();

  add(index: number, line: number, charOffset: number, byteOffset?: number): void {
    appendRun(this.lineRuns, index, line - index);
    if (byteOffset === undefined) return;
    this.byteOffsets.push(byteOffset);
    appendRun(this.charRuns, index, charOffset - byteOffset);
  }

  line(index: number): number {
    return index + runValue(this.lineRuns, index);
  }

  byteOffset(index: number): number {
    return this.byteOffsets.get(index);
  }

  charOffset(index: number): number {
    return this.byteOffsets.get(index) + runValue(this.charRuns, index);
  }
}

function appendRun(runs: number[], index: number, value: number): void {
  if (runs.length === 0 || runs[runs.length - 1] !== value) runs.push(index, value);
}

/** The value of the last run starting at or before `index`. */
function runValue(runs: number[], index: number): number {
  let low = 0;
  let high = runs.length / 2 - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (runs[2 * mid]! <= index) low = mid;
    else high = mid - 1;
  }
  return runs[2 * low + 1]!;
}

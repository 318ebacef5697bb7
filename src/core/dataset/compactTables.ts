/**
 * Hash tables on typed arrays for the dataset-wide bookkeeping of a validation pass. A
 * million-record file puts a million entries in each: as Map and Set entries (and a boxed
 * double for every 52-bit fingerprint) they cost more memory than the file itself and most of
 * the time spent outside JSON.parse; as open addressing over typed arrays they cost 8 to 16
 * bytes an entry and no garbage.
 */

const EMPTY = -1;
/** Slots per entry: a load factor of 0.75 keeps probes short without doubling the memory. */
const SLOTS_PER_ENTRY = 4 / 3;

function slotsFor(entries: number): number {
  return Math.max(1024, Math.ceil(entries * SLOTS_PER_ENTRY) + 1);
}

/** A slot in [0, slots) by multiply-shift (a 32-bit % would run as a floating-point remainder). */
function slotOf(hash: number, slots: number): number {
  return ((Math.imul(hash | 0, 0x9e3779b1) >>> 0) * slots * 2.3283064365386963e-10) | 0;
}

function grown<T extends Int32Array | Float64Array>(array: T, length: number, fill?: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(length);
  if (fill !== undefined) bigger.fill(fill);
  bigger.set(array);
  return bigger;
}

/** A set of numbers that a double holds exactly (the 52-bit text fingerprints). */
export class FingerprintSet {
  private slots: Float64Array;
  size = 0;

  /** `expected`: how many values will come (a good guess saves growing, and the memory growing takes). */
  constructor(expected = 0) {
    this.slots = new Float64Array(slotsFor(expected)).fill(Number.NaN);
  }

  add(value: number): void {
    if ((this.size + 1) * SLOTS_PER_ENTRY >= this.slots.length) this.grow();
    if (this.insert(this.slots, value)) this.size++;
  }

  private insert(slots: Float64Array, value: number): boolean {
    const n = slots.length;
    // The low 32 bits are already a good hash.
    for (let i = slotOf(value >>> 0, n); ; i = i + 1 === n ? 0 : i + 1) {
      const slot = slots[i]!;
      if (slot === value) return false;
      if (slot !== slot) {
        slots[i] = value;
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(slotsFor(this.size * 1.5)).fill(Number.NaN);
    for (const value of old) if (value === value) this.insert(this.slots, value);
  }
}

/** Where a record is: what a later duplicate names, and where a streaming reader finds its bytes. */
export interface PlaceFields {
  index: number;
  line: number;
  byteOffset?: number;
  byteLength?: number;
}

/**
 * Records by a 32-bit key (several records per key: different records may share one; the
 * caller confirms a match against the texts), and where every record is. Records arrive in
 * order, index 0, 1, 2, ...; a record's line is kept as runs of (first index, line - index),
 * which change only at blank lines, and its bytes (streaming readers) as offset and length.
 */
export class PairIndex {
  private keys: Int32Array;
  private records: Int32Array;
  private used = 0;
  private offsets: Float64Array;
  private lengths: Int32Array;
  private located = 0;
  private readonly lineRuns: number[] = [];

  constructor(expected = 0) {
    this.keys = new Int32Array(slotsFor(expected));
    this.records = new Int32Array(this.keys.length).fill(EMPTY);
    this.offsets = new Float64Array(0);
    this.lengths = new Int32Array(0);
    this.expected = expected;
  }

  private readonly expected: number;

  /** Notes where the next record is (call once per record, in order). */
  locate(place: PlaceFields): void {
    const index = place.index;
    const delta = place.line - index;
    if (this.lineRuns.length === 0 || this.lineRuns[this.lineRuns.length - 1] !== delta) this.lineRuns.push(index, delta);
    if (place.byteOffset !== undefined) {
      if (index >= this.offsets.length) {
        const length = Math.max(index + 1, Math.ceil(this.offsets.length * 1.5), this.expected, 1024);
        this.offsets = grown(this.offsets, length);
        this.lengths = grown(this.lengths, length);
      }
      this.offsets[index] = place.byteOffset;
      this.lengths[index] = place.byteLength ?? 0;
    }
    this.located = index + 1;
  }

  add(key: number, index: number): void {
    if ((this.used + 1) * SLOTS_PER_ENTRY >= this.records.length) this.grow();
    this.insert(this.keys, this.records, key | 0, index);
    this.used++;
  }

  /** The first record under `key` that `accept` takes, in the order they were added. */
  find(key: number, accept: (place: PlaceFields) => boolean): PlaceFields | undefined {
    const k = key | 0;
    const n = this.records.length;
    for (let i = slotOf(k, n); this.records[i] !== EMPTY; i = i + 1 === n ? 0 : i + 1) {
      if (this.keys[i] !== k) continue;
      const place = this.place(this.records[i]!);
      if (accept(place)) return place;
    }
    return undefined;
  }

  place(index: number): PlaceFields {
    // The last run starting at or before `index`.
    let low = 0;
    let high = this.lineRuns.length / 2 - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineRuns[2 * mid]! <= index) low = mid;
      else high = mid - 1;
    }
    const place: PlaceFields = { index, line: index + this.lineRuns[2 * low + 1]! };
    if (index < this.offsets.length && index < this.located) {
      place.byteOffset = this.offsets[index]!;
      place.byteLength = this.lengths[index]!;
    }
    return place;
  }

  private insert(keys: Int32Array, records: Int32Array, key: number, index: number): void {
    const n = records.length;
    let i = slotOf(key, n);
    while (records[i] !== EMPTY) i = i + 1 === n ? 0 : i + 1;
    keys[i] = key;
    records[i] = index;
  }

  private grow(): void {
    const keys = new Int32Array(slotsFor(this.used * 1.5));
    const records = new Int32Array(keys.length).fill(EMPTY);
    // Re-inserted in record order, so records under one key stay in the order they were added.
    const order: number[] = [];
    for (let i = 0; i < this.records.length; i++) if (this.records[i] !== EMPTY) order.push(i);
    order.sort((a, b) => this.records[a]! - this.records[b]!);
    for (const slot of order) this.insert(keys, records, this.keys[slot]!, this.records[slot]!);
    this.keys = keys;
    this.records = records;
  }
}

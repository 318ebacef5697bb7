/**
 * One bit per record (labeled? has problems?), so the webview can find the next unlabeled record
 * or the next record with problems among 100,000 without asking the host: 12.5 KB per flag.
 */
const BITS_IN_BYTE = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v; v >>= 1) n += v & 1;
  return n;
});

export class RecordFlags {
  private readonly bits: Uint8Array;

  constructor(readonly count: number, bits?: Uint8Array) {
    this.bits = bits ?? new Uint8Array(Math.ceil(count / 8));
  }

  get(index: number): boolean {
    return index >= 0 && index < this.count && (this.bits[index >> 3]! & (1 << (index & 7))) !== 0;
  }

  set(index: number, on: boolean): void {
    if (index < 0 || index >= this.count) return;
    if (on) this.bits[index >> 3]! |= 1 << (index & 7);
    else this.bits[index >> 3]! &= ~(1 << (index & 7));
  }

  countSet(): number {
    let n = 0;
    // Bits past `count` are never set, so whole bytes can be counted.
    for (const byte of this.bits) n += BITS_IN_BYTE[byte]!;
    return n;
  }

  /** Hex, because it survives JSON and postMessage as it is and needs no base64 in either world. */
  toHex(): string {
    let out = '';
    for (const byte of this.bits) out += byte.toString(16).padStart(2, '0');
    return out;
  }

  static fromHex(count: number, hex: string): RecordFlags {
    const bits = new Uint8Array(Math.ceil(count / 8));
    for (let i = 0; i < bits.length && i * 2 + 1 < hex.length; i++) bits[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16) || 0;
    return new RecordFlags(count, bits);
  }
}

export type RecordFilter = 'all' | 'unlabeled' | 'problems';

export const RECORD_FILTERS: readonly RecordFilter[] = ['all', 'unlabeled', 'problems'];

export interface FilterFlags {
  labeled: RecordFlags;
  problems: RecordFlags;
}

export function matchesFilter(index: number, filter: RecordFilter, flags: FilterFlags | undefined): boolean {
  if (filter === 'all' || !flags) return true;
  return filter === 'unlabeled' ? !flags.labeled.get(index) : flags.problems.get(index);
}

/**
 * The next record after `from` (step +1) or before it (step -1) that the filter lets through;
 * undefined at the end. Without flags yet (the first validation still running) every record matches.
 */
export function nextMatching(from: number, step: 1 | -1, count: number, filter: RecordFilter, flags: FilterFlags | undefined): number | undefined {
  for (let i = from + step; i >= 0 && i < count; i += step) if (matchesFilter(i, filter, flags)) return i;
  return undefined;
}

/** The next unlabeled record after `from`, wrapping around once. */
export function nextUnlabeled(from: number, count: number, labeled: RecordFlags): number | undefined {
  for (let k = 1; k <= count; k++) {
    const i = (from + k) % count;
    if (!labeled.get(i)) return i;
  }
  return undefined;
}

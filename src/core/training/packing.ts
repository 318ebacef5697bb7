/**
 * Packing of SFT records into sequences of at most `seqLength` tokens by best-fit decreasing,
 * the rule of TRL's `packing=True` (`packing_strategy="bfd"`): records from longest to shortest
 * (ties in file order), each into the open sequence with the least room that still holds it
 * (among equals, the one that got that room first), else into a new sequence. The result, bins
 * in the order they were opened and records in the order they went in, is the same as TRL's, so
 * the TRL engine can check that it trains the very sequences planned here.
 */

export interface PackingReport {
  records: number;
  sequences: number;
  /** Tokens of all records (after truncation). */
  tokens: number;
  /** Padding if every record (unpacked) and every sequence (packed) were a row of seqLength tokens. */
  unpackedPadding: number;
  packedPadding: number;
}

/** Bins of record indices; `lengths` are each record's tokens, all in 1..seqLength. */
export function packBestFitDecreasing(lengths: readonly number[], seqLength: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const bins: Array<{ ids: number[]; room: number }> = [];
  // Open bins by remaining room, each list in the order the room appeared.
  const byRoom = new Map<number, Array<{ ids: number[]; room: number }>>();
  const rooms: number[] = []; // sorted ascending, distinct
  /** The position of the first room of at least `size`. */
  const firstAtLeast = (size: number) => {
    let lo = 0;
    let hi = rooms.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rooms[mid]! < size) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const index of order) {
    const length = lengths[index]!;
    if (length < 1 || length > seqLength) throw new Error(`record ${index} has ${length} tokens; packing takes 1 to ${seqLength}`);
    const room = rooms[firstAtLeast(length)];
    let bin: { ids: number[]; room: number };
    if (room === undefined) {
      bin = { ids: [], room: seqLength };
      bins.push(bin);
    } else {
      const queue = byRoom.get(room)!;
      bin = queue.shift()!;
      if (queue.length === 0) {
        byRoom.delete(room);
        rooms.splice(firstAtLeast(room), 1);
      }
    }
    bin.ids.push(index);
    bin.room -= length;
    if (bin.room > 0) {
      const queue = byRoom.get(bin.room);
      if (queue) queue.push(bin);
      else {
        byRoom.set(bin.room, [bin]);
        rooms.splice(firstAtLeast(bin.room), 0, bin.room);
      }
    }
  }
  return bins.map((b) => b.ids);
}

export function packingReport(lengths: readonly number[], bins: readonly number[][], seqLength: number): PackingReport {
  const tokens = lengths.reduce((a, b) => a + b, 0);
  return { records: lengths.length, sequences: bins.length, tokens, unpackedPadding: lengths.length * seqLength - tokens, packedPadding: bins.length * seqLength - tokens };
}

export function describePacking(report: PackingReport, seqLength: number): string {
  const share = (padding: number, rows: number) => `${Math.round((100 * padding) / Math.max(1, rows * seqLength))}%`;
  return (
    `packing: ${report.records} records into ${report.sequences} sequences of up to ${seqLength} tokens; ` +
    `padding ${share(report.packedPadding, report.sequences)} of ${report.sequences} × ${seqLength} instead of ${share(report.unpackedPadding, report.records)} of ${report.records} × ${seqLength} ` +
    `(${(report.unpackedPadding - report.packedPadding).toLocaleString('en-US')} padding tokens saved per epoch)`
  );
}

import { appendFileSync, openSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { makeDirs } from '../files/makeDirs.ts';
import type { TrainerEvent } from '../../protocol/trainerEvents.ts';

/**
 * TensorBoard event files, written the way TensorFlow's and PyTorch's SummaryWriter write
 * them, so `tensorboard --logdir <output_dir>` reads a tfjs run beside a TRL one: TFRecord
 * framing (length, masked CRC-32C of the length, the record, masked CRC-32C of the record)
 * around `Event` protobufs that carry scalar `Summary` values. Tags are TRL's
 * (transformers' TensorBoardCallback): `train/<metric>`, and `eval/<metric>` for `eval_<metric>`.
 * No npm package writes this format and is kept up; the format is small and fixed.
 */

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function maskedCrc(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

function lengthDelimited(field: number, payload: Uint8Array): number[] {
  return [...varint((field << 3) | 2), ...varint(payload.length), ...payload];
}

function scalarValue(tag: string, value: number): Uint8Array {
  const float = new Uint8Array(4);
  new DataView(float.buffer).setFloat32(0, value, true);
  return Uint8Array.from([...lengthDelimited(1, new TextEncoder().encode(tag)), 0x15, ...float]);
}

/** One Event: wall_time (field 1, double), step (2, int64), then file_version (3) or summary (5). */
export function encodeEvent(wallTime: number, step: number, content: { fileVersion: string } | { scalars: Array<[string, number]> }): Uint8Array {
  const time = new Uint8Array(8);
  new DataView(time.buffer).setFloat64(0, wallTime, true);
  const bytes = [0x09, ...time, 0x10, ...varint(step)];
  if ('fileVersion' in content) bytes.push(...lengthDelimited(3, new TextEncoder().encode(content.fileVersion)));
  else {
    const summary = content.scalars.flatMap(([tag, value]) => lengthDelimited(1, scalarValue(tag, value)));
    bytes.push(...lengthDelimited(5, Uint8Array.from(summary)));
  }
  return Uint8Array.from(bytes);
}

export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc(data), 0);
  return Buffer.concat([header, Buffer.from(data), footer]);
}

/** TRL's tag for a metric name: `eval_loss` → `eval/loss`, `loss` → `train/loss`. */
export function tensorboardTag(name: string, kind: 'metrics' | 'eval'): string {
  if (kind === 'eval') return name.startsWith('eval_') ? `eval/${name.slice(5)}` : `eval/${name}`;
  return `train/${name}`;
}

/** Appends the metrics and eval events of a run to one event file in `dir` (created on first use). */
export class TensorBoardWriter {
  private path: string | undefined;

  constructor(private readonly dir: string) {}

  private file(): string {
    if (this.path) return this.path;
    makeDirs(this.dir);
    const now = Date.now() / 1000;
    this.path = join(this.dir, `events.out.tfevents.${Math.floor(now)}.${hostname()}.${process.pid}.0`);
    closeSync(openSync(this.path, 'a'));
    appendFileSync(this.path, tfRecord(encodeEvent(now, 0, { fileVersion: 'brain.Event:2' })));
    return this.path;
  }

  add(event: TrainerEvent): void {
    if (event.type !== 'metrics' && event.type !== 'eval') return;
    const scalars = Object.entries(event.metrics)
      .filter(([name, value]) => Number.isFinite(value) && name !== 'step')
      .map(([name, value]) => [tensorboardTag(name, event.type), value] as [string, number]);
    if (scalars.length === 0) return;
    appendFileSync(this.file(), tfRecord(encodeEvent(Date.parse(event.time) / 1000, event.step, { scalars })));
  }
}

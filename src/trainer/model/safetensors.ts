import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { AtomicFileWriter } from '../../core/files/atomicWrite.ts';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './halfFloat.ts';

/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__": {string: string}}`, then the raw little-endian tensor bytes, offsets counted
 * from the end of the header. Tensors are read one at a time straight from the file, so loading
 * a model never holds the file and the weights in memory together.
 */

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1 };

/** Floating types we widen to float32; the rest (integer buffers, fp8) are refused by name. */
const READABLE: ReadonlySet<string> = new Set(['F32', 'F16', 'BF16', 'F64']);

export type WritableDtype = 'F32' | 'F16' | 'BF16';

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute position of the tensor's first byte in the file. */
  byteOffset: number;
  byteLength: number;
}

/** Bigger than any real header (the largest models have a few MB), small enough to refuse garbage. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const READ_CHUNK = 64 * 1024 * 1024;

export class SafetensorsError extends Error {}

/** Index of the first NaN or infinite value, or -1. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}

function assertLittleEndianHost(): void {
  if (endianness() !== 'LE') throw new SafetensorsError('safetensors data is little-endian; this machine is big-endian, which is not supported');
}

export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private fd: number | undefined,
    readonly entries: ReadonlyMap<string, SafetensorsEntry>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  static open(path: string): SafetensorsFile {
    const fd = openSync(path, 'r');
    try {
      const { entries, metadata } = readHeader(fd, path);
      return new SafetensorsFile(path, fd, entries, metadata);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  get names(): string[] {
    return [...this.entries.keys()];
  }

  /** The tensors' names, dtypes and shapes from the header alone (the data may be absent: a plan needs no weights). */
  static readShapes(path: string): SafetensorsEntry[] {
    const fd = openSync(path, 'r');
    try {
      return [...readHeader(fd, path, { headerOnly: true }).entries.values()];
    } finally {
      closeSync(fd);
    }
  }

  entry(name: string): SafetensorsEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new SafetensorsError(`${this.path} has no tensor named "${name}"`);
    return entry;
  }

  /** Reads one tensor, widened (or, for F64, narrowed) to float32. */
  readFloat32(name: string): Float32Array {
    const entry = this.entry(name);
    if (!READABLE.has(entry.dtype)) throw new SafetensorsError(`${this.path}: tensor "${name}" has dtype ${entry.dtype}; only F32, F16, BF16 and F64 weights can be loaded`);
    assertLittleEndianHost();
    const count = entry.byteLength / DTYPE_BYTES[entry.dtype];
    if (entry.dtype === 'F32') {
      const out = new Float32Array(count);
      this.readInto(new Uint8Array(out.buffer), entry.byteOffset);
      return out;
    }
    if (entry.dtype === 'F64') {
      const wide = new Float64Array(count);
      this.readInto(new Uint8Array(wide.buffer), entry.byteOffset);
      return Float32Array.from(wide);
    }
    const half = new Uint16Array(count);
    this.readInto(new Uint8Array(half.buffer), entry.byteOffset);
    return entry.dtype === 'BF16' ? bf16ToF32(half) : f16ToF32(half);
  }

  private readInto(target: Uint8Array, position: number): void {
    if (this.fd === undefined) throw new SafetensorsError(`${this.path} is closed`);
    for (let done = 0; done < target.length; ) {
      const n = readSync(this.fd, target, done, Math.min(READ_CHUNK, target.length - done), position + done);
      if (n === 0) throw new SafetensorsError(`${this.path} ended early while reading at byte ${position + done}`);
      done += n;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function readHeader(fd: number, path: string, { headerOnly = false } = {}): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  const fileSize = fstatSync(fd).size;
  const fail = (why: string) => new SafetensorsError(`${path} is not a valid safetensors file: ${why}`);
  if (fileSize < 8) throw fail(`it is only ${fileSize} bytes long`);
  const lengthBytes = Buffer.alloc(8);
  readSync(fd, lengthBytes, 0, 8, 0);
  const headerLength = lengthBytes.readBigUInt64LE(0);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, fileSize - 8))) throw fail(`the header length (${headerLength} bytes) does not fit in the file`);
  const headerBytes = Buffer.alloc(Number(headerLength));
  readSync(fd, headerBytes, 0, headerBytes.length, 8);
  let header: unknown;
  try {
    header = JSON.parse(headerBytes.toString('utf8'));
  } catch (error) {
    throw fail(`the header is not JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw fail('the header is not a JSON object');
  const dataStart = 8 + headerBytes.length;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info?.dtype as SafetensorsDtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) throw fail(`tensor "${name}" has unknown dtype ${JSON.stringify(info?.dtype)}`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw fail(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) throw fail(`tensor "${name}" has invalid data_offsets`);
    const [begin, end] = offsets as [number, number];
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) throw fail(`tensor "${name}" spans ${end - begin} bytes, but ${dtype} ${JSON.stringify(shape)} needs ${expected}`);
    if (!headerOnly && dataStart + end > fileSize) throw fail(`tensor "${name}" ends at byte ${dataStart + end}, past the end of the file (${fileSize} bytes): the file may be truncated`);
    entries.set(name, { name, dtype, shape: shape as number[], byteOffset: dataStart + begin, byteLength: expected });
  }
  // The format requires the tensors to tile the data without overlapping: two tensors sharing
  // bytes would each read (and a writer of one would silently change) the other's values.
  const sorted = [...entries.values()].filter((e) => e.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < sorted.length; i++) {
    const before = sorted[i - 1]!;
    const entry = sorted[i]!;
    if (entry.byteOffset < before.byteOffset + before.byteLength)
      throw fail(`tensors "${before.name}" and "${entry.name}" overlap (bytes ${before.byteOffset - dataStart}-${before.byteOffset - dataStart + before.byteLength} and ${entry.byteOffset - dataStart}-${entry.byteOffset - dataStart + entry.byteLength} of the data)`);
  }
  return { entries, metadata };
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  /** Stored type; the data is always given as float32. Default F32. */
  dtype?: WritableDtype;
  /** The values, or a function making them, called once when the tensor is written, so a big
   * model can be produced and written one tensor at a time. */
  data: Float32Array | (() => Float32Array);
}

/**
 * Writes a safetensors file atomically (temporary file in the same folder, then a rename).
 * Tensors are written in the order given; the header is padded with spaces to 8 bytes, as the
 * reference writer does, so every tensor starts aligned.
 */
export function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata: Record<string, string> = {}): void {
  assertLittleEndianHost();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name in header) throw new SafetensorsError(`tensor "${t.name}" is given twice`);
    const dtype = t.dtype ?? 'F32';
    const bytes = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + jsonBytes) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));

  const out = new AtomicFileWriter(path);
  try {
    out.write(prefix);
    out.write(headerBytes);
    for (const t of tensors) {
      const values = typeof t.data === 'function' ? t.data() : t.data;
      const count = t.shape.reduce((a, b) => a * b, 1);
      if (values.length !== count) throw new SafetensorsError(`tensor "${t.name}" has ${values.length} values for shape ${JSON.stringify(t.shape)}`);
      const dtype = t.dtype ?? 'F32';
      const stored = dtype === 'F32' ? values : dtype === 'BF16' ? f32ToBf16(values) : f32ToF16(values);
      out.write(new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength));
    }
    out.commit();
  } catch (error) {
    out.abort();
    throw error;
  }
}


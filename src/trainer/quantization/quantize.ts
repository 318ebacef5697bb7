/**
 * Weight-only quantization with one scale per output channel (the row of an [out, in] weight),
 * symmetric around zero: w ≈ q · scale with q in [−(2^(b−1)−1), 2^(b−1)−1]. Per-channel scales
 * matter because the rows of a trained linear layer differ in magnitude by orders; one scale
 * for the whole matrix would round the small rows to zero. This is the int8 scheme of
 * LLM.int8()'s vector-wise quantization and the symmetric variant of 4-bit QLoRA storage
 * (without NF4's non-uniform levels, which a tfjs kernel could not exploit anyway).
 *
 * The integers live in plain typed arrays outside tfjs (tfjs has no 8- or 4-bit dtype): that is
 * where the memory saving comes from. Two 4-bit values share a byte, low nibble first.
 */

export type QuantBits = 4 | 8;

export interface QuantizedMatrix {
  bits: QuantBits;
  /** Output channels. */
  rows: number;
  /** Input features. */
  cols: number;
  /** 8 bits: one signed byte per value. 4 bits: value + 8 in each nibble, row-major, two per byte. */
  data: Int8Array | Uint8Array;
  /** One per row: the largest magnitude of the row divided by the largest level. */
  scales: Float32Array;
}

export function maxLevel(bits: QuantBits): number {
  return bits === 8 ? 127 : 7;
}

/** Quantizes a row-major [rows, cols] matrix. */
export function quantizeRows(values: Float32Array, rows: number, cols: number, bits: QuantBits): QuantizedMatrix {
  if (values.length !== rows * cols) throw new Error(`${values.length} values for a [${rows}, ${cols}] matrix`);
  const levels = maxLevel(bits);
  const scales = new Float32Array(rows);
  const data = bits === 8 ? new Int8Array(rows * cols) : new Uint8Array(Math.ceil((rows * cols) / 2));
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    let max = 0;
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(values[start + c]!));
    // An all-zero row keeps scale 0: every level dequantizes to exactly 0 again.
    const scale = max / levels;
    scales[r] = scale;
    const inverse = scale > 0 ? 1 / scale : 0;
    for (let c = 0; c < cols; c++) {
      const q = Math.max(-levels, Math.min(levels, Math.round(values[start + c]! * inverse)));
      const i = start + c;
      if (bits === 8) (data as Int8Array)[i] = q;
      else data[i >> 1] |= (q + 8) << ((i & 1) << 2);
    }
  }
  return { bits, rows, cols, data, scales };
}

/** The float32 matrix the quantized one stands for, row-major [rows, cols]. */
export function dequantizeRows(q: QuantizedMatrix, out = new Float32Array(q.rows * q.cols)): Float32Array {
  const { rows, cols, data, scales } = q;
  if (q.bits === 8) {
    const bytes = data as Int8Array;
    for (let r = 0; r < rows; r++) {
      const scale = scales[r]!;
      const start = r * cols;
      for (let c = 0; c < cols; c++) out[start + c] = bytes[start + c]! * scale;
    }
    return out;
  }
  for (let r = 0; r < rows; r++) {
    const scale = scales[r]!;
    const start = r * cols;
    for (let c = 0; c < cols; c++) {
      const i = start + c;
      out[i] = (((data[i >> 1]! >> ((i & 1) << 2)) & 15) - 8) * scale;
    }
  }
  return out;
}

/** Bytes the quantized matrix occupies: its integers and its scales. */
export function quantizedBytes(q: QuantizedMatrix): number {
  return q.data.byteLength + q.scales.byteLength;
}

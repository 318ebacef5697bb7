import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { disposeModel, parameterCount } from '../../src/trainer/model/causalLM.ts';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';
import { tokenLogProbs } from '../../src/trainer/model/transformer.ts';
import { dequantizeRows, quantizedBytes, quantizeRows } from '../../src/trainer/quantization/quantize.ts';
import { quantizedLinear, quantizeModel } from '../../src/trainer/quantization/quantizedModel.ts';
import { workspace } from '../integration/trainFixtures.ts';

const ws = workspace('quant');

/** Rows of very different magnitude, as trained layers have. */
function matrix(rows: number, cols: number): Float32Array {
  const values = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[r * cols + c] = Math.sin(r * 7.3 + c * 1.9) * 10 ** (r % 4 - 2);
  return values;
}

describe('per-channel weight quantization', () => {
  before(async () => {
    await initBackend('wasm');
  });
  after(() => ws.cleanup());

  for (const bits of [8, 4] as const) {
    it(`${bits} bits: every value within half a step of its row's scale, small rows kept`, () => {
      const rows = 6;
      const cols = 33; // odd: the last 4-bit byte is half used
      const values = matrix(rows, cols);
      const q = quantizeRows(values, rows, cols, bits);
      const back = dequantizeRows(q);
      const levels = bits === 8 ? 127 : 7;
      for (let r = 0; r < rows; r++) {
        const max = Math.max(...values.subarray(r * cols, (r + 1) * cols).map(Math.abs));
        assert.ok(Math.abs(q.scales[r]! - max / levels) < 1e-6 * max, `row ${r} scale`);
        for (let c = 0; c < cols; c++) {
          const err = Math.abs(back[r * cols + c]! - values[r * cols + c]!);
          assert.ok(err <= q.scales[r]! / 2 + 1e-7 * max, `row ${r} col ${c}: off by ${err}, step ${q.scales[r]}`);
        }
      }
      // A row 10,000 times smaller than another is not rounded to zero.
      assert.ok(back.subarray(0, cols).some((v) => v !== 0));
      assert.equal(quantizedBytes(q), (bits === 8 ? rows * cols : Math.ceil((rows * cols) / 2)) + rows * 4);
    });
  }

  it('an all-zero row stays exactly zero', () => {
    const q = quantizeRows(new Float32Array(8), 2, 4, 4);
    assert.deepEqual(Array.from(dequantizeRows(q)), new Array(8).fill(0));
  });

  it('the quantized linear computes x W^T of the dequantized weight, with its gradient', () => {
    const q = quantizeRows(matrix(5, 7), 5, 7, 8);
    const w = tf.tensor2d(dequantizeRows(q), [5, 7]);
    const x = tf.randomNormal([3, 7], 0, 1, 'float32', 1) as tf.Tensor2D;
    const layer = quantizedLinear(q);
    const dense = (t: tf.Tensor) => tf.sum(tf.square(tf.matMul(t, w, false, true)));
    const ours = (t: tf.Tensor) => tf.sum(tf.square(layer(t as tf.Tensor2D)));
    const diff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
    assert.ok(tf.tidy(() => diff(ours(x), dense(x))) < 1e-3);
    const before = tf.memory().numTensors;
    const [g1, g2] = [tf.grad(ours)(x), tf.grad(dense)(x)];
    assert.ok(diff(g1, g2) < 1e-4);
    // Nothing but the two gradients outlives the calls: the dequantized weight is freed each time.
    assert.equal(tf.memory().numTensors, before + 2);
    tf.dispose([w, x, g1, g2]);
  });

  it('a quantized model frees its float32 linear weights and stays close in log-probabilities', () => {
    const dir = join(ws.dir, 'llama');
    initModel(dir, { arch: 'llama', seed: 5 });
    const ids = tf.tensor2d([[5, 80, 31, 400, 12, 9, 77, 301]], [1, 8], 'int32');
    for (const bits of [8, 4] as const) {
      const model = loadModel(dir);
      const floatLogps = tf.tidy(() => tokenLogProbs(model, ids).dataSync());
      const bytesBefore = tf.memory().numBytes;
      const paramsBefore = parameterCount(model);
      const report = quantizeModel(model, bits);
      assert.equal(report.tensors, 14); // 2 layers × (q, k, v, o, gate, up, down)
      assert.equal(tf.memory().numBytes, bytesBefore - report.floatBytes, 'the float32 copies are freed');
      assert.equal(parameterCount(model), paramsBefore - report.floatBytes / 4);
      assert.ok(report.savedBytes / report.floatBytes > (bits === 8 ? 0.7 : 0.85), `saved ${report.savedBytes} of ${report.floatBytes}`);
      const quantLogps = tf.tidy(() => tokenLogProbs(model, ids).dataSync());
      const drift = Math.max(...Array.from(floatLogps, (v, i) => Math.abs(v - quantLogps[i]!)));
      assert.ok(drift > 0 && drift < (bits === 8 ? 0.01 : 0.1), `${bits}-bit drift ${drift}`);
      disposeModel(model);
    }
    ids.dispose();
  });
});

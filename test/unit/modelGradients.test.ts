import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { createCausalLM, disposeModel } from '../../src/trainer/model/causalLM.ts';
import { parseModelConfig } from '../../src/trainer/model/modelConfig.ts';
import { targetLogProbs } from '../../src/trainer/model/transformer.ts';

// The output head's log-probabilities use a hand-written gradient (to avoid keeping [rows,
// vocab] logits for backprop); it must agree with autodiff through the plain formula.
describe('memory-saving log-probability head', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('matches log_softmax + gather in value and in gradients, over any number of chunks', () => {
    const config = parseModelConfig({ architectures: ['LlamaForCausalLM'], hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 8, vocab_size: 37, tie_word_embeddings: false });
    const rows = 11;
    const head = tf.randomNormal([37, 8], 0, 1, 'float32', 1);
    const model = createCausalLM(config, new Map([['lm_head.weight', head]]), { trainable: true });
    const weight = model.params.get('lm_head.weight')!;
    const hidden = tf.randomNormal([rows, 8], 0, 1, 'float32', 2) as tf.Tensor2D;
    const targets = Array.from({ length: rows }, (_, i) => (i * 7 + 3) % 37);
    const coefficients = tf.randomUniform([rows], 0.5, 1.5, 'float32', 3);

    const plain = (h: tf.Tensor, w: tf.Tensor) => {
      const logProbs = tf.logSoftmax(tf.matMul(h, w, false, true));
      const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.tensor1d(targets, 'int32'), 37)), 1);
      return tf.sum(tf.mul(picked, coefficients)) as tf.Scalar;
    };
    const expected = tf.grads(plain)([hidden, weight]);
    const expectedValue = plain(hidden, weight).dataSync()[0]!;

    for (const chunkElements of [1, 37 * 3, 37 * 11, 1 << 20]) {
      const ours = (h: tf.Tensor) => tf.sum(tf.mul(targetLogProbs(model, h as tf.Tensor2D, targets, chunkElements), coefficients)) as tf.Scalar;
      const value = tf.tidy(() => ours(hidden).dataSync()[0]!);
      assert.ok(Math.abs(value - expectedValue) < 1e-4 * Math.abs(expectedValue), `value with chunks of ${chunkElements}: ${value} vs ${expectedValue}`);
      const { grads } = tf.variableGrads(() => ours(hidden), [weight]);
      const dHidden = tf.grad(ours)(hidden);
      for (const [got, want, what] of [
        [dHidden, expected[0]!, 'd hidden'],
        [grads[weight.name]!, expected[1]!, 'd weight'],
      ] as const) {
        const diff = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]!;
        assert.ok(diff < 1e-5, `${what} with chunks of ${chunkElements}: off by ${diff}`);
      }
      tf.dispose([dHidden, ...Object.values(grads)]);
    }
    disposeModel(model);
    tf.dispose([hidden, coefficients, ...expected]);
  });
});

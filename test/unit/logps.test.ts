import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { datasetLogps, tokenizeDatasetText } from '../../src/trainer/logps/datasetLogps.ts';
import { padSequences, pairLogps, scoreSequences } from '../../src/trainer/logps/sequenceLogps.ts';
import { disposeModel, type CausalLM } from '../../src/trainer/model/causalLM.ts';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';
import { tokenLogProbs } from '../../src/trainer/model/transformer.ts';
import { TextTokenizer } from '../../src/trainer/tokenizer/textTokenizer.ts';

const dir = mkdtempSync(join(tmpdir(), 'dpo-logps-'));
let model: CausalLM;
let tokenizer: TextTokenizer;

const SEQUENCES = [
  { promptIds: [5, 6, 7], completionIds: [8, 9] },
  { promptIds: [11], completionIds: [12, 13, 14, 15, 16] },
  { promptIds: [21, 22, 23, 24, 25, 26], completionIds: [27] },
];

/** Sum of log p over the completion, from one unpadded forward pass per sequence. */
function unpaddedSum(m: CausalLM, s: { promptIds: number[]; completionIds: number[] }): number {
  const ids = [...s.promptIds, ...s.completionIds];
  const lp = tf.tidy(() => tokenLogProbs(m, tf.tensor2d([ids], [1, ids.length], 'int32')).dataSync());
  let sum = 0;
  for (let t = s.promptIds.length - 1; t < ids.length - 1; t++) sum += lp[t]!;
  return sum;
}

function close(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

before(async () => {
  await initBackend('cpu');
  initModel(join(dir, 'm'), { arch: 'qwen2', seed: 41, randomizeAll: true, configOverrides: { initializer_range: 0.3 } });
  model = loadModel(join(dir, 'm'));
  tokenizer = TextTokenizer.fromFolder(join(dir, 'm'));
});
after(() => {
  disposeModel(model);
  rmSync(dir, { recursive: true, force: true });
});

describe('completion log-probabilities', () => {
  it('masks prompt and padding: only the completion targets count', () => {
    const right = padSequences(SEQUENCES, 0, 'right');
    assert.equal(right.length, 7);
    assert.deepEqual(Array.from(right.attentionMask.subarray(0, 7)), [1, 1, 1, 1, 1, 0, 0]);
    // Sequence 0: targets at indices 3 and 4 (tokens 8, 9), predicted from positions 2 and 3.
    assert.deepEqual(Array.from(right.completionMask.subarray(0, 6)), [0, 0, 1, 1, 0, 0]);
    assert.deepEqual(right.completionTokens, [2, 5, 1]);
    const left = padSequences(SEQUENCES, 0, 'left');
    assert.deepEqual(Array.from(left.inputIds.subarray(0, 7)), [0, 0, 5, 6, 7, 8, 9]);
    assert.deepEqual(Array.from(left.completionMask.subarray(0, 6)), [0, 0, 0, 0, 1, 1]);
  });

  it('one padded batch, right or left, gives each sequence its unpadded sum', async () => {
    const expected = SEQUENCES.map((s) => unpaddedSum(model, s));
    for (const side of ['right', 'left'] as const) {
      const got = await scoreSequences(model, SEQUENCES, tokenizer.padTokenId, side);
      got.forEach((g, i) => close(g, expected[i]!, `${side} sequence ${i}`));
    }
  });

  it('pairs: chosen and rejected scored in one concatenated batch', () => {
    const pairs = [
      { promptIds: [1, 2, 3], chosenIds: [4, 5], rejectedIds: [6, 7, 8, 9], warnings: [] },
      { promptIds: [10], chosenIds: [11, 12, 13], rejectedIds: [14], warnings: [] },
    ];
    const result = tf.tidy(() => {
      const r = pairLogps(model, pairs, tokenizer.padTokenId);
      return [r.chosen.arraySync(), r.rejected.arraySync(), r.chosenTokens, r.rejectedTokens] as const;
    });
    const [chosen, rejected, chosenTokens, rejectedTokens] = result as unknown as [number[], number[], number[], number[]];
    pairs.forEach((p, i) => {
      close(chosen[i]!, unpaddedSum(model, { promptIds: p.promptIds, completionIds: p.chosenIds }), `chosen ${i}`);
      close(rejected[i]!, unpaddedSum(model, { promptIds: p.promptIds, completionIds: p.rejectedIds }), `rejected ${i}`);
    });
    assert.deepEqual(chosenTokens, [2, 3]);
    assert.deepEqual(rejectedTokens, [4, 1]);
  });

  it('gradients through a padded batch are finite and equal the unpadded ones (full fine-tuning)', () => {
    const trainable = loadModel(join(dir, 'm'), { trainable: true });
    const sequence = SEQUENCES[0]!;
    const grads = (side: 'right' | 'left', others: typeof SEQUENCES) => {
      const batch = padSequences([sequence, ...others], tokenizer.padTokenId, side);
      const { grads } = tf.variableGrads(() => {
        const ids = tf.tensor2d(batch.inputIds, [batch.batch, batch.length], 'int32');
        const perToken = tokenLogProbs(trainable, ids, { attentionMask: tf.tensor2d(batch.attentionMask, [batch.batch, batch.length], 'int32') });
        // Only the first sequence's completion enters the loss.
        const weights = tf.tensor2d(batch.completionMask.map((m, i) => (i < batch.length - 1 ? m : 0)), [batch.batch, batch.length - 1]);
        return tf.neg(tf.sum(tf.mul(perToken, weights))) as tf.Scalar;
      });
      return grads;
    };
    const alone = grads('right', []);
    const padded = grads('left', [SEQUENCES[1]!]);
    assert.equal(Object.keys(alone).length, trainable.params.size);
    for (const [name, g] of Object.entries(alone)) {
      const a = g.dataSync();
      const b = padded[name]!.dataSync();
      assert.ok(b.every(Number.isFinite), `${name}: finite`);
      const scale = Math.max(...a.map(Math.abs), 1e-6);
      a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) <= 1e-4 * scale, `${name}[${i}]: ${x} vs ${b[i]}`));
    }
    tf.dispose([...Object.values(alone), ...Object.values(padded)]);
    disposeModel(trainable);
  });
});

describe('datasets', () => {
  it('scores valid records in file order and skips broken ones with their location', async () => {
    const text = [
      '{"prompt":"What is 2+2?","chosen":" 4","rejected":" 5"}',
      '{"prompt":"Hi","chosen":5,"rejected":"x"}',
      'not json',
      '{"prompt":[{"role":"user","content":"Name a color."}],"chosen":[{"role":"assistant","content":"Blue."}],"rejected":[{"role":"assistant","content":"Seven, because numbers are colors."}]}',
      '{"prompt":"Pick","candidates":["a","b"]}',
    ].join('\n');
    const dataset = tokenizeDatasetText(text, 'data.jsonl', tokenizer);
    assert.deepEqual(dataset.records.map((r) => [r.index, r.line]), [[0, 1], [3, 4]]);
    assert.deepEqual(
      dataset.skipped.map((s) => [s.index, s.line, s.column, s.code]),
      [
        [1, 2, 25, 'schema-type'],
        [2, 3, 1, 'invalid-json'],
        [4, 5, 1, 'not-tokenizable'],
      ],
    );
    const scores = await datasetLogps(model, dataset.records, tokenizer.padTokenId, { batchSize: 1 });
    assert.deepEqual(scores.map((s) => s.index), [0, 3]);
    const batched = await datasetLogps(model, dataset.records, tokenizer.padTokenId, { batchSize: 8 });
    dataset.records.forEach((r, i) => {
      close(batched[i]!.chosenLogps, scores[i]!.chosenLogps, 'batched chosen');
      close(scores[i]!.chosenLogps, unpaddedSum(model, { promptIds: r.promptIds, completionIds: r.chosenIds }), 'chosen');
      close(scores[i]!.rejectedLogps, unpaddedSum(model, { promptIds: r.promptIds, completionIds: r.rejectedIds }), 'rejected');
    });
  });
});

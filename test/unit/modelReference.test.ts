import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { disposeModel } from '../../src/trainer/model/causalLM.ts';
import { initModel, type InitModelOptions } from '../../src/trainer/model/initModel.ts';
import { parseModelConfig } from '../../src/trainer/model/modelConfig.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';
import { parameterSpecs } from '../../src/trainer/model/parameterSpecs.ts';
import { writeSafetensors } from '../../src/trainer/model/safetensors.ts';
import { tokenLogProbs } from '../../src/trainer/model/transformer.ts';

// Per-token log-probabilities computed by test/reference/reference_logps.py, an independent
// numpy implementation (see test/reference/README.md for how the fixture was made).
interface ReferenceFixture {
  cases: Array<{ name: string; init: InitModelOptions; weights_sha256: string; sequences: number[][]; logps: number[][] }>;
}
const fixture = JSON.parse(readFileSync(new URL('../reference/fixtures/reference_logps.json', import.meta.url), 'utf8')) as ReferenceFixture;
const dir = mkdtempSync(join(tmpdir(), 'dpo-model-ref-'));

/** Runs the sequences as one padded batch and returns each sequence's per-token log-probs. */
function batchedLogps(modelDir: string, sequences: number[][], side: 'left' | 'right'): number[][] {
  const model = loadModel(modelDir);
  try {
    const length = Math.max(...sequences.map((s) => s.length));
    const ids = sequences.map((s) => (side === 'right' ? [...s, ...Array(length - s.length).fill(0)] : [...Array(length - s.length).fill(0), ...s]));
    const mask = sequences.map((s) => {
      const ones = Array(s.length).fill(1);
      const zeros = Array(length - s.length).fill(0);
      return side === 'right' ? [...ones, ...zeros] : [...zeros, ...ones];
    });
    const values = tf.tidy(() => tokenLogProbs(model, tf.tensor2d(ids, [ids.length, length], 'int32'), { attentionMask: mask })).arraySync() as number[][];
    return sequences.map((s, b) => (side === 'right' ? values[b]!.slice(0, s.length - 1) : values[b]!.slice(length - s.length)));
  } finally {
    disposeModel(model);
  }
}

/** Within `relative` of the expected value, or 1e-6 absolute for values near 0 (float32 resolution). */
function assertClose(actual: number[], expected: number[], relative: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= Math.max(relative * Math.abs(e), 1e-6), `${what}[${i}]: ${actual[i]} vs reference ${e}`));
}

describe('forward pass against the independent numpy reference', () => {
  before(async () => {
    await initBackend('cpu');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const c of fixture.cases) {
    it(`${c.name}: log-probs within 1e-4 relative, right- and left-padded in one batch`, () => {
      const modelDir = join(dir, c.name);
      initModel(modelDir, c.init);
      const sha = createHash('sha256').update(readFileSync(join(modelDir, 'model.safetensors'))).digest('hex');
      assert.equal(sha, c.weights_sha256, 'init-model no longer writes the weights the fixture was made from: regenerate it (test/reference/README.md)');
      // The reference must be far from uniform (-ln 1024 = -6.93) for the comparison to mean something.
      const all = c.logps.flat();
      assert.ok(Math.max(...all) - Math.min(...all) > 5);
      for (const side of ['right', 'left'] as const) {
        const got = batchedLogps(modelDir, c.sequences, side);
        c.sequences.forEach((_, i) => assertClose(got[i]!, c.logps[i]!, 1e-4, `${c.name} ${side}-padded sequence ${i}`));
      }
    });
  }
});

/** Writes a model folder whose weights are zero except those given. */
function writeModel(path: string, configJson: Record<string, unknown>, given: Record<string, Float32Array> = {}): void {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'config.json'), JSON.stringify(configJson));
  const config = parseModelConfig(configJson);
  writeSafetensors(
    join(path, 'model.safetensors'),
    parameterSpecs(config).map((s) => ({ name: s.name, shape: s.shape, data: given[s.name] ?? new Float32Array(s.shape.reduce((a, b) => a * b, 1)) })),
  );
}

describe('hand-derived log-probabilities', () => {
  const llama = { architectures: ['LlamaForCausalLM'], hidden_size: 4, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 8, vocab_size: 8, rms_norm_eps: 0 };

  it('a model whose weights are all zero predicts uniformly: every log-prob is -ln(vocab)', () => {
    for (const [name, config] of [
      ['llama', llama],
      ['gpt2', { architectures: ['GPT2LMHeadModel'], n_embd: 4, n_layer: 1, n_head: 2, n_positions: 16, vocab_size: 8 }],
    ] as const) {
      const path = join(dir, `zero-${name}`);
      writeModel(path, { ...config, rms_norm_eps: 1e-6 });
      const [got] = batchedLogps(path, [[1, 5, 7, 0, 3]], 'right');
      assertClose(got!, Array(4).fill(-Math.log(8)), 1e-6, name);
    }
  });

  it('with attention and MLP zeroed, a token predicts through embedding, RMSNorm and the head alone', () => {
    // Embedding row i = one-hot(i mod 4); RMSNorm (eps 0) scales it to 2 * one-hot; head row j =
    // g_j * one-hot(j mod 4). So after token i the logits are 2 g_j where j = i (mod 4), else 0.
    const embed = new Float32Array(8 * 4);
    for (let i = 0; i < 8; i++) embed[i * 4 + (i % 4)] = 1;
    const gains = [0.5, 1, -1, 2, 0.25, 0.5, 3, -2];
    const head = new Float32Array(8 * 4);
    for (let j = 0; j < 8; j++) head[j * 4 + (j % 4)] = gains[j]!;
    const path = join(dir, 'bigram');
    writeModel(path, llama, { 'model.embed_tokens.weight': embed, 'model.norm.weight': new Float32Array(4).fill(1), 'lm_head.weight': head });
    const sequence = [1, 5, 2, 6, 3];
    const expected = sequence.slice(0, -1).map((prev, t) => {
      const logits = gains.map((g, j) => (j % 4 === prev % 4 ? 2 * g : 0));
      const lse = Math.log(logits.reduce((sum, z) => sum + Math.exp(z), 0));
      return logits[sequence[t + 1]!]! - lse;
    });
    const [got] = batchedLogps(path, [sequence], 'right');
    assertClose(got!, expected, 1e-5, 'bigram');
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { generate } from '../../src/trainer/generate/generate.ts';
import { argmax, sampleToken } from '../../src/trainer/generate/sampling.ts';
import { disposeModel, type CausalLM } from '../../src/trainer/model/causalLM.ts';
import { initModel, type InitArch } from '../../src/trainer/model/initModel.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';
import { SeededRandom } from '../../src/trainer/model/random.ts';
import { TextTokenizer } from '../../src/trainer/tokenizer/textTokenizer.ts';

const dir = mkdtempSync(join(tmpdir(), 'dpo-generate-'));
const models = new Map<string, { model: CausalLM; tokenizer: TextTokenizer }>();
const PROMPTS = ['The capital of France is', 'def add(a, b):', [{ role: 'user', content: 'Say hello.' }]] as const;

function load(name: string, arch: InitArch, overrides: Record<string, unknown> = {}) {
  initModel(join(dir, name), { arch, seed: 31, configOverrides: { initializer_range: 0.3, ...overrides } });
  models.set(name, { model: loadModel(join(dir, name)), tokenizer: TextTokenizer.fromFolder(join(dir, name)) });
}

describe('generate', () => {
  before(async () => {
    await initBackend('cpu');
    load('llama', 'llama');
    load('gpt2', 'gpt2');
    load('mistral', 'mistral', { sliding_window: 4 });
  });
  after(() => {
    for (const { model } of models.values()) disposeModel(model);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const name of ['llama', 'gpt2', 'mistral']) {
    it(`${name}: greedy decoding with the KV cache equals recomputing the whole sequence each step`, async () => {
      const { model, tokenizer } = models.get(name)!;
      const tensorsBefore = tf.memory().numTensors;
      const cached = await generate(model, tokenizer, PROMPTS, { maxNewTokens: 8, stopTokenIds: [] });
      assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor leaks');
      const uncached = await generate(model, tokenizer, PROMPTS, { maxNewTokens: 8, stopTokenIds: [], useCache: false });
      assert.deepEqual(cached.map((g) => g.tokenIds), uncached.map((g) => g.tokenIds));
      assert.ok(cached.every((g) => g.tokenIds.length === 8 && g.finishReason === 'length'));
    });
  }

  it('prompts batched with left padding give what each gives alone', async () => {
    const { model, tokenizer } = models.get('llama')!;
    const batched = await generate(model, tokenizer, PROMPTS, { maxNewTokens: 8, stopTokenIds: [] });
    for (const [i, prompt] of PROMPTS.entries()) {
      const [alone] = await generate(model, tokenizer, [prompt], { maxNewTokens: 8, stopTokenIds: [] });
      assert.deepEqual(alone!.tokenIds, batched[i]!.tokenIds, `prompt ${i}`);
    }
    assert.equal(batched[2]!.promptText, '<|im_start|>user\nSay hello.<|im_end|>\n<|im_start|>assistant\n');
  });

  it('sampling is reproducible from its seed, and the seed matters', async () => {
    const { model, tokenizer } = models.get('gpt2')!;
    const options = { maxNewTokens: 10, temperature: 1.2, topK: 100, topP: 0.95, stopTokenIds: [] };
    const a = await generate(model, tokenizer, PROMPTS, { ...options, seed: 7 });
    const b = await generate(model, tokenizer, PROMPTS, { ...options, seed: 7 });
    const c = await generate(model, tokenizer, PROMPTS, { ...options, seed: 8 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.map((g) => g.tokenIds), c.map((g) => g.tokenIds));
    // Each prompt draws from its own stream: its sample does not depend on the batch.
    const [first] = await generate(model, tokenizer, [PROMPTS[0]], { ...options, seed: 7 });
    assert.deepEqual(first!.tokenIds, a[0]!.tokenIds);
  });

  it('stops at a stop string, cutting the text before it, and at an end token', async () => {
    const { model, tokenizer } = models.get('llama')!;
    const [free] = await generate(model, tokenizer, [PROMPTS[0]], { maxNewTokens: 16, stopTokenIds: [] });
    const stop = free!.text.slice(6, 9);
    const at = free!.text.indexOf(stop);
    const [stopped] = await generate(model, tokenizer, [PROMPTS[0]], { maxNewTokens: 16, stopTokenIds: [], stopStrings: ['never-there', stop] });
    assert.equal(stopped!.finishReason, 'stop');
    assert.equal(stopped!.text, free!.text.slice(0, at));
    assert.ok(stopped!.tokenIds.length < free!.tokenIds.length);
    assert.deepEqual(stopped!.tokenIds, free!.tokenIds.slice(0, stopped!.tokenIds.length));

    const end = free!.tokenIds[3]!;
    const [eos] = await generate(model, tokenizer, [PROMPTS[0]], { maxNewTokens: 16, stopTokenIds: [end] });
    assert.equal(eos!.finishReason, 'eos');
    assert.deepEqual(eos!.tokenIds, free!.tokenIds.slice(0, free!.tokenIds.indexOf(end)));
  });
});

describe('sampleToken', () => {
  const logits = new Float32Array([0, Math.log(2), Math.log(3), -50]);

  it('is greedy at temperature 0 and with top-k 1 or a tiny top-p', () => {
    const random = new SeededRandom(1);
    assert.equal(argmax([1, 3, 3, 2]), 1);
    assert.equal(sampleToken(logits, {}, random), 2);
    for (let i = 0; i < 50; i++) {
      assert.equal(sampleToken(logits, { temperature: 1, topK: 1 }, random), 2);
      assert.equal(sampleToken(logits, { temperature: 1, topP: 0.01 }, random), 2);
      // p = 0.5: the top token alone has probability 1/2, enough (transformers keeps the same set).
      assert.equal(sampleToken(logits, { temperature: 1, topP: 0.5 }, random), 2);
    }
  });

  it('draws in proportion to softmax(logits / T), within top-k and top-p', () => {
    const random = new SeededRandom(2);
    const counts = [0, 0, 0, 0];
    const n = 6000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits, { temperature: 1 }, random)]!++;
    [1 / 6, 2 / 6, 3 / 6, 0].forEach((p, i) => assert.ok(Math.abs(counts[i]! / n - p) < 0.02, `token ${i}: ${counts[i]! / n} vs ${p}`));
    const hot = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) hot[sampleToken(logits, { temperature: 2, topK: 2 }, random)]!++;
    // T = 2 over the top two: weights sqrt(2) and sqrt(3).
    assert.equal(hot[0]! + hot[3]!, 0);
    assert.ok(Math.abs(hot[2]! / n - Math.sqrt(3) / (Math.sqrt(2) + Math.sqrt(3))) < 0.02);
    const nucleus = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) nucleus[sampleToken(logits, { temperature: 1, topP: 0.8 }, random)]!++;
    assert.equal(nucleus[0]! + nucleus[3]!, 0, 'top-p 0.8 keeps the two tokens holding 5/6');
  });
});

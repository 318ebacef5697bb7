import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { disposeModel, parameterCount, type CausalLM } from '../../src/trainer/model/causalLM.ts';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/trainer/model/halfFloat.ts';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { UnsupportedArchitectureError, parseModelConfig } from '../../src/trainer/model/modelConfig.ts';
import { loadModel, ModelFolderError } from '../../src/trainer/model/modelFolder.ts';
import { SafetensorsError, SafetensorsFile, writeSafetensors } from '../../src/trainer/model/safetensors.ts';
import { tokenLogProbs } from '../../src/trainer/model/transformer.ts';

const dir = mkdtempSync(join(tmpdir(), 'dpo-model-load-'));
const SEQUENCE = [3, 17, 400, 5, 99, 1000, 42, 7];

function logps(model: CausalLM): Float32Array {
  return tf.tidy(() => tokenLogProbs(model, tf.tensor2d([SEQUENCE], [1, SEQUENCE.length], 'int32')).dataSync() as Float32Array);
}

describe('safetensors', () => {
  before(async () => {
    await initBackend('cpu');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes and reads back F32 tensors with their shapes, offsets and metadata', () => {
    const path = join(dir, 'a.safetensors');
    const a = Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - 1);
    const b = new Float32Array([Math.PI]);
    writeSafetensors(path, [{ name: 'a', shape: [2, 3], data: a }, { name: 'b.c', shape: [1], data: () => b }], { format: 'pt' });
    const bytes = readFileSync(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + headerLength) % 8, 0, 'header padded to 8 bytes');
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
    assert.deepEqual(header.a, { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    assert.deepEqual(header['b.c'], { dtype: 'F32', shape: [1], data_offsets: [24, 28] });
    assert.deepEqual(header.__metadata__, { format: 'pt' });
    const file = SafetensorsFile.open(path);
    assert.deepEqual(file.names, ['a', 'b.c']);
    assert.deepEqual(file.readFloat32('a'), a);
    assert.deepEqual(file.readFloat32('b.c'), b);
    assert.deepEqual(file.metadata, { format: 'pt' });
    file.close();
  });

  it('decodes F16 and BF16 bit patterns exactly, including subnormals, infinities and rounding', () => {
    // Hand-picked half-precision patterns and their values.
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x0000, 0x8000]);
    assert.deepEqual(Array.from(f16ToF32(f16)), [1, -2, 0.333251953125, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity, 0, -0]);
    assert.ok(Number.isNaN(f16ToF32(new Uint16Array([0x7e00]))[0]));
    const bf16 = new Uint16Array([0x3f80, 0xc040, 0x3eab, 0x7f80, 0x0001]);
    assert.deepEqual(Array.from(bf16ToF32(bf16)), [1, -3, 0.333984375, Infinity, 2 ** -133]);
    // Encoding rounds to nearest even and round-trips every representable value.
    assert.deepEqual(Array.from(f32ToF16(new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000, 2 ** -25, 3 * 2 ** -26]))), [0x3c00, 0x3c02, 0x7c00, 0x0000, 0x0001]);
    assert.deepEqual(Array.from(f32ToBf16(new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8]))), [0x3f80, 0x3f82]);
    const all = new Uint16Array(65536).map((_, i) => i);
    const finite = Array.from(all).filter((h) => (h & 0x7c00) !== 0x7c00);
    const halves = new Uint16Array(finite);
    assert.deepEqual(Array.from(f32ToF16(f16ToF32(halves))), finite);
  });

  it('reads F16 and BF16 files widened to float32', () => {
    const path = join(dir, 'half.safetensors');
    const values = new Float32Array([1.5, -0.25, 1024, 3.140625]);
    writeSafetensors(path, [
      { name: 'h', shape: [4], dtype: 'F16', data: values },
      { name: 'b', shape: [2, 2], dtype: 'BF16', data: values },
    ]);
    const file = SafetensorsFile.open(path);
    assert.equal(file.entry('h').dtype, 'F16');
    assert.equal(file.entry('b').byteLength, 8);
    assert.deepEqual(file.readFloat32('h'), values);
    assert.deepEqual(file.readFloat32('b'), values);
    file.close();
  });

  it('refuses truncated files, bad headers and integer tensors with the file named', () => {
    const path = join(dir, 'bad.safetensors');
    writeSafetensors(path, [{ name: 'x', shape: [4], data: new Float32Array(4) }]);
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 4));
    assert.throws(() => SafetensorsFile.open(path), (e: Error) => e instanceof SafetensorsError && /bad\.safetensors.*past the end of the file/.test(e.message));
    writeFileSync(path, Buffer.from([1, 2, 3]));
    assert.throws(() => SafetensorsFile.open(path), /only 3 bytes long/);
    const json = Buffer.from(JSON.stringify({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(path, Buffer.concat([prefix, json, Buffer.alloc(8)]));
    const file = SafetensorsFile.open(path);
    assert.throws(() => file.readFloat32('ids'), /"ids" has dtype I64/);
    file.close();
  });

  it('refuses tensors that overlap each other (the format forbids it)', () => {
    const path = join(dir, 'overlap.safetensors');
    const json = Buffer.from(JSON.stringify({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(path, Buffer.concat([prefix, json, Buffer.alloc(16)]));
    assert.throws(() => SafetensorsFile.open(path), (e: Error) => e instanceof SafetensorsError && /overlap\.safetensors .*tensors "a" and "b" overlap \(bytes 0-16 and 8-16 of the data\)/.test(e.message));
  });
});

describe('model folders', () => {
  it('never loads a shard from outside the model folder', () => {
    initModel(join(dir, 'escape'), { arch: 'llama', seed: 5, shards: 2 });
    initModel(join(dir, 'elsewhere'), { arch: 'llama', seed: 6 });
    const indexPath = join(dir, 'escape', 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(indexPath, 'utf8'));
    for (const outside of ['../elsewhere/model.safetensors', join(dir, 'elsewhere', 'model.safetensors'), 'sub/../model-00001-of-00002.safetensors']) {
      const name = Object.keys(index.weight_map)[0]!;
      writeFileSync(indexPath, JSON.stringify({ ...index, weight_map: { ...index.weight_map, [name]: outside } }));
      assert.throws(() => loadModel(join(dir, 'escape')), (e: Error) => e instanceof ModelFolderError && e.message.includes(`weight_map names ${JSON.stringify(outside)}, which is not a file name in`), outside);
    }
  });

  it('loads a sharded checkpoint through its index, giving the same log-probs as one file', () => {
    initModel(join(dir, 'single'), { arch: 'llama', seed: 5 });
    initModel(join(dir, 'sharded'), { arch: 'llama', seed: 5, shards: 3 });
    const index = JSON.parse(readFileSync(join(dir, 'sharded', 'model.safetensors.index.json'), 'utf8'));
    assert.equal(new Set(Object.values(index.weight_map)).size, 3);
    assert.equal(index.weight_map['model.embed_tokens.weight'], 'model-00001-of-00003.safetensors');
    const single = loadModel(join(dir, 'single'));
    const sharded = loadModel(join(dir, 'sharded'));
    assert.equal(parameterCount(sharded), parameterCount(single));
    assert.deepEqual(logps(sharded), logps(single));
    disposeModel(single);
    disposeModel(sharded);
  });

  it('loads BF16 and F16 checkpoints as the float32 model with rounded weights', () => {
    initModel(join(dir, 'f32'), { arch: 'qwen2', seed: 6, randomizeAll: true });
    initModel(join(dir, 'bf16'), { arch: 'qwen2', seed: 6, randomizeAll: true, dtype: 'BF16' });
    initModel(join(dir, 'f16'), { arch: 'qwen2', seed: 6, randomizeAll: true, dtype: 'F16' });
    const full = loadModel(join(dir, 'f32'));
    for (const [name, round] of [['bf16', (x: Float32Array) => bf16ToF32(f32ToBf16(x))], ['f16', (x: Float32Array) => f16ToF32(f32ToF16(x))]] as const) {
      const half = loadModel(join(dir, name));
      for (const [key, value] of full.params) assert.deepEqual(half.params.get(key)!.dataSync(), round(value.dataSync() as Float32Array), `${name} ${key}`);
      const a = logps(half);
      const b = logps(full);
      // Same model up to weight rounding: close, not equal.
      a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 0.05 * Math.abs(b[i]!) + 0.05, `${name} token ${i}: ${x} vs ${b[i]}`));
      disposeModel(half);
    }
    disposeModel(full);
  });

  it('names the architecture found and the supported ones for anything else', () => {
    assert.throws(
      () => parseModelConfig({ architectures: ['PhiForCausalLM'], hidden_size: 8 }, 'phi/config.json'),
      (e: Error) => e instanceof UnsupportedArchitectureError && e.message === 'phi/config.json: architecture "PhiForCausalLM" is not supported; supported: LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, MistralForCausalLM, GPT2LMHeadModel',
    );
    const path = join(dir, 'phi');
    initModel(path, { arch: 'llama' });
    const config = JSON.parse(readFileSync(join(path, 'config.json'), 'utf8'));
    writeFileSync(join(path, 'config.json'), JSON.stringify({ ...config, architectures: ['T5ForConditionalGeneration'], model_type: 't5' }));
    assert.throws(() => loadModel(path), /architecture "T5ForConditionalGeneration" is not supported; supported: LlamaForCausalLM/);
  });

  it('reports missing weights, wrong shapes and a missing weights file', () => {
    const path = join(dir, 'broken');
    initModel(path, { arch: 'llama', configOverrides: { tie_word_embeddings: false } });
    const config = JSON.parse(readFileSync(join(path, 'config.json'), 'utf8'));
    writeFileSync(join(path, 'config.json'), JSON.stringify({ ...config, intermediate_size: 100 }));
    assert.throws(() => loadModel(path), /"model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[192,64\], but config\.json implies \[100,64\]/);
    writeFileSync(join(path, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 3 }));
    assert.throws(() => loadModel(path), (e: Error) => e instanceof ModelFolderError && /weights are missing: model\.layers\.2\.input_layernorm\.weight/.test(e.message));
    rmSync(join(path, 'model.safetensors'));
    assert.throws(() => loadModel(path), /has no model\.safetensors or model\.safetensors\.index\.json/);
    assert.throws(() => loadModel(join(dir, 'nothing-here')), /not a model folder/);
  });

  it('accepts GPT-2 keys without the transformer. prefix and skips the attn.bias buffers', () => {
    const path = join(dir, 'gpt2-bare');
    initModel(path, { arch: 'gpt2', seed: 8 });
    const reference = loadModel(path);
    const file = SafetensorsFile.open(join(path, 'model.safetensors'));
    const tensors = file.names.map((name) => ({ name: name.replace(/^transformer\./, ''), shape: file.entry(name).shape, data: file.readFloat32(name) }));
    file.close();
    tensors.push({ name: 'h.0.attn.bias', shape: [1, 1, 4, 4], data: new Float32Array(16) });
    writeSafetensors(join(path, 'model.safetensors'), tensors);
    const bare = loadModel(path);
    assert.deepEqual(logps(bare), logps(reference));
    disposeModel(bare);
    disposeModel(reference);
  });
});

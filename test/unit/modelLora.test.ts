import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { AdapterError, loadAdapter, saveAdapter } from '../../src/trainer/model/adapterFolder.ts';
import { disposeModel, type CausalLM } from '../../src/trainer/model/causalLM.ts';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { attachAdapter, createLoraAdapter, defaultLoraConfig, disposeAdapter, loraScale, loraTargets, loraVariables, type LoraAdapter } from '../../src/trainer/model/lora.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/trainer/model/safetensors.ts';
import { tokenLogProbs } from '../../src/trainer/model/transformer.ts';

const dir = mkdtempSync(join(tmpdir(), 'dpo-lora-'));
const SEQUENCE = [1, 300, 22, 5, 801, 64, 9, 410, 2];

function logps(model: CausalLM): number[] {
  return Array.from(tf.tidy(() => tokenLogProbs(model, tf.tensor2d([SEQUENCE], [1, SEQUENCE.length], 'int32')).dataSync()));
}

function closeTo(a: number[], b: number[], tolerance: number): void {
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) <= tolerance * Math.max(1, Math.abs(b[i]!)), `token ${i}: ${x} vs ${b[i]}`));
}

/** Gives every B matrix random values, so the adapter changes the model. */
function randomizeB(adapter: LoraAdapter, seed: number): void {
  for (const layer of adapter.layers.values()) layer.b.assign(tf.randomNormal(layer.b.shape, 0, 0.5, 'float32', seed++));
}

/** A copy of `source` whose targeted weights have the adapter merged in: W + scale * B A (transposed for Conv1D). */
function writeMerged(source: string, target: string, model: CausalLM, adapter: LoraAdapter): void {
  cpSync(source, target, { recursive: true });
  const file = SafetensorsFile.open(join(source, 'model.safetensors'));
  const tensors = file.names.map((name) => {
    const shape = file.entry(name).shape;
    let data = file.readFloat32(name);
    const path = name.replace(/\.weight$/, '');
    const layer = adapter.layers.get(path);
    if (layer && name.endsWith('.weight')) {
      const delta = tf.tidy(() => {
        const ba = tf.mul(tf.matMul(layer.b, layer.a), layer.scale);
        return model.linears.get(path)!.conv1d ? tf.transpose(ba) : ba;
      });
      data = tf.tidy(() => tf.add(tf.tensor(data, shape), delta).dataSync() as Float32Array);
      delta.dispose();
    }
    return { name, shape, data };
  });
  file.close();
  writeSafetensors(join(target, 'model.safetensors'), tensors);
}

describe('LoRA adapters', () => {
  before(async () => {
    await initBackend('cpu');
    initModel(join(dir, 'llama'), { arch: 'llama', seed: 21, randomizeAll: true, configOverrides: { initializer_range: 0.3 } });
    initModel(join(dir, 'gpt2'), { arch: 'gpt2', seed: 22, randomizeAll: true, configOverrides: { initializer_range: 0.3 } });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a fresh adapter (B = 0) leaves the model unchanged', () => {
    const model = loadModel(join(dir, 'llama'));
    const base = logps(model);
    attachAdapter(model, createLoraAdapter(model, defaultLoraConfig({ targetModules: 'all-linear' }), 1));
    assert.deepEqual(logps(model), base);
    disposeModel(model);
  });

  for (const [arch, targets] of [
    ['llama', ['q_proj', 'v_proj', 'down_proj']],
    ['gpt2', ['c_attn', 'c_fc']],
  ] as const) {
    it(`${arch}: x W^T + (alpha/r) x A^T B^T equals the model with B A merged into W`, () => {
      const model = loadModel(join(dir, arch));
      const adapter = createLoraAdapter(model, defaultLoraConfig({ r: 4, alpha: 8, targetModules: [...targets] }), 2);
      randomizeB(adapter, 3);
      attachAdapter(model, adapter);
      const adapted = logps(model);
      const merged = join(dir, `${arch}-merged`);
      writeMerged(join(dir, arch), merged, model, adapter);
      const mergedModel = loadModel(merged);
      closeTo(adapted, logps(mergedModel), 1e-4);
      attachAdapter(model, undefined);
      assert.notDeepEqual(logps(model), adapted, 'the adapter changed the outputs');
      disposeAdapter(adapter);
      disposeModel(model);
      disposeModel(mergedModel);
    });
  }

  it('save then load gives back the same matrices, scale and outputs, in PEFT layout', () => {
    for (const arch of ['llama', 'gpt2'] as const) {
      const model = loadModel(join(dir, arch));
      const adapter = createLoraAdapter(model, defaultLoraConfig({ r: 2, alpha: 5, dropout: 0.05, targetModules: arch === 'gpt2' ? ['c_attn'] : ['q_proj', 'k_proj'] }), 4);
      randomizeB(adapter, 5);
      attachAdapter(model, adapter);
      const before = logps(model);
      const folder = join(dir, `${arch}-adapter`);
      saveAdapter(folder, adapter);

      const config = JSON.parse(readFileSync(join(folder, 'adapter_config.json'), 'utf8'));
      assert.equal(config.peft_type, 'LORA');
      assert.equal(config.task_type, 'CAUSAL_LM');
      assert.equal(config.r, 2);
      assert.equal(config.lora_alpha, 5);
      assert.equal(config.lora_dropout, 0.05);
      assert.equal(config.fan_in_fan_out, arch === 'gpt2');
      const file = SafetensorsFile.open(join(folder, 'adapter_model.safetensors'));
      const key = arch === 'gpt2' ? 'base_model.model.transformer.h.1.attn.c_attn' : 'base_model.model.model.layers.1.self_attn.k_proj';
      assert.deepEqual(file.entry(`${key}.lora_A.weight`).shape, [2, 64]);
      assert.deepEqual(file.entry(`${key}.lora_B.weight`).shape, arch === 'gpt2' ? [192, 2] : [32, 2]);
      file.close();

      attachAdapter(model, undefined);
      const loaded = loadAdapter(folder, model);
      assert.equal(model.adapter, loaded);
      assert.deepEqual([...loaded.layers.keys()].sort(), [...adapter.layers.keys()].sort());
      for (const [path, layer] of adapter.layers) {
        const back = loaded.layers.get(path)!;
        assert.deepEqual(back.a.dataSync(), layer.a.dataSync());
        assert.deepEqual(back.b.dataSync(), layer.b.dataSync());
        assert.equal(back.scale, 2.5);
      }
      assert.deepEqual(logps(model), before);
      disposeAdapter(adapter);
      disposeModel(model);
    }
  });

  it('only the adapter is trainable: gradients reach A and B, not the frozen base weights', () => {
    const model = loadModel(join(dir, 'llama'));
    const adapter = createLoraAdapter(model, defaultLoraConfig({ targetModules: ['q_proj', 'v_proj'] }), 6);
    randomizeB(adapter, 7);
    attachAdapter(model, adapter);
    const ids = tf.tensor2d([SEQUENCE], [1, SEQUENCE.length], 'int32');
    const { value, grads } = tf.variableGrads(() => tf.neg(tf.sum(tokenLogProbs(model, ids, { training: true }))) as tf.Scalar);
    const trainable = loraVariables(adapter);
    assert.deepEqual(Object.keys(grads).sort(), trainable.map((v) => v.name).sort());
    for (const v of trainable) assert.ok((tf.norm(grads[v.name]!).dataSync()[0] ?? 0) > 0, `${v.name} gets a gradient`);
    // The gradient is the right one: a small step against it lowers the loss.
    const before = value.dataSync()[0]!;
    for (const v of trainable) v.assign(tf.sub(v, tf.mul(grads[v.name]!, 1e-3)));
    const afterStep = tf.tidy(() => tf.neg(tf.sum(tokenLogProbs(model, ids))).dataSync()[0]!);
    assert.ok(afterStep < before, `${afterStep} < ${before}`);
    tf.dispose([value, ids, ...Object.values(grads)]);
    disposeModel(model);
  });

  it('chooses target modules and scales as PEFT does', () => {
    const model = loadModel(join(dir, 'llama'));
    const paths = (targets: string[] | string) => loraTargets(defaultLoraConfig({ targetModules: targets }), model.linears.values()).map((l) => l.path);
    assert.deepEqual(paths(['q_proj']), ['model.layers.0.self_attn.q_proj', 'model.layers.1.self_attn.q_proj']);
    assert.deepEqual(paths('.*\\.1\\.mlp\\.(up|down)_proj'), ['model.layers.1.mlp.up_proj', 'model.layers.1.mlp.down_proj']);
    assert.equal(paths('all-linear').length, 14);
    assert.deepEqual(paths(['self_attn.o_proj']), ['model.layers.0.self_attn.o_proj', 'model.layers.1.self_attn.o_proj']);
    const config = defaultLoraConfig({ r: 16, alpha: 32, alphaPattern: { 'layers.1.self_attn.q_proj': 8 }, rankPattern: { v_proj: 4 } });
    assert.equal(loraScale(config, 'model.layers.0.self_attn.q_proj'), 2);
    assert.equal(loraScale(config, 'model.layers.1.self_attn.q_proj'), 0.5);
    assert.equal(loraScale(config, 'model.layers.0.self_attn.v_proj'), 8);
    assert.equal(loraScale({ ...config, useRslora: true }, 'model.layers.0.self_attn.q_proj'), 8);
    assert.throws(() => createLoraAdapter(model, defaultLoraConfig({ targetModules: ['c_attn'] })), /match no linear layer .* named q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj/);
    disposeModel(model);
  });

  it('refuses adapters it cannot apply, saying why', () => {
    const model = loadModel(join(dir, 'llama'));
    const folder = join(dir, 'dora');
    saveAdapter(folder, createLoraAdapter(model, defaultLoraConfig(), 1));
    const config = JSON.parse(readFileSync(join(folder, 'adapter_config.json'), 'utf8'));
    writeFileSync(join(folder, 'adapter_config.json'), JSON.stringify({ ...config, use_dora: true }));
    assert.throws(() => loadAdapter(folder, model), (e: Error) => e instanceof AdapterError && /DoRA/.test(e.message));
    const other = loadModel(join(dir, 'gpt2'));
    writeFileSync(join(folder, 'adapter_config.json'), JSON.stringify(config));
    assert.throws(() => loadAdapter(folder, other), /adapts "model\.layers\.0\.self_attn\.q_proj", which is not a linear layer of this GPT2LMHeadModel/);
    disposeModel(model);
    disposeModel(other);
  });
});

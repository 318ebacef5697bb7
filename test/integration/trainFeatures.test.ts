import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { runCli } from '../../src/cli/main.ts';
import { learningRateAt } from '../../src/core/training/learningRate.ts';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { loadAdapter } from '../../src/trainer/model/adapterFolder.ts';
import { disposeModel, type CausalLM } from '../../src/trainer/model/causalLM.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { SafetensorsFile } from '../../src/trainer/model/safetensors.ts';
import { tokenLogProbs } from '../../src/trainer/model/transformer.ts';
import type { TrainerLogEvent } from '../../src/protocol/trainerEvents.ts';
import { colorTask, deterministic, metricsEvents, tinyModel, train, workspace, writeConfig, writeJsonl, type ConfigSections } from './trainFixtures.ts';

const ws = workspace('train-features');
let llama: string;
let data: string;
let evalData: string;

const logs = (events: readonly { type: string }[]) => events.filter((e): e is TrainerLogEvent => e.type === 'log').map((e) => e.message);
const close = (a: number, b: number, tolerance: number) => Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b));

function config(name: string, sections: Partial<ConfigSections> = {}): string {
  return writeConfig(join(ws.dir, `${name}.yaml`), {
    model: { name: llama },
    ...sections,
    data: { train_path: data, ...sections.data },
    training: { output_dir: join(ws.dir, name), max_steps: 4, ...sections.training },
  });
}

async function trained(name: string, sections: Partial<ConfigSections> = {}, extra: string[] = []) {
  const run = await train(['--config', config(name, sections), ...extra]);
  assert.equal(run.code, 0, run.stderr);
  return run;
}

function logpsOf(model: CausalLM, ids: number[]): Float32Array {
  return tf.tidy(() => tokenLogProbs(model, tf.tensor2d([ids], [1, ids.length], 'int32')).dataSync() as Float32Array);
}

describe('training features', () => {
  before(async () => {
    await initBackend('wasm');
    llama = tinyModel(join(ws.dir, 'llama'));
    data = writeJsonl(join(ws.dir, 'train.jsonl'), colorTask(16));
    evalData = writeJsonl(join(ws.dir, 'eval.jsonl'), colorTask(4, 50));
  });
  after(() => ws.cleanup());

  it('the same config and seed give the same metrics, LoRA dropout included', async () => {
    const a = await trained('same-a', { lora: { r: 4, lora_dropout: 0.2 } });
    const b = await trained('same-b', { lora: { r: 4, lora_dropout: 0.2 } });
    assert.deepEqual(metricsEvents(a.events).map((e) => deterministic(e.metrics)), metricsEvents(b.events).map((e) => deterministic(e.metrics)));
    const c = await trained('same-c', { lora: { r: 4, lora_dropout: 0.2 }, training: { seed: 4 } });
    assert.notDeepEqual(metricsEvents(a.events).map((e) => e.metrics.loss), metricsEvents(c.events).map((e) => e.metrics.loss));
  });

  it('reference log-probabilities precomputed once are cached on disk, reused by the next run, and match the live reference', async () => {
    const sections = { data: { eval_path: evalData }, dpo: { precompute_ref_log_probs: true }, lora: { r: 4, lora_dropout: 0 } };
    const live = await trained('live', { data: { eval_path: evalData }, lora: { r: 4, lora_dropout: 0 } });
    const cached = await trained('cached', sections);
    assert.equal(logs(cached.events).filter((m) => /reference log-probabilities of \d+ pairs of .* computed in/.test(m)).length, 2, 'train and eval scored once each');
    assert.deepEqual(readdirSync(join(ws.dir, 'cached', 'ref_logps')).length, 2);
    const a = [...metricsEvents(live.events), ...live.events.filter((e) => e.type === 'eval')];
    const b = [...metricsEvents(cached.events), ...cached.events.filter((e) => e.type === 'eval')];
    a.forEach((e, i) => {
      const x = e.type === 'metrics' || e.type === 'eval' ? e.metrics : {};
      const y = b[i]!.type === 'metrics' || b[i]!.type === 'eval' ? (b[i] as { metrics: Record<string, number> }).metrics : {};
      for (const key of ['loss', 'rewards/chosen', 'rewards/margins', 'eval_loss', 'eval_rewards/margins']) if (key in x) assert.ok(close(y[key]!, x[key]!, 1e-4), `${key}: ${y[key]} vs ${x[key]}`);
    });
    const again = await trained('cached', sections, ['--overwrite_output_dir']);
    const reused = logs(again.events);
    assert.equal(reused.filter((m) => /reference log-probabilities of .* read from ref_logps\//.test(m)).length, 2);
    assert.ok(!reused.some((m) => /computed in/.test(m)));
    assert.deepEqual(
      metricsEvents(again.events).map((e) => deterministic(e.metrics)),
      metricsEvents(cached.events).map((e) => deterministic(e.metrics)),
    );
  });

  it('full fine-tuning (use_lora false) trains every weight against a frozen copy and resumes exactly', async () => {
    const sections = { lora: {}, training: { learning_rate: 1e-3, save_steps: 2 } };
    const straight = await trained('full', sections);
    assert.ok(close(metricsEvents(straight.events)[0]!.metrics.loss!, Math.LN2, 1e-6));
    assert.ok(logs(straight.events).some((m) => /full fine-tuning: all [\d,]+ parameters train/.test(m)));
    assert.ok(logs(straight.events).some((m) => /reference: a frozen copy of /.test(m)));
    assert.deepEqual(readdirSync(join(ws.dir, 'full', 'checkpoint-4')).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'optimizer.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'trainer_state.json']);
    const first = await train(['--config', config('full-halves', sections)], { stopWhen: (e) => e.type === 'checkpoint' && e.step === 2 });
    assert.equal(first.code, 130);
    const second = await train(['--config', config('full-halves', sections), '--resume']);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(
      [...metricsEvents(first.events), ...metricsEvents(second.events)].map((e) => deterministic(e.metrics)),
      metricsEvents(straight.events).map((e) => deterministic(e.metrics)),
    );
  });

  it('gradient accumulation: 2 micro-batches of 4 make the same steps as batches of 8', async () => {
    const lora = { r: 4, lora_dropout: 0 };
    const whole = await trained('acc-whole', { lora, training: { batch_size: 8, max_steps: 2 } });
    const halves = await trained('acc-halves', { lora, training: { batch_size: 4, gradient_accumulation_steps: 2, max_steps: 2 } });
    const a = metricsEvents(whole.events).map((e) => e.metrics);
    const b = metricsEvents(halves.events).map((e) => e.metrics);
    for (const key of ['loss', 'grad_norm', 'rewards/margins', 'logps/chosen']) a.forEach((m, i) => assert.ok(close(b[i]![key]!, m[key]!, 1e-4), `step ${i + 1} ${key}: ${b[i]![key]} vs ${m[key]}`));
  });

  it('schedules, mixing and the extra terms show in the metrics', async () => {
    const other = writeJsonl(join(ws.dir, 'other.jsonl'), colorTask(8, 200));
    const run = await trained('knobs', {
      data: { train_path: [{ path: data, weight: 3 }, { path: other, weight: 1 }], eval_path: evalData },
      dpo: { beta: 0.5, beta_end: 0.1, rpo_alpha: 0.5, length_normalize: true },
      training: { max_steps: 6, warmup_ratio: 0.34, lr_scheduler_type: 'cosine', eval_steps: 3 },
    });
    const m = metricsEvents(run.events).map((e) => e.metrics);
    assert.equal(m[0]!.beta, 0.5);
    assert.ok(close(m.at(-1)!.beta!, 0.1, 1e-9));
    m.forEach((x, i) => assert.ok(close(x.learning_rate!, learningRateAt(i, { peak: 5e-3, totalSteps: 6, warmupSteps: 3, type: 'cosine' }), 1e-12), `lr at step ${i + 1}`));
    assert.equal(m[0]!.learning_rate, 0, 'warm-up starts at 0, as transformers does');
    assert.ok(m.every((x) => x.nll_loss! > 0), 'rpo_alpha adds an NLL term, logged as nll_loss');
    assert.deepEqual(run.events.filter((e) => e.type === 'eval').map((e) => (e.type === 'eval' ? e.step : 0)), [3, 6]);
    const evalMetrics = run.events.find((e) => e.type === 'eval')!;
    assert.ok(evalMetrics.type === 'eval' && 'eval_rewards/accuracies' in evalMetrics.metrics && 'eval_nll_loss' in evalMetrics.metrics);
    assert.ok(logs(run.events).some((m) => /training data .*train\.jsonl \(weight 3\): 16 pairs/.test(m)));
  });

  for (const bits of [8, 4] as const) {
    it(`quantization.bits ${bits}: frozen weights stored quantized, memory saved and log-probability drift reported, and it trains`, async () => {
      const run = await trained(`q${bits}`, { quantization: { bits }, training: { max_steps: 6 } });
      assert.ok(logs(run.events).some((m) => new RegExp(`quantized 14 frozen linear weights to ${bits} bits .*saved [\\d.]+ MB.*drift against float32 on 8 pairs`).test(m)));
      const info = JSON.parse(readFileSync(join(ws.dir, `q${bits}`, 'run.json'), 'utf8'));
      const q = info.quantization;
      assert.equal(q.bits, bits);
      assert.ok(q.savedBytes / q.floatBytes > (bits === 8 ? 0.7 : 0.85), `saved ${q.savedBytes} of ${q.floatBytes}`);
      assert.ok(q.drift.meanAbs > 0 && q.drift.meanAbs < (bits === 8 ? 0.05 : 0.5), `drift ${q.drift.meanAbs}`);
      const m = metricsEvents(run.events).map((e) => e.metrics);
      assert.ok(close(m[0]!.loss!, Math.LN2, 1e-6), 'the reference (adapters off) is the same quantized base');
      assert.ok(m.at(-1)!['rewards/margins']! > 0);
    });
  }

  it('GPT-2: adapters on c_attn / attn.c_proj by default, saved with PEFT keys and shapes', async () => {
    const gpt2 = tinyModel(join(ws.dir, 'gpt2'), 'gpt2');
    const run = await train(['--config', writeConfig(join(ws.dir, 'gpt2.yaml'), { model: { name: gpt2 }, data: { train_path: data }, training: { output_dir: join(ws.dir, 'gpt2-out'), max_steps: 2 }, lora: { r: 4 } })]);
    assert.equal(run.code, 0, run.stderr);
    const file = SafetensorsFile.open(join(ws.dir, 'gpt2-out', 'final', 'adapter_model.safetensors'));
    assert.deepEqual(file.entry('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight').shape, [4, 64]);
    assert.deepEqual(file.entry('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight').shape, [192, 4]);
    assert.deepEqual(file.entry('base_model.model.transformer.h.1.attn.c_proj.lora_B.weight').shape, [64, 4]);
    assert.equal(file.names.length, 2 * 2 * 2);
    file.close();
    assert.equal(JSON.parse(readFileSync(join(ws.dir, 'gpt2-out', 'final', 'adapter_config.json'), 'utf8')).fan_in_fan_out, true);
  });

  it('Qwen3 (q/k norms, head_dim 32 with hidden 64 and 4 heads, bfloat16 weights): LoRA trains and export --merge equals base + adapter', async () => {
    const qwen3 = join(ws.dir, 'qwen3');
    initModel(qwen3, { arch: 'qwen3', size: 'tiny', seed: 21, dtype: 'BF16' });
    const out = join(ws.dir, 'qwen3-out');
    const run = await train(['--config', writeConfig(join(ws.dir, 'qwen3.yaml'), { model: { name: qwen3 }, data: { train_path: data }, training: { output_dir: out, max_steps: 4, learning_rate: 2e-2 } })]);
    assert.equal(run.code, 0, run.stderr);
    const m = metricsEvents(run.events).map((e) => e.metrics);
    assert.ok(close(m[0]!.loss!, Math.LN2, 1e-6), 'a fresh adapter leaves the policy equal to the reference');
    assert.notEqual(m.at(-1)!.loss, m[0]!.loss, 'it trains');
    const file = SafetensorsFile.open(join(out, 'final', 'adapter_model.safetensors'));
    assert.deepEqual(file.entry('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight').shape, [8, 64]);
    assert.deepEqual(file.entry('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight').shape, [4 * 32, 8], 'q_proj is heads x head_dim wide, not hidden');
    file.close();

    const merged = join(ws.dir, 'qwen3-merged');
    assert.equal(await runCli(['export', join(out, 'final'), '--out', merged, '--merge'], { out: { write: () => true }, err: { write: () => true } }), 0);
    const ids = [1, 300, 22, 5, 801, 64, 9, 410, 2];
    const adapted = loadModel(qwen3);
    loadAdapter(join(out, 'final'), adapted, { trainable: false });
    const expected = logpsOf(adapted, ids);
    disposeModel(adapted);
    const mergedModel = loadModel(merged);
    assert.ok(mergedModel.params.has('model.layers.1.self_attn.k_norm.weight'), 'the q/k norms are carried into the merged model');
    const got = logpsOf(mergedModel, ids);
    disposeModel(mergedModel);
    got.forEach((v, i) => assert.ok(close(v, expected[i]!, 1e-4), `token ${i}: ${v} vs ${expected[i]}`));
  });

  it('export --merge writes a Hugging Face model folder equal to base + adapter', async () => {
    await trained('to-export', { lora: { r: 4, target_modules: ['q_proj', 'v_proj', 'down_proj'] }, training: { max_steps: 3, learning_rate: 2e-2 } });
    const merged = join(ws.dir, 'merged');
    let stderr = '';
    let stdout = '';
    const code = await runCli(['export', join(ws.dir, 'to-export', 'final'), '--out', merged, '--merge'], { out: { write: (t: string) => (stdout += t) }, err: { write: (t: string) => (stderr += t) } });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /Wrote a merged model/);
    assert.deepEqual(readdirSync(merged).sort(), ['.dpo-studio-export.json', 'config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const ids = [1, 300, 22, 5, 801, 64, 9, 410, 2];
    const adapted = loadModel(llama);
    loadAdapter(join(ws.dir, 'to-export', 'final'), adapted, { trainable: false });
    const expected = logpsOf(adapted, ids);
    disposeModel(adapted);
    const base = loadModel(llama);
    const baseLogps = logpsOf(base, ids);
    disposeModel(base);
    const mergedModel = loadModel(merged);
    const got = logpsOf(mergedModel, ids);
    disposeModel(mergedModel);
    got.forEach((v, i) => assert.ok(close(v, expected[i]!, 1e-4), `token ${i}: ${v} vs ${expected[i]}`));
    assert.ok(got.some((v, i) => Math.abs(v - baseLogps[i]!) > 1e-3), 'the merge changed the weights');

    const adapterOnly = join(ws.dir, 'adapter-copy');
    assert.equal(await runCli(['export', join(ws.dir, 'to-export', 'checkpoint-3'), '--out', adapterOnly], { out: { write: () => true }, err: { write: () => true } }), 0);
    assert.deepEqual(readdirSync(adapterOnly).sort(), ['.dpo-studio-export.json', 'adapter_config.json', 'adapter_model.safetensors']);
  });
});

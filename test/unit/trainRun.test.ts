import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { parseTrainArgs } from '../../src/cli/trainCommand.ts';
import { runCli } from '../../src/cli/main.ts';
import { parseTrainingConfig } from '../../src/core/config/index.ts';
import { parseTrainerEvents } from '../../src/core/training/trainerEventStream.ts';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { loadAdapter } from '../../src/trainer/model/adapterFolder.ts';
import { disposeModel } from '../../src/trainer/model/causalLM.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';
import { SafetensorsFile } from '../../src/trainer/model/safetensors.ts';
import { TextTokenizer } from '../../src/trainer/tokenizer/textTokenizer.ts';
import { pairBatchLogps } from '../../src/trainer/train/pairBatchLogps.ts';
import { describeSkipped, loadDataset } from '../../src/trainer/train/trainingData.ts';
import { colorTask, metricsEvents, tinyModel, train, workspace, writeConfig, writeJsonl } from '../integration/trainFixtures.ts';

const ws = workspace('train-run');
let model: string;
let data: string;

describe('dpo-studio train', () => {
  before(async () => {
    await initBackend('wasm');
    model = tinyModel(join(ws.dir, 'model'));
    data = writeJsonl(join(ws.dir, 'train.jsonl'), colorTask(16));
  });
  after(() => ws.cleanup());

  it('with a fresh LoRA adapter the first sigmoid loss is ln 2 and the rewards are 0; events go to stdout and metrics.jsonl', async () => {
    const out = join(ws.dir, 'first');
    const config = writeConfig(join(ws.dir, 'first.yaml'), { model: { name: model }, data: { train_path: data }, training: { output_dir: out, max_steps: 2, save_steps: 1 } });
    const tensors = tf.memory().numTensors;
    const run = await train(['--config', config]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(tf.memory().numTensors, tensors, 'a run frees every tensor it made');
    const [first, second] = metricsEvents(run.events);
    assert.ok(Math.abs(first!.metrics.loss! - Math.LN2) < 1e-6, `first loss ${first!.metrics.loss}`);
    for (const key of ['rewards/chosen', 'rewards/rejected', 'rewards/margins', 'rewards/accuracies']) assert.equal(first!.metrics[key], 0, key);
    for (const key of ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected', 'logits/chosen', 'logits/rejected', 'grad_norm', 'learning_rate', 'epoch', 'step', 'tokens_per_second', 'elapsed_seconds'])
      assert.equal(typeof first!.metrics[key], 'number', key);
    assert.ok(first!.metrics['logps/chosen']! < 0 && first!.metrics.grad_norm! > 0);
    assert.notEqual(second!.metrics['rewards/margins'], 0, 'after one update the policy differs from the reference');

    // One stream: what the parent reads is what metrics.jsonl keeps.
    assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), run.stdout);
    assert.deepEqual(parseTrainerEvents(run.stdout).issues, []);
    assert.deepEqual([run.events[0]!.type, run.events.at(-1)!.type], ['log', 'end']);
    assert.equal(run.events.filter((e) => e.type === 'start').length, 1);
    assert.deepEqual(
      run.events.filter((e) => e.type === 'checkpoint').map((e) => [e.step, e.reason]),
      [
        [1, 'scheduled'],
        [2, 'final'],
      ],
    );
    assert.deepEqual(readdirSync(out).sort(), ['checkpoint-1', 'checkpoint-2', 'final', 'metrics.jsonl', 'run.json', 'tensorboard']);
    assert.deepEqual(readdirSync(join(out, 'checkpoint-2')).sort(), ['adapter_config.json', 'adapter_model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);
    const state = JSON.parse(readFileSync(join(out, 'checkpoint-2', 'trainer_state.json'), 'utf8'));
    assert.equal(state.global_step, 2);
    assert.equal(typeof state.rng_state, 'number');
    assert.equal(state.micro_batch, 2);
    assert.match(state.config_hash, /^[0-9a-f]{16}$/);
    const runInfo = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    assert.equal(runInfo.status, 'completed');
    assert.equal(runInfo.run_id, state.run_id);

    // PEFT's layout: lora_A [r, in], lora_B [out, r] under base_model.model.<module path>.
    const weights = SafetensorsFile.open(join(out, 'final', 'adapter_model.safetensors'));
    assert.deepEqual(weights.entry('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight').shape, [8, 64]);
    assert.deepEqual(weights.entry('base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight').shape, [32, 8]);
    assert.deepEqual(weights.entry('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight').shape, [8, 192]);
    assert.equal(weights.names.length, 2 * 7 * 2);
    weights.close();
    const adapterConfig = JSON.parse(readFileSync(join(out, 'final', 'adapter_config.json'), 'utf8'));
    assert.deepEqual([adapterConfig.peft_type, adapterConfig.r, adapterConfig.lora_alpha, adapterConfig.task_type], ['LORA', 8, 16, 'CAUSAL_LM']);
  });

  it('a saved adapter loaded by `logps --adapter` reproduces the policy log-probabilities', async () => {
    const adapterDir = join(ws.dir, 'first', 'final');
    const scores = join(ws.dir, 'scores.jsonl');
    let stderr = '';
    const code = await runCli(['logps', '--model', model, '--adapter', adapterDir, '--data', data, '--out', scores, '--backend', 'wasm', '--max-length', '64', '--max-prompt-length', '32'], {
      out: { write: () => true },
      err: { write: (t: string) => (stderr += t) },
    });
    assert.equal(code, 0, stderr);
    const lines = readFileSync(scores, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { chosen_logps: number; rejected_logps: number });

    // The trainer's own forward pass over the same records with the trained adapter.
    const policy = loadModel(model);
    loadAdapter(adapterDir, policy, { trainable: false });
    const tokenizer = TextTokenizer.fromFolder(model);
    const dataset = await loadDataset(data, ws.dir, tokenizer, { max_length: 64, max_prompt_length: 32, truncation_mode: 'keep_end' });
    const [chosen, rejected] = tf.tidy(() => {
      const out = pairBatchLogps(policy, dataset.examples, tokenizer.padTokenId, { training: false });
      return [out.chosen.dataSync(), out.rejected.dataSync()];
    });
    disposeModel(policy);
    const baseline = loadModel(model);
    const base = tf.tidy(() => pairBatchLogps(baseline, dataset.examples.slice(0, 1), tokenizer.padTokenId, { training: false }).chosen.dataSync()[0]!);
    disposeModel(baseline);
    assert.equal(lines.length, 16);
    lines.forEach((l, i) => {
      assert.ok(Math.abs(l.chosen_logps - chosen![i]!) < 1e-4 * Math.abs(chosen![i]!), `record ${i} chosen: ${l.chosen_logps} vs ${chosen![i]}`);
      assert.ok(Math.abs(l.rejected_logps - rejected![i]!) < 1e-4 * Math.abs(rejected![i]!), `record ${i} rejected`);
    });
    assert.ok(Math.abs(base - chosen![0]!) > 1e-3, 'the adapter changed the model');
  });

  it('reads every format (chat turns through the template), leaves out records with errors and cuts long prompts, reporting each with its line', async () => {
    const mixed = join(ws.dir, 'mixed.jsonl');
    const good = colorTask(4).map((r) => JSON.stringify(r));
    const chat = JSON.stringify({ prompt: [{ role: 'user', content: 'Answer with red.' }], chosen: [{ role: 'assistant', content: 'red' }], rejected: [{ role: 'assistant', content: 'blue' }] });
    writeFileSync(mixed, [good[0], '{"prompt": "p", "chosen": 5, "rejected": "x"}', good[1], JSON.stringify({ prompt: 'word '.repeat(100), chosen: 'a', rejected: 'b' }), good[2], good[3], chat].join('\n') + '\n');
    const out = join(ws.dir, 'mixed-out');
    const config = writeConfig(join(ws.dir, 'mixed.yaml'), { model: { name: model }, data: { train_path: mixed, max_length: 48, max_prompt_length: 24 }, training: { output_dir: out, max_steps: 1 } });
    const run = await train(['--config', config]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /mixed\.jsonl:2:\d+: skipped record 1: "chosen" must be a string \[schema-type\]/);
    assert.match(run.stderr, /training data .*mixed\.jsonl: 6 pairs, 1 skipped for errors, 1 truncated to max_length 48 \/ max_prompt_length 24 \(keep_end\)/);
    const logs = run.events.filter((e) => e.type === 'log').map((e) => e.message);
    assert.ok(logs.some((m) => /skipped record 1/.test(m)));
    const info = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    assert.deepEqual(
      [info.datasets[0].pairs, info.datasets[0].skipped, info.datasets[0].dropped_prompt_too_long, info.datasets[0].truncated],
      [6, 1, 0, 1],
    );
  });

  it('a prompt longer than max_prompt_length is cut to it (keep_end or keep_start), not dropped; only a prompt with no room left is', async () => {
    const tokenizer = TextTokenizer.fromFolder(model);
    const words = Array.from({ length: 400 }, (_, i) => `w${i}`).join(' ');
    const path = join(ws.dir, 'long-prompt.jsonl');
    writeFileSync(path, JSON.stringify({ prompt: words, chosen: 'red red', rejected: 'blue blue' }) + '\n');
    const promptIds = tokenizer.encode(words);
    assert.ok(promptIds.length > 128, `the prompt is ${promptIds.length} tokens`);
    const limits = { max_length: 128, max_prompt_length: 64 };
    const end = await loadDataset(path, ws.dir, tokenizer, { ...limits, truncation_mode: 'keep_end' });
    assert.equal(end.dropped.length, 0);
    assert.equal(end.truncated, 1);
    assert.deepEqual(end.examples[0]!.promptIds, promptIds.slice(-64));
    const start = await loadDataset(path, ws.dir, tokenizer, { ...limits, truncation_mode: 'keep_start' });
    assert.deepEqual(start.examples[0]!.promptIds, promptIds.slice(0, 64));
    assert.deepEqual(start.examples[0]!.chosenIds, tokenizer.encode('red red').concat(tokenizer.eosTokenId === undefined ? [] : [tokenizer.eosTokenId]));
    // max_prompt_length not below max_length (refused in a config, possible through the API): no room for an answer.
    const noRoom = await loadDataset(path, ws.dir, tokenizer, { max_length: 128, max_prompt_length: 200, truncation_mode: 'keep_end' });
    assert.equal(noRoom.dropped.length, 1);
    assert.match(describeSkipped(noRoom)[0]!, /long-prompt\.jsonl:1: dropped record 0: its prompt, cut to data\.max_prompt_length, is still 200 tokens/);
  });

  it('reports config problems at their key or flag and trains nothing (exit 2)', async () => {
    const bad = join(ws.dir, 'bad.yaml');
    writeFileSync(bad, `model:\n  name: ${model}\ndpo:\n  loss_type: sigmod\ntraining:\n  output_dir: ${join(ws.dir, 'never')}\n`);
    const run = await train(['--config', bad, '--learning_rate', 'fast']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /bad\.yaml:4:14: error: .*sigmod/);
    assert.match(run.stderr, /--learning_rate: error: /);
    assert.deepEqual(run.events.map((e) => e.type), ['error', 'end']);
    assert.ok(!existsSync(join(ws.dir, 'never')));
  });

  it('takes the guide\'s flags and any key by dotted path', () => {
    const args = parseTrainArgs(['--model_name', 'm', '--dataset_path=d.jsonl', '--num_epochs', '2', '--beta', '0.2', '--lora.r', '4', '--use_lora', '--resume', '--max_steps', '-1']);
    assert.deepEqual(args.overrides, { model_name: 'm', dataset_path: 'd.jsonl', num_epochs: '2', beta: '0.2', 'lora.r': '4', use_lora: '', max_steps: '-1' });
    assert.equal(args.resume, true);
    const { config } = parseTrainingConfig('', '(command line)', args.overrides);
    assert.deepEqual(
      [config!.model.name, config!.data.train_path, config!.training.num_epochs, config!.dpo.beta, config!.lora.r, config!.lora.use_lora, config!.training.max_steps],
      ['m', 'd.jsonl', 2, 0.2, 4, true, -1],
    );
  });

  it('refuses to mix a new run into an earlier one, and to resume with a changed config', async () => {
    const out = join(ws.dir, 'first');
    const again = writeConfig(join(ws.dir, 'again.yaml'), { model: { name: model }, data: { train_path: data }, training: { output_dir: out, max_steps: 2, save_steps: 1 } });
    const fresh = await train(['--config', again]);
    assert.equal(fresh.code, 2);
    assert.match(fresh.stderr, /already holds a run .*--resume .*--overwrite_output_dir/);
    const changed = await train(['--config', again, '--resume', '--learning_rate', '1e-3', '--lora.r', '4']);
    assert.equal(changed.code, 2);
    assert.match(changed.stderr, /config changed since .*checkpoint-2/);
    assert.match(changed.stderr, /lora\.r: 8 → 4/);
    assert.match(changed.stderr, /training\.learning_rate: 0\.005 → 0\.001/);
  });

  it('a run that cannot start says why in one line, without a stack, and leaves nothing that blocks the corrected run', async () => {
    const file = join(ws.dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const onFile = await train(['--config', writeConfig(join(ws.dir, 'onfile.yaml'), { model: { name: model }, data: { train_path: data }, training: { output_dir: file, max_steps: 1 } })]);
    assert.equal(onFile.code, 2);
    assert.match(onFile.stderr, /error: training\.output_dir .*not-a-folder is a file, not a directory/);
    assert.doesNotMatch(onFile.stderr, /\n\s+at |ENOTDIR/);

    const truncated = join(ws.dir, 'truncated-model');
    mkdirSync(truncated);
    for (const name of readdirSync(model)) writeFileSync(join(truncated, name), readFileSync(join(model, name)));
    const weights = readFileSync(join(truncated, 'model.safetensors'));
    writeFileSync(join(truncated, 'model.safetensors'), weights.subarray(0, weights.length >> 1));
    const unsupported = join(ws.dir, 'falcon-model');
    mkdirSync(unsupported);
    for (const name of readdirSync(model)) writeFileSync(join(unsupported, name), readFileSync(join(model, name)));
    const configJson = JSON.parse(readFileSync(join(unsupported, 'config.json'), 'utf8'));
    writeFileSync(join(unsupported, 'config.json'), JSON.stringify({ ...configJson, architectures: ['FalconForCausalLM'], model_type: 'falcon' }));

    const out = join(ws.dir, 'never-started');
    const config = writeConfig(join(ws.dir, 'never.yaml'), { model: { name: model }, data: { train_path: data }, training: { output_dir: out, max_steps: 1 } });
    for (const [bad, message] of [[truncated, /model\.safetensors is not a valid safetensors file: .*truncated/], [unsupported, /architecture "FalconForCausalLM" is not supported/]] as const) {
      const run = await train(['--config', config, '--model_name', bad]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(existsSync(out), false, 'nothing left in the output folder');
    }
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const badAgain = await train(['--config', config, '--model_name', truncated]);
    assert.equal(badAgain.code, 2);
    assert.deepEqual(readdirSync(out), ['notes.txt'], 'a folder the run did not create is kept, with what it held');
    const corrected = await train(['--config', config]);
    assert.equal(corrected.code, 0, corrected.stderr);
  });

  it('an unwritable output dir or a full disk is one clear error', async () => {
    const file = join(ws.dir, 'a-file');
    writeFileSync(file, 'x');
    const blocked = writeConfig(join(ws.dir, 'blocked.yaml'), { model: { name: model }, data: { train_path: data }, training: { output_dir: join(file, 'out'), max_steps: 1 } });
    const run = await train(['--config', blocked]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /error: cannot write the output directory .*a-file\/out: a parent of that path is a file, not a directory \(ENOTDIR\)/);

    // /dev/full answers every write with ENOSPC, as a full disk does.
    if (!existsSync('/dev/full')) return;
    const full = join(ws.dir, 'full-out');
    mkdirSync(full);
    symlinkSync('/dev/full', join(full, 'metrics.jsonl'));
    const fullConfig = writeConfig(join(ws.dir, 'full.yaml'), { model: { name: model }, data: { train_path: data }, training: { output_dir: full, max_steps: 1 } });
    const diskFull = await train(['--config', fullConfig, '--resume']);
    assert.notEqual(diskFull.code, 0);
    assert.match(diskFull.stderr, /error: cannot write metrics .*metrics\.jsonl: the disk is full \(ENOSPC\)/);
    assert.deepEqual(diskFull.events.slice(-2).map((e) => e.type), ['error', 'end']);
  });
});

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { findLatestCheckpoint } from '../../src/trainer/train/index.ts';
import { colorTask, metricsEvents, nanScenario, spawnTrain, tinyModel, train, workspace, writeConfig, writeJsonl } from './trainFixtures.ts';

const ws = workspace('train-faults');

describe('faults', () => {
  before(async () => {
    await initBackend('wasm');
  });
  after(() => ws.cleanup());

  it('a NaN loss stops the run naming the step, micro-batch and records; the last good checkpoint stays', async () => {
    const { model, data, bad, seed, badStep } = nanScenario(ws.dir);

    const out = join(ws.dir, 'nan-out');
    const config = writeConfig(join(ws.dir, 'nan.yaml'), { model: { name: model }, data: { train_path: data }, training: { output_dir: out, save_steps: 1, seed } });
    const run = await train(['--config', config]);
    assert.equal(run.code, 1);
    const error = run.events.find((e) => e.type === 'error');
    assert.ok(error?.type === 'error');
    assert.match(error.message, new RegExp(`the loss is NaN at step ${badStep}, micro-batch 1 of 1 \\(records .*nan\\.jsonl:${bad + 1}\\b`));
    assert.equal(error.step, badStep);
    assert.equal(error.lastCheckpoint, join(out, `checkpoint-${badStep - 1}`));
    assert.deepEqual(run.events.at(-1), { ...run.events.at(-1), type: 'end', status: 'failed', step: badStep });
    assert.deepEqual(metricsEvents(run.events).map((e) => e.step), Array.from({ length: badStep - 1 }, (_, i) => i + 1));
    assert.ok(!existsSync(join(out, `checkpoint-${badStep}`)));
    assert.equal(findLatestCheckpoint(out)!.state.global_step, badStep - 1);
    assert.match(run.stderr, /last good checkpoint: .*checkpoint-/);
    assert.equal(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).status, 'failed');
  });

  it('resume passes over a truncated or unreadable newer checkpoint, saying so, and starts from the newest whole one', async () => {
    const model = tinyModel(join(ws.dir, 'corrupt-model'));
    const data = writeJsonl(join(ws.dir, 'corrupt.jsonl'), colorTask(16));
    const out = join(ws.dir, 'corrupt-out');
    const config = writeConfig(join(ws.dir, 'corrupt.yaml'), { model: { name: model }, data: { train_path: data }, training: { output_dir: out, save_steps: 1, num_epochs: 2 } });
    const first = await train(['--config', config], { stopWhen: (e) => e.type === 'checkpoint' && e.step === 4 });
    assert.equal(first.code, 130, first.stderr);
    const weights = join(out, 'checkpoint-4', 'adapter_model.safetensors');
    truncateSync(weights, statSync(weights).size - 100);
    writeFileSync(join(out, 'checkpoint-3', 'trainer_state.json'), '{"format": 1, "global_st');
    const resumed = await train(['--config', config, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /checkpoint-4 is not usable \(adapter_model\.safetensors is not a valid safetensors file: tensor .* past the end of the file .*\); falling back to .*checkpoint-2/);
    assert.match(resumed.stderr, /checkpoint-3 is not usable \(trainer_state\.json: .*JSON.*\); falling back to .*checkpoint-2/);
    assert.match(resumed.stderr, /resumed from .*checkpoint-2 at step 2/);
    assert.deepEqual(metricsEvents(resumed.events)[0]!.step, 3);

    // Nothing usable at all: refused, naming each, instead of silently starting over.
    for (const name of readdirSync(out).filter((n) => n.startsWith('checkpoint-'))) writeFileSync(join(out, name, 'optimizer.safetensors'), 'x');
    const none = await train(['--config', config, '--resume']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no checkpoint in .* can be resumed from:\n  .*checkpoint-8: optimizer\.safetensors is not a valid safetensors file: it is only 1 bytes long/);
    assert.doesNotMatch(none.stderr, /last good checkpoint/);
  });

  it('SIGTERM also ends with a checkpoint (exit 143), and the JSON lines on stdout are the whole protocol', async () => {
    const model = tinyModel(join(ws.dir, 'term-model'));
    const data = writeJsonl(join(ws.dir, 'term.jsonl'), colorTask(64));
    const out = join(ws.dir, 'term-out');
    const config = writeConfig(join(ws.dir, 'term.yaml'), { model: { name: model }, data: { train_path: data }, training: { output_dir: out, num_epochs: 3 } });
    let sent = false;
    const run = await spawnTrain(['--config', config], (event, child) => {
      if (!sent && event.type === 'metrics' && event.step >= 2) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    assert.equal(run.code, 143, run.stderr);
    assert.deepEqual([...new Set(run.events.map((e) => e.type))].sort(), ['checkpoint', 'end', 'log', 'metrics', 'start']);
    const checkpoint = run.events.filter((e) => e.type === 'checkpoint').at(-1)!;
    assert.ok(checkpoint.type === 'checkpoint' && checkpoint.reason === 'interrupted');
    assert.ok(existsSync(join(checkpoint.path, 'trainer_state.json')));
  });
});

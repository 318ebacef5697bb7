import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTrainerEvents } from '../../src/core/training/trainerEventStream.ts';
import type { TrainerEvent } from '../../src/protocol/trainerEvents.ts';
import { colorTask, spawnTrain, tinyModel, train, workspace, writeConfig, writeJsonl, type TrainRun } from './trainFixtures.ts';

const ws = workspace('lock');
let model: string;
let data: string;

function steps(outputDir: string): number[] {
  const events = parseTrainerEvents(readFileSync(join(outputDir, 'metrics.jsonl'), 'utf8')).events;
  return events.filter((e): e is Extract<TrainerEvent, { type: 'metrics' }> => e.type === 'metrics').map((e) => e.step);
}

describe('one writer per output folder', () => {
  before(() => {
    model = tinyModel(join(ws.dir, 'model'));
    data = writeJsonl(join(ws.dir, 'train.jsonl'), colorTask(16));
  });
  after(() => ws.cleanup());

  it('a second train, resume or overwrite into a folder being trained is refused; after kill -9 the stale lock is taken over', async () => {
    const out = join(ws.dir, 'dupr');
    const config = writeConfig(join(ws.dir, 'c.yaml'), { model: { name: model }, data: { train_path: data }, training: { output_dir: out, num_epochs: 30, save_steps: 2 } });
    const second: Record<string, TrainRun> = {};
    let checked = false;
    const first = await spawnTrain(['--config', config], (event, child) => {
      if (checked || event.type !== 'checkpoint') return;
      checked = true;
      child.stdout?.pause();
      void (async () => {
        second.resume = await train(['--config', config, '--resume']);
        second.overwrite = await train(['--config', config, '--overwrite_output_dir']);
        second.fresh = await train(['--config', config]);
        child.kill('SIGKILL');
      })();
    });
    assert.equal(first.signal, 'SIGKILL', first.stderr);
    for (const [how, run] of Object.entries(second)) {
      assert.equal(run.code, 2, `${how}: ${run.stderr}`);
      assert.match(run.stderr, /training\.output_dir .*dupr is in use by dpo-studio train \(pid \d+ on .*, since .*\): wait for it to finish or stop it first/, how);
      assert.equal(run.events.filter((e) => e.type === 'metrics').length, 0, `${how} trained nothing`);
    }
    // The refused runs touched nothing: the file is the first run's, one step after another.
    const before = steps(out);
    assert.ok(before.length > 0);
    assert.deepEqual(before, [...before].sort((a, b) => a - b));
    assert.equal(new Set(before).size, before.length);
    assert.ok(existsSync(join(out, '.dpo-studio.lock')), 'kill -9 leaves its lock');

    const again = await train(['--config', config, '--resume']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /took over the lock of dpo-studio train \(pid \d+ .*\), which is no longer running/);
    const after = steps(out);
    assert.deepEqual(after, [...after].sort((a, b) => a - b));
    assert.equal(new Set(after).size, after.length);
    assert.ok(!existsSync(join(out, '.dpo-studio.lock')), 'a finished run releases its lock');
  });
});

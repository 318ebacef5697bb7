import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RunRegistry, type RunChange } from '../../src/extension/training/runRegistry.ts';
import type { TrainerEvent } from '../../src/protocol/trainerEvents.ts';

const T = new Date().toISOString();
const start = (outputDir: string, resumedFromStep?: number): TrainerEvent => ({
  type: 'start', version: 1, runId: 'r1', time: T, model: 'models/tiny', dataset: ['data/t.jsonl'], outputDir, backend: 'wasm', lossType: 'sigmoid', totalSteps: 10, config: {},
  ...(resumedFromStep !== undefined ? { resumedFromStep } : {}),
});
const metrics = (step: number): TrainerEvent => ({ type: 'metrics', step, time: T, metrics: { loss: 1 / step, elapsed_seconds: step } });
const line = (e: TrainerEvent) => JSON.stringify(e) + '\n';

function workspace(body: (root: string, registry: RunRegistry, changes: RunChange[]) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'dpo-registry-'));
  try {
    const registry = new RunRegistry(() => [root]);
    const changes: RunChange[] = [];
    registry.onDidChangeRun.add((c) => changes.push(c));
    body(root, registry, changes);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('run registry', () => {
  it('finds runs on disk and tells their state: completed, or still being written (running elsewhere)', () =>
    workspace((root, registry) => {
      const done = join(root, 'outputs/done');
      const busy = join(root, 'outputs/busy');
      mkdirSync(done, { recursive: true });
      mkdirSync(busy, { recursive: true });
      writeFileSync(join(done, 'metrics.jsonl'), line(start(done)) + line(metrics(1)) + line({ type: 'end', time: T, status: 'completed', step: 10, finalCheckpoint: join(done, 'final') }));
      writeFileSync(join(busy, 'metrics.jsonl'), line(start(busy)) + line(metrics(1)) + line(metrics(2)));
      registry.discover();
      const infos = registry.infos();
      assert.deepEqual(infos.map((i) => [i.label, i.status]).sort(), [['outputs/busy', 'running'], ['outputs/done', 'completed']]);
      const busyInfo = registry.info(busy)!;
      assert.equal(busyInfo.step, 2);
      assert.equal(busyInfo.canStop, false, 'not trained by this window: nothing to stop here');
      assert.equal(busyInfo.etaSeconds, 8);
      assert.equal(registry.info(done)!.canResume, false, 'a completed run is not resumed');
    }));

  it('follows what another trainer appends, a line written in two parts included', () =>
    workspace((root, registry, changes) => {
      const dir = join(root, 'outputs/a');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'metrics.jsonl');
      writeFileSync(file, line(start(dir)) + line(metrics(1)));
      registry.discover();
      const series = registry.series(dir)!;
      assert.equal(series.train.length, 1);
      const third = line(metrics(3));
      appendFileSync(file, line(metrics(2)) + third.slice(0, 10));
      changes.length = 0;
      registry.poll();
      assert.equal(series.train.length, 2);
      assert.deepEqual(changes, [{ key: dir, rows: true }]);
      appendFileSync(file, third.slice(10));
      registry.poll();
      assert.deepEqual([...series.train.steps], [1, 2, 3]);
    }));

  it('reads a rewritten file again (a resume trims the steps it will redo)', () =>
    workspace((root, registry) => {
      const dir = join(root, 'outputs/a');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'metrics.jsonl');
      writeFileSync(file, line(start(dir)) + [1, 2, 3, 4].map((s) => line(metrics(s))).join(''));
      registry.discover();
      const before = registry.series(dir)!;
      assert.equal(before.train.length, 4);
      // The trainer replaces the file atomically (a temporary file renamed over it) with the steps
      // up to its checkpoint, then appends: the file may well be longer than before by the next poll.
      writeFileSync(`${file}.tmp`, line(start(dir)) + line(metrics(1)) + line(metrics(2)) + line(start(dir, 2)) + line(metrics(3)));
      renameSync(`${file}.tmp`, file);
      registry.poll();
      assert.deepEqual([...registry.series(dir)!.train.steps], [1, 2, 3]);
      assert.equal(registry.summary(dir)!.starts, 2);
    }));

  it('a live run takes its events from the trainer, and is followed from the file again after it ends', () =>
    workspace((root, registry) => {
      const dir = join(root, 'outputs/live');
      registry.beginLive(dir);
      assert.equal(registry.info(dir)!.status, 'waiting');
      assert.equal(registry.info(dir)!.canStop, true);
      mkdirSync(dir, { recursive: true });
      const events = [start(dir), metrics(1), metrics(2), { type: 'checkpoint', step: 2, time: T, path: join(dir, 'checkpoint-2'), reason: 'interrupted' }, { type: 'end', time: T, status: 'stopped', step: 2 }] as TrainerEvent[];
      writeFileSync(join(dir, 'metrics.jsonl'), events.map(line).join(''));
      for (const e of events) registry.applyLive(dir, e);
      registry.endLive(dir);
      const info = registry.info(dir)!;
      assert.equal(info.status, 'stopped');
      assert.equal(info.canResume, true);
      assert.equal(info.lastCheckpoint, join(dir, 'checkpoint-2'));
      // Nothing is read twice: the file's events were seen live.
      registry.poll();
      assert.equal(registry.series(dir)!.train.length, 2);
      assert.equal(registry.summary(dir)!.starts, 1);
    }));
});

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTrainerEvents } from '../../src/core/training/trainerEventStream.ts';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { findLatestCheckpoint } from '../../src/trainer/train/index.ts';
import type { TrainerEvalEvent, TrainerEvent, TrainerStartEvent } from '../../src/protocol/trainerEvents.ts';
import { colorTask, deterministic, metricsEvents, spawnTrain, tinyModel, train, workspace, writeConfig, writeJsonl } from './trainFixtures.ts';

// Stopping and resuming must not change the run: N steps straight and N/2 + stop + resume give
// the same metrics. The config exercises every piece of state a resume must restore: LoRA
// dropout (RNG), AdamW moments, LR warm-up and decay, a beta schedule, an open logging window
// and the eval schedule.

const ws = workspace('train-resume');
let model: string;
let data: string;
let evalData: string;
let straight: TrainerEvent[];

function configFor(name: string, training: Record<string, unknown> = {}): string {
  return writeConfig(join(ws.dir, `${name}.yaml`), {
    model: { name: model },
    data: { train_path: data, eval_path: evalData },
    dpo: { beta: 0.3, beta_end: 0.1 },
    training: { output_dir: join(ws.dir, name), num_epochs: 2, logging_steps: 3, save_steps: 5, eval_steps: 4, warmup_steps: 2, lr_scheduler_type: 'cosine', ...training },
    lora: { r: 4, lora_alpha: 8, lora_dropout: 0.1, target_modules: ['q_proj', 'v_proj', 'up_proj'] },
  });
}

const startOf = (events: readonly TrainerEvent[]) => events.find((e): e is TrainerStartEvent => e.type === 'start')!;
const scored = (events: readonly TrainerEvent[]) => events.filter((e): e is Extract<TrainerEvent, { type: 'metrics' | 'eval' }> => e.type === 'metrics' || e.type === 'eval');

/** The resumed run's metrics and evals, step by step, equal the straight run's (timing aside). */
function assertSameRun(events: readonly TrainerEvent[], what: string): void {
  const got = scored(events);
  const want = scored(straight);
  assert.deepEqual(got.map((e) => `${e.type}@${e.step}`), want.map((e) => `${e.type}@${e.step}`), `${what}: the same metrics and evals at the same steps`);
  got.forEach((e, i) => {
    const a = deterministic(e.metrics);
    const b = deterministic(want[i]!.metrics);
    delete a.eval_runtime;
    delete a.eval_samples_per_second;
    delete b.eval_runtime;
    delete b.eval_samples_per_second;
    assert.deepEqual(Object.keys(a), Object.keys(b));
    for (const key of Object.keys(a)) assert.ok(Math.abs(a[key]! - b[key]!) <= 1e-5 * Math.max(1, Math.abs(b[key]!)), `${what}: ${e.type} ${key} at step ${e.step}: ${a[key]} vs ${b[key]}`);
  });
}

/** metrics.jsonl of an output dir. */
function fileEvents(name: string): TrainerEvent[] {
  const { events, issues } = parseTrainerEvents(readFileSync(join(ws.dir, name, 'metrics.jsonl'), 'utf8'));
  assert.deepEqual(issues, []);
  return events;
}

describe('stop and resume', () => {
  before(async () => {
    await initBackend('wasm');
    model = tinyModel(join(ws.dir, 'model'));
    data = writeJsonl(join(ws.dir, 'train.jsonl'), colorTask(32));
    evalData = writeJsonl(join(ws.dir, 'eval.jsonl'), colorTask(8, 100));
    const run = await train(['--config', configFor('straight')]);
    assert.equal(run.code, 0, run.stderr);
    straight = run.events;
    assert.deepEqual(metricsEvents(straight).map((e) => e.step), [3, 6, 9, 12, 15, 16]);
    assert.deepEqual(straight.filter((e): e is TrainerEvalEvent => e.type === 'eval').map((e) => e.step), [4, 8, 12, 16]);
  });
  after(() => ws.cleanup());

  it('16 steps straight equal 5 steps, stop, resume, 11 steps (stopped inside a logging window)', async () => {
    const first = await train(['--config', configFor('halves')], { stopWhen: (e) => e.type === 'checkpoint' && e.step === 5 });
    assert.equal(first.code, 130, first.stderr);
    assert.deepEqual(first.events.at(-1), { ...first.events.at(-1), type: 'end', status: 'stopped', step: 5 });
    // Step 5 was just saved on schedule: nothing new to write at the stop.
    assert.deepEqual(first.events.filter((e) => e.type === 'checkpoint').map((e) => [e.step, e.reason]), [[5, 'scheduled']]);
    const second = await train(['--config', configFor('halves'), '--resume']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(startOf(second.events).resumedFromStep, 5);
    assert.equal(startOf(second.events).runId, startOf(first.events).runId, 'a resumed run keeps its id');
    assertSameRun([...first.events, ...second.events], 'in-process stop at 5');
    assertSameRun(fileEvents('halves'), 'metrics.jsonl');
  });

  it('a stop between checkpoints writes one for the step it finished', async () => {
    const first = await train(['--config', configFor('between')], { stopWhen: (e) => e.type === 'metrics' && e.step === 9 });
    assert.equal(first.code, 130);
    assert.deepEqual(first.events.filter((e) => e.type === 'checkpoint').map((e) => [e.step, e.reason]), [[5, 'scheduled'], [9, 'interrupted']]);
    assert.ok(existsSync(join(ws.dir, 'between', 'checkpoint-9', 'trainer_state.json')));
    const second = await train(['--config', configFor('between'), '--resume']);
    assert.equal(second.code, 0, second.stderr);
    assertSameRun([...first.events, ...second.events], 'stop at 9');
  });

  it('SIGINT to the trainer process: it finishes the step, saves, exits 130, and --resume completes the same run', async () => {
    const config = configFor('sigint');
    let sent = false;
    const first = await spawnTrain(['--config', config], (event, child) => {
      if (!sent && event.type === 'metrics') {
        sent = true;
        child.kill('SIGINT');
      }
    });
    assert.equal(first.code, 130, first.stderr);
    assert.match(first.stderr, /SIGINT: finishing the current step, then saving a checkpoint/);
    const end = first.events.at(-1)!;
    assert.equal(end.type, 'end');
    assert.equal(end.type === 'end' && end.status, 'stopped');
    const stoppedAt = end.type === 'end' ? end.step : -1;
    assert.ok(stoppedAt >= 3 && stoppedAt < 16, `stopped at ${stoppedAt}`);
    assert.ok(existsSync(join(ws.dir, 'sigint', `checkpoint-${stoppedAt}`, 'trainer_state.json')));
    const second = await spawnTrain(['--config', config, '--resume']);
    assert.equal(second.code, 0, second.stderr);
    assertSameRun([...first.events, ...second.events], 'SIGINT');
    assertSameRun(fileEvents('sigint'), 'SIGINT metrics.jsonl');
  });

  it('after kill -9 a resume loses only the steps since the last checkpoint, and metrics.jsonl stays one continuous run', async () => {
    const config = configFor('killed');
    const first = await spawnTrain(['--config', config], (event, child) => {
      if (event.type === 'metrics' && event.step >= 6) child.kill('SIGKILL');
    });
    assert.equal(first.signal, 'SIGKILL');
    assert.ok(!first.events.some((e) => e.type === 'end'));
    // The newest complete checkpoint on disk (5, or 10 if the kill landed late) is where it goes on.
    const onDisk = findLatestCheckpoint(join(ws.dir, 'killed'))!.state.global_step;
    assert.ok(onDisk === 5 || onDisk === 10, `newest checkpoint ${onDisk}`);
    const second = await train(['--config', config, '--resume']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(startOf(second.events).resumedFromStep, onDisk);
    // The metrics of step 6 the killed run logged were dropped from the file and logged again.
    assertSameRun(fileEvents('killed'), 'kill -9 metrics.jsonl');
  });
});

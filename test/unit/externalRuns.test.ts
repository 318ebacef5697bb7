import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findTrainerState, trainerStateEvents } from '../../src/core/training/externalRuns.ts';
import { findRunFolders, findRuns } from '../../src/core/training/runDiscovery.ts';
import { applyToSummary, emptySummary } from '../../src/core/training/runSummary.ts';
import { RunSeries } from '../../src/core/training/metricTable.ts';

// The shape transformers' Trainer writes (trainer_state.json of a TRL 1.13 DPO run).
function trainerState(globalStep: number, maxSteps: number): string {
  const log = [];
  for (let step = 1; step <= globalStep; step++) {
    log.push({ epoch: step / maxSteps, grad_norm: 0.4, learning_rate: 5e-3, 'logps/chosen': -44 + step, loss: 0.7 - step / 100, 'rewards/margins': step / 10, step });
    if (step % 2 === 0) log.push({ epoch: step / maxSteps, eval_loss: 0.69 - step / 100, 'eval_rewards/margins': step / 20, eval_runtime: 0.1, step });
  }
  if (globalStep === maxSteps) log.push({ epoch: 1, step: globalStep, total_flos: 0, train_loss: 0.68, train_runtime: 1.2, train_samples_per_second: 30 });
  return JSON.stringify({ best_global_step: null, epoch: globalStep / maxSteps, global_step: globalStep, max_steps: maxSteps, log_history: log, logging_steps: 1 }, null, 2);
}

describe('runs made by plain TRL scripts', () => {
  it('reads a trainer_state.json log history as the events of a run', () => {
    const events = trainerStateEvents(trainerState(4, 4), '/runs/plain', new Date('2026-12-01T00:00:00Z'))!;
    assert.deepEqual(
      events.map((e) => `${e.type}${'step' in e ? `@${e.step}` : ''}`),
      ['start', 'metrics@1', 'metrics@2', 'eval@2', 'metrics@3', 'metrics@4', 'eval@4', 'end@4'],
    );
    const summary = events.reduce(applyToSummary, emptySummary());
    assert.equal(summary.state, 'completed');
    assert.equal(summary.external, true);
    assert.equal(summary.engine, 'trl');
    assert.equal(summary.lastMetrics.loss, 0.7 - 4 / 100);
    const series = new RunSeries();
    series.applyAll(events);
    assert.equal(series.train.length, 4, 'the charts get a row per logged step');
    assert.equal(series.eval.length, 2);
  });

  it('leaves a run that is still training unfinished, and refuses what is not a Trainer state', () => {
    const events = trainerStateEvents(trainerState(2, 10), '/runs/plain', new Date())!;
    assert.equal(events.at(-1)!.type, 'eval');
    assert.equal(trainerStateEvents('{"global_step": 3}', '/x', new Date()), undefined);
    assert.equal(trainerStateEvents('not json', '/x', new Date()), undefined);
  });

  it('finds such runs beside DPO Studio runs, by the newest checkpoint when the folder has no state of its own', () => {
    const root = mkdtempSync(join(tmpdir(), 'external-runs-'));
    try {
      mkdirSync(join(root, 'outputs', 'ours', 'checkpoint-2'), { recursive: true });
      writeFileSync(join(root, 'outputs', 'ours', 'metrics.jsonl'), '');
      writeFileSync(join(root, 'outputs', 'ours', 'checkpoint-2', 'trainer_state.json'), trainerState(2, 2));
      for (const step of [2, 10]) {
        mkdirSync(join(root, 'trl', 'script-run', `checkpoint-${step}`), { recursive: true });
        writeFileSync(join(root, 'trl', 'script-run', `checkpoint-${step}`, 'trainer_state.json'), trainerState(step, 10));
      }
      assert.equal(findTrainerState(join(root, 'trl', 'script-run')), join(root, 'trl', 'script-run', 'checkpoint-10', 'trainer_state.json'));
      assert.deepEqual(findRuns([root]), [{ dir: join(root, 'outputs', 'ours') }, { dir: join(root, 'trl', 'script-run'), trainerState: join(root, 'trl', 'script-run', 'checkpoint-10', 'trainer_state.json') }]);
      assert.deepEqual(findRunFolders([root]), [join(root, 'outputs', 'ours')]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseTrainingConfig } from '../../src/core/config/index.ts';
import { trainingConfigTemplate } from '../../src/core/training/configTemplate.ts';
import { clampSmoothing, emaSmooth, EmaSmoother } from '../../src/core/training/emaSmoothing.ts';
import { estimateEta, formatDuration } from '../../src/core/training/eta.ts';
import { MetricTable, RunSeries } from '../../src/core/training/metricTable.ts';
import { metricsCsv } from '../../src/core/training/metricsCsv.ts';
import { findRunFolders, runLabel } from '../../src/core/training/runDiscovery.ts';
import { summarizeEvents, summaryEta } from '../../src/core/training/runSummary.ts';
import { parseTrainerEvents } from '../../src/core/training/trainerEventStream.ts';
import type { TrainerEvent } from '../../src/protocol/trainerEvents.ts';

const T = '2026-11-21T00:00:00.000Z';
const start = (extra: Partial<Extract<TrainerEvent, { type: 'start' }>> = {}): TrainerEvent => ({
  type: 'start', version: 1, runId: 'r1', time: T, model: 'models/tiny', dataset: ['data/train.jsonl'], outputDir: '/w/outputs/a',
  backend: 'wasm', lossType: 'sigmoid', totalSteps: 10, config: {}, ...extra,
});
const metrics = (step: number, loss: number, extra: Record<string, number> = {}): TrainerEvent => ({
  type: 'metrics', step, time: T, metrics: { loss, 'rewards/margins': step / 10, elapsed_seconds: step * 2, step, ...extra },
});
const evalAt = (step: number, loss: number): TrainerEvent => ({ type: 'eval', step, time: T, metrics: { eval_loss: loss, epoch: step / 10 } });

describe('metric table', () => {
  it('keeps rows as typed columns, NaN where a row lacks a metric, and grows past its first capacity', () => {
    const table = new MetricTable();
    for (let step = 1; step <= 200; step++) table.append(step, step % 2 ? { loss: step } : { loss: step, nll_loss: -step });
    assert.equal(table.length, 200);
    assert.ok(table.steps instanceof Float64Array);
    assert.deepEqual([...table.steps.slice(0, 3)], [1, 2, 3]);
    assert.deepEqual([...table.column('nll_loss')!.slice(0, 4)], [Number.NaN, -2, Number.NaN, -4]);
    assert.equal(table.column('loss')![199], 200);
    assert.deepEqual(table.names(), ['loss', 'nll_loss'], 'the step inside metrics is the row key, not a column');
  });

  it('a step that is not after the last one replaces the rows from that step on, and bumps the version', () => {
    const table = new MetricTable();
    for (const step of [1, 2, 3, 4]) table.append(step, { loss: step, extra: 9 });
    const version = table.version;
    table.append(3, { loss: 30 });
    assert.deepEqual([...table.steps], [1, 2, 3]);
    assert.deepEqual([...table.column('loss')!], [1, 2, 30]);
    assert.ok(Number.isNaN(table.column('extra')![2]), 'a redone row does not inherit the old row\'s values');
    assert.ok(table.version > version);
  });

  it('mirrors another table by appending its rows', () => {
    const source = new MetricTable();
    const mirror = new MetricTable();
    for (let step = 1; step <= 5; step++) source.append(step * 10, { loss: 1 / step });
    mirror.appendRows(source.rowsFrom(0));
    source.append(60, { loss: 0.1, grad_norm: 2 });
    mirror.appendRows(source.rowsFrom(mirror.length));
    assert.deepEqual([...mirror.steps], [10, 20, 30, 40, 50, 60]);
    assert.deepEqual([...mirror.column('grad_norm')!].map((v) => (Number.isNaN(v) ? null : v)), [null, null, null, null, null, 2]);
  });

  it('truncateAfter keeps the rows up to and including the step', () => {
    const table = new MetricTable();
    for (const step of [5, 10, 15, 20]) table.append(step, { loss: step });
    assert.equal(table.truncateAfter(12), true);
    assert.deepEqual([...table.steps], [5, 10]);
    assert.equal(table.truncateAfter(10), false);
    assert.deepEqual([...table.steps], [5, 10]);
  });
});

describe('run series from events', () => {
  it('a resumed run drops the steps after its checkpoint; a fresh start clears the run', () => {
    const series = new RunSeries();
    series.applyAll([start(), metrics(1, 0.69), metrics(2, 0.68), evalAt(2, 0.7), metrics(3, 0.67), evalAt(3, 0.66)]);
    series.apply(start({ resumedFromStep: 2 }));
    assert.deepEqual([...series.train.steps], [1, 2]);
    assert.deepEqual([...series.eval.steps], [2]);
    series.applyAll([metrics(3, 0.5), metrics(4, 0.4)]);
    assert.deepEqual([...series.train.column('loss')!], [0.69, 0.68, 0.5, 0.4]);
    series.apply(start());
    assert.equal(series.train.length, 0);
    assert.equal(series.eval.length, 0);
  });
});

describe('EMA smoothing (TensorBoard)', () => {
  it('debiases the start, so the first point is the first value', () => {
    const out = emaSmooth([2, 4, 6], 0.6);
    assert.equal(out[0], 2);
    // last = (0*0.6 + 0.4*2)*0.6 + 0.4*4 = 2.08; debias 1 - 0.36 = 0.64 -> 3.25
    assert.ok(Math.abs(out[1]! - 3.25) < 1e-12);
  });

  it('weight 0 is the data itself; a constant series stays constant at any weight', () => {
    assert.deepEqual([...emaSmooth([1, 5, 3], 0)], [1, 5, 3]);
    for (const v of emaSmooth([0.7, 0.7, 0.7, 0.7], 0.99)) assert.ok(Math.abs(v - 0.7) < 1e-12);
  });

  it('skips missing points and continues across calls like one pass', () => {
    const values = [1, Number.NaN, 3, 2, 8];
    const whole = emaSmooth(values, 0.9);
    assert.ok(Number.isNaN(whole[1]));
    const smoother = new EmaSmoother(0.9);
    const parts = values.map((v) => smoother.next(v));
    assert.deepEqual(parts, [...whole]);
    assert.equal(whole[2], emaSmooth([1, 3], 0.9)[1]);
  });

  it('clamps the weight below 1 (a curve that never moves) and above 0', () => {
    assert.equal(clampSmoothing(1), 0.999);
    assert.equal(clampSmoothing(-3), 0);
    assert.equal(clampSmoothing(Number.NaN), 0);
  });
});

describe('ETA', () => {
  it('is the remaining steps times the recent pace', () => {
    const samples = [0, 1, 2, 3, 4].map((i) => ({ step: 10 + i, seconds: 100 + 2 * i }));
    assert.deepEqual(estimateEta(samples, 20), { secondsPerStep: 2, remainingSeconds: 12 });
  });

  it('follows the recent pace, not the whole history', () => {
    const slow = Array.from({ length: 30 }, (_, i) => ({ step: i + 1, seconds: i * 10 }));
    const fast = Array.from({ length: 20 }, (_, i) => ({ step: 31 + i, seconds: 300 + i }));
    const eta = estimateEta([...slow, ...fast], 100)!;
    assert.equal(eta.secondsPerStep, 1);
    assert.equal(eta.remainingSeconds, 50);
  });

  it('is unknown with fewer than two steps or no total', () => {
    assert.equal(estimateEta([{ step: 1, seconds: 1 }], 10), undefined);
    assert.equal(estimateEta([{ step: 1, seconds: 1 }, { step: 2, seconds: 2 }], undefined), undefined);
  });

  it('formats short durations', () => {
    assert.deepEqual([0, 45, 187, 7500, -1, undefined].map(formatDuration), ['0s', '45s', '3m07s', '2h05m', '?', '?']);
  });
});

describe('run summary', () => {
  it('follows a run through start, steps, checkpoint and end', () => {
    const s = summarizeEvents([start(), metrics(1, 0.69), metrics(2, 0.6), { type: 'checkpoint', step: 2, time: T, path: '/w/outputs/a/checkpoint-2', reason: 'scheduled' }]);
    assert.equal(s.state, 'unfinished');
    assert.equal(s.step, 2);
    assert.equal(s.lastMetrics.loss, 0.6);
    assert.equal(s.lastCheckpoint, '/w/outputs/a/checkpoint-2');
    assert.deepEqual(summaryEta(s), { secondsPerStep: 2, remainingSeconds: 16 });
    const ended = summarizeEvents([start(), metrics(1, 0.69), { type: 'end', time: T, status: 'completed', step: 10, finalCheckpoint: '/w/outputs/a/final' }]);
    assert.equal(ended.state, 'completed');
    assert.equal(ended.finalCheckpoint, '/w/outputs/a/final');
    assert.equal(summaryEta(ended), undefined);
  });

  it('a resumed run keeps its history, counts its starts and paces only the new process', () => {
    const s = summarizeEvents([start(), metrics(1, 0.7), metrics(2, 0.6), { type: 'end', time: T, status: 'stopped', step: 2 }, start({ resumedFromStep: 2 }), metrics(3, 0.5)]);
    assert.equal(s.state, 'unfinished');
    assert.equal(s.starts, 2);
    assert.equal(s.resumedFromStep, 2);
    assert.deepEqual(s.progress.map((p) => p.step), [3]);
  });

  it('a failed run keeps its error and last good checkpoint', () => {
    const s = summarizeEvents([start(), { type: 'error', time: T, message: 'loss is NaN at step 4', step: 4, lastCheckpoint: '/c-2' }, { type: 'end', time: T, status: 'failed', step: 4 }]);
    assert.equal(s.state, 'failed');
    assert.equal(s.error, 'loss is NaN at step 4');
    assert.equal(s.lastCheckpoint, '/c-2');
  });

  it('reads a metrics.jsonl whose last line was torn by a kill', () => {
    const text = [start(), metrics(1, 0.69), metrics(2, 0.6)].map((e) => JSON.stringify(e)).join('\n') + '\n{"type":"metrics","step":3,"met';
    const { events, issues } = parseTrainerEvents(text);
    const s = summarizeEvents(events);
    assert.equal(s.step, 2);
    assert.deepEqual(issues.map((i) => i.message), ['truncated last line']);
  });
});

describe('metrics CSV', () => {
  it('one row per step, training then eval columns, empty cells where a step has no value', () => {
    const series = new RunSeries();
    series.applyAll([start(), metrics(1, 0.69, { epoch: 0.1 }), metrics(2, 0.6, { epoch: 0.2 }), evalAt(2, 0.65), evalAt(3, 0.61)]);
    const csv = metricsCsv(series);
    // epoch is in both streams: one column, filled from the eval row where training has none.
    assert.equal(
      csv,
      ['step,loss,rewards/margins,elapsed_seconds,epoch,eval_loss', '1,0.69,0.1,2,0.1,', '2,0.6,0.2,4,0.2,0.65', '3,,,,0.3,0.61', ''].join('\n'),
    );
  });

  it('quotes a header that needs it and round-trips numbers exactly', () => {
    const series = new RunSeries();
    series.apply({ type: 'metrics', step: 1, time: T, metrics: { 'a,b': 0.1 + 0.2 } });
    const [header, row] = metricsCsv(series).trim().split('\n');
    assert.equal(header, 'step,"a,b"');
    assert.equal(Number(row!.split(',')[1]), 0.1 + 0.2);
  });
});

describe('run discovery', () => {
  it('finds output folders with a metrics.jsonl, not their checkpoints, hidden folders or node_modules', () => {
    const root = mkdtempSync(join(tmpdir(), 'dpo-runs-'));
    try {
      const touch = (rel: string) => {
        mkdirSync(join(root, rel, '..'), { recursive: true });
        writeFileSync(join(root, rel), '');
      };
      touch('outputs/a/metrics.jsonl');
      touch('outputs/a/checkpoint-10/metrics.jsonl');
      touch('outputs/b/run1/metrics.jsonl');
      touch('node_modules/x/metrics.jsonl');
      touch('.cache/y/metrics.jsonl');
      touch('data/train.jsonl');
      const found = findRunFolders([root]);
      assert.deepEqual(found.map((f) => runLabel(f, [root])), ['outputs/a', 'outputs/b/run1']);
      assert.deepEqual(findRunFolders([root], { maxDepth: 2 }).map((f) => runLabel(f, [root])), ['outputs/a']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('config template', () => {
  it('is a valid training config as written, with or without eval data', () => {
    for (const evalPath of ['data/eval.jsonl', undefined]) {
      const text = trainingConfigTemplate({ modelName: 'models/tiny-llama', trainPath: 'data/train.jsonl', evalPath, outputDir: 'outputs/my-run' });
      const { config, problems } = parseTrainingConfig(text, 'my-run.dpo.yaml');
      assert.deepEqual(problems.filter((p) => p.severity === 'error'), []);
      assert.equal(config?.model.name, 'models/tiny-llama');
      assert.equal(config?.training.output_dir, 'outputs/my-run');
      assert.equal(config?.data.eval_path, evalPath);
      assert.equal(config?.lora.use_lora, true);
    }
  });

  it('quotes values YAML would read as something else', () => {
    const text = trainingConfigTemplate({ modelName: 'yes', trainPath: 'my data/train #1.jsonl', outputDir: '1e5' });
    const { config } = parseTrainingConfig(text, 'x.yaml');
    assert.equal(config?.model.name, 'yes');
    assert.equal(config?.data.train_path, 'my data/train #1.jsonl');
    assert.equal(config?.training.output_dir, '1e5');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planBatches } from '../../src/core/training/batchPlan.ts';
import { learningRateAt, warmupStepsFor } from '../../src/core/training/learningRate.ts';
import { SeededRandom } from '../../src/core/training/seededRandom.ts';

describe('seeded random', () => {
  it('repeats from a saved state', () => {
    const a = new SeededRandom(7);
    a.next();
    const saved = a.getState();
    const rest = [a.next(), a.next(), a.next()];
    const b = new SeededRandom(0);
    b.setState(saved);
    assert.deepEqual([b.next(), b.next(), b.next()], rest);
    assert.notDeepEqual(new SeededRandom(8).shuffle([1, 2, 3, 4, 5, 6, 7, 8]), new SeededRandom(7).shuffle([1, 2, 3, 4, 5, 6, 7, 8]));
  });
});

describe('learning rate', () => {
  const base = { peak: 1e-3, totalSteps: 100, warmupSteps: 10 };
  it('warms up linearly, then decays as configured', () => {
    assert.equal(learningRateAt(0, { ...base, type: 'linear' }), 0);
    assert.equal(learningRateAt(5, { ...base, type: 'linear' }), 5e-4);
    assert.equal(learningRateAt(10, { ...base, type: 'linear' }), 1e-3);
    assert.ok(Math.abs(learningRateAt(55, { ...base, type: 'linear' }) - 5e-4) < 1e-12);
    assert.equal(learningRateAt(100, { ...base, type: 'linear' }), 0);
    assert.ok(Math.abs(learningRateAt(55, { ...base, type: 'cosine' }) - 5e-4) < 1e-12);
    assert.ok(Math.abs(learningRateAt(32.5, { ...base, type: 'cosine' }) - 1e-3 * 0.5 * (1 + Math.cos(Math.PI / 4))) < 1e-12);
    assert.equal(learningRateAt(90, { ...base, type: 'constant' }), 1e-3);
  });
  it('takes warm-up steps over a ratio', () => {
    assert.equal(warmupStepsFor(200, 0, 0.1), 20);
    assert.equal(warmupStepsFor(200, 7, 0.1), 7);
  });
});

describe('batch plan', () => {
  it('covers every record once per epoch in micro-batches, same for the same seed', () => {
    const plan = planBatches({ sizes: [10], epochs: 2, batchSize: 4, accumulation: 2, seed: 1 });
    assert.deepEqual(plan.microBatches.map((b) => b.length), [4, 4, 2, 4, 4, 2]);
    assert.equal(plan.optimizerSteps, 3);
    const firstEpoch = plan.microBatches.slice(0, 3).flat().map((e) => e.record).sort((a, b) => a - b);
    assert.deepEqual(firstEpoch, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(planBatches({ sizes: [10], epochs: 2, batchSize: 4, accumulation: 2, seed: 1 }), plan);
    assert.notDeepEqual(planBatches({ sizes: [10], epochs: 2, batchSize: 4, accumulation: 2, seed: 2 }).microBatches, plan.microBatches);
  });

  it('mixes several datasets by weight', () => {
    const plan = planBatches({ sizes: [100, 10], weights: [1, 3], epochs: 1, batchSize: 10, accumulation: 1, seed: 3 });
    const fromSecond = plan.microBatches.flat().filter((e) => e.dataset === 1);
    assert.equal(plan.examplesPerEpoch, 110);
    assert.equal(fromSecond.length, 82);
    assert.ok(fromSecond.every((e) => e.record < 10));
    const counts = new Map<number, number>();
    fromSecond.forEach((e) => counts.set(e.record, (counts.get(e.record) ?? 0) + 1));
    assert.ok([...counts.values()].every((n) => n === 8 || n === 9), 'a repeated dataset is cycled through evenly');
  });
});

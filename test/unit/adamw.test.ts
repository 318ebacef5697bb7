import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { AdamW, clipByGlobalNorm } from '../../src/trainer/dpo/adamw.ts';

describe('AdamW', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('matches torch.optim.AdamW step by step', () => {
    // By hand for p = 1, g = 0.5, lr = 0.1, wd = 0.01, betas (0.9, 0.999), eps 1e-8:
    // step 1: p = 1·(1 − 0.001) − 0.1 · (0.05/0.1) / (sqrt(0.00025/0.001) + 1e-8) = 0.999 − 0.1 = 0.899
    // step 2 (g = 0.5): m = 0.095, v = 0.00049975; m̂ = 0.5, v̂ = 0.25 → p = 0.899·0.999 − 0.1 = 0.798101
    const p = tf.variable(tf.scalar(1));
    const optimizer = new AdamW(new Map([['w', p]]), { weightDecay: 0.01 });
    optimizer.step(new Map([['w', tf.scalar(0.5)]]), 0.1);
    assert.ok(Math.abs(p.dataSync()[0]! - 0.899) < 1e-6);
    optimizer.step(new Map([['w', tf.scalar(0.5)]]), 0.1);
    assert.ok(Math.abs(p.dataSync()[0]! - 0.798101) < 1e-6);
  });

  it('resumes exactly from its saved state', () => {
    const run = (resumeAt?: number) => {
      const p = tf.variable(tf.tensor1d([1, -2, 3]));
      let optimizer = new AdamW(new Map([['w', p]]), { weightDecay: 0.1 });
      for (let step = 0; step < 6; step++) {
        if (step === resumeAt) {
          const saved = new Map([...optimizer.stateTensors()].map(([k, t]) => [k, t.clone()]));
          const count = optimizer.stepCount;
          optimizer = new AdamW(new Map([['w', p]]), { weightDecay: 0.1 });
          optimizer.loadState(saved, count);
        }
        optimizer.step(new Map([['w', tf.mul(p, 0.3)]]), 0.05);
      }
      return Array.from(p.dataSync());
    };
    assert.deepEqual(run(3), run());
  });

  it('clips by global norm and reports the norm before clipping', () => {
    const { grads, norm } = clipByGlobalNorm(new Map([['a', tf.tensor1d([3, 0])], ['b', tf.tensor1d([0, 4])]]), 1);
    assert.ok(Math.abs(norm - 5) < 1e-6);
    assert.ok(Math.abs(grads.get('a')!.dataSync()[0]! - 0.6) < 1e-5);
    assert.ok(Math.abs(grads.get('b')!.dataSync()[1]! - 0.8) < 1e-5);
    const untouched = new Map([['a', tf.tensor1d([0.3])]]);
    assert.equal(clipByGlobalNorm(untouched, 1).grads, untouched);
  });
});

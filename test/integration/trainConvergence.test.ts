import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../../src/trainer/backend/index.ts';
import type { TrainerEvalEvent } from '../../src/protocol/trainerEvents.ts';
import { colorTask, metricsEvents, tinyModel, train, workspace, writeConfig, writeJsonl } from './trainFixtures.ts';

// A learnable preference on init-model's tiny Llama: the prompt names a colour and the chosen
// answer repeats it. A fresh model is right about half the time; each loss must learn it, on
// the training pairs and on held-out ones.

const ws = workspace('train-converge');
let model: string;
let data: string;
let evalData: string;

async function learn(lossType: 'sigmoid' | 'ipo' | 'simpo', beta: number) {
  const config = writeConfig(join(ws.dir, `${lossType}.yaml`), {
    model: { name: model },
    data: { train_path: data, eval_path: evalData },
    dpo: { loss_type: lossType, beta },
    training: { output_dir: join(ws.dir, lossType), num_epochs: 3, batch_size: 8, logging_steps: 4 },
  });
  const run = await train(['--config', config]);
  assert.equal(run.code, 0, run.stderr);
  const metrics = metricsEvents(run.events).map((e) => e.metrics);
  const evals = run.events.filter((e): e is TrainerEvalEvent => e.type === 'eval').map((e) => e.metrics);
  return { metrics, evals };
}

describe('DPO learns a synthetic preference on the tiny model', () => {
  before(async () => {
    await initBackend('wasm');
    model = tinyModel(join(ws.dir, 'model'));
    data = writeJsonl(join(ws.dir, 'train.jsonl'), colorTask(64));
    evalData = writeJsonl(join(ws.dir, 'eval.jsonl'), colorTask(16, 1000));
  });
  after(() => ws.cleanup());

  for (const [lossType, beta] of [
    ['sigmoid', 0.1],
    ['ipo', 0.5],
    ['simpo', 2],
  ] as const) {
    it(`${lossType}: rewards/accuracies reaches 0.95 and the margins grow`, async () => {
      const { metrics, evals } = await learn(lossType, beta);
      const first = metrics[0]!;
      const last = metrics.at(-1)!;
      assert.ok(first['rewards/accuracies']! < 0.8, `starts near chance: ${first['rewards/accuracies']}`);
      assert.ok(last['rewards/accuracies']! >= 0.95, `accuracy ${last['rewards/accuracies']}`);
      assert.ok(last['rewards/margins']! > first['rewards/margins']! + 0.2, `margins ${first['rewards/margins']} → ${last['rewards/margins']}`);
      assert.ok(last.loss! < first.loss!, `loss ${first.loss} → ${last.loss}`);
      assert.ok(evals.at(-1)!['eval_rewards/accuracies']! >= 0.95, `held-out accuracy ${evals.at(-1)!['eval_rewards/accuracies']}`);
      if (lossType === 'ipo') {
        // IPO regresses the (length-averaged) log-ratio gap to 1/(2β): the reward margin β·gap settles at 1/2.
        assert.ok(Math.abs(last['rewards/margins']! - 0.5) < 0.05, `ipo margin ${last['rewards/margins']}`);
      }
    });
  }
});

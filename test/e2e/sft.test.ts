// Supervised fine-tuning in a real VS Code (code-server + chromium): "DPO: Create Config (SFT or
// DPO)" offers an SFT template beside the DPO one, and an SFT run's dashboard shows the charts that
// fit it (loss, eval loss, token accuracy, learning rate) instead of empty reward charts.
// Run: npm run build && node --import tsx --test --test-concurrency=1 test/e2e/sft.test.ts

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { prepare } from '../../scripts/vscode/prepare.mjs';
import { parseTrainingConfig } from '../../src/core/config/trainingConfig.ts';
import { withVSCode, type VSCodeSession } from './harness.ts';
import { sampleWorkspaceCopy, writeSampleModel } from './sampleWorkspace.ts';

const SFT_CONFIG = 'configs/tiny-demo.sft.yaml';
const PIPELINE_CONFIG = 'configs/tiny-demo.sft-dpo.yaml';
/** 50 records at batch 4 for 2 epochs. */
const TOTAL_STEPS = 26;

let modelDir = '';

before(async () => {
  await prepare();
  modelDir = writeSampleModel(path.join(mkdtempSync(path.join(os.tmpdir(), 'dpo-e2e-sft-model-')), 'tiny-llama'));
}, { timeout: 20 * 60_000 });

after(() => {
  if (modelDir) rmSync(path.dirname(modelDir), { recursive: true, force: true });
});

function dashboard(vs: VSCodeSession) {
  return vs.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

async function chart(vs: VSCodeSession, id: string): Promise<{ points: number; hidden: boolean }> {
  const card = dashboard(vs).locator(`section.chart-card[data-chart="${id}"]`);
  return { points: Number((await card.getAttribute('data-points', { timeout: 2000 })) ?? 0), hidden: (await card.getAttribute('hidden', { timeout: 2000 })) !== null };
}

test('an SFT config from the template, an SFT run whose dashboard draws loss and token accuracy, not rewards, and SFT then DPO as one task', { timeout: 20 * 60_000 }, async (t) => {
  await withVSCode(t, { copy: sampleWorkspaceCopy(modelDir) }, async (vs) => {
    await vs.waitForActivation();

    // The palette's "Create Config" asks what the run trains; SFT writes the SFT template.
    await vs.runCommand('DPO: Create Config (SFT or DPO)');
    await vs.pickQuickInputItem('SFT');
    const input = vs.page.locator('.quick-input-widget input');
    await vs.waitFor('the path of the new config', async () => (await input.inputValue()) === 'configs/my-run.sft.yaml');
    await vs.page.keyboard.press('Enter');
    const created = vs.path('configs/my-run.sft.yaml');
    await vs.waitFor('the SFT config to be written', () => existsSync(created), { timeoutMs: 30_000 });
    const { config, problems } = parseTrainingConfig(readFileSync(created, 'utf8'), created);
    assert.deepEqual(problems.filter((p) => p.severity === 'error'), []);
    assert.equal(config?.training.stage, 'sft');
    assert.equal(config?.model.name, 'models/tiny-llama', 'the workspace model was filled in');
    assert.equal(config?.data.train_path, 'data/sft_train.jsonl', 'the workspace SFT data was filled in');
    await vs.escape();

    // "DPO: Train" on the sample SFT config.
    await vs.runCommand('DPO: Train');
    await vs.waitFor('the quick pick of "DPO: Train"', async () => (await vs.page.locator('.quick-input-widget .quick-input-title').textContent())?.trim() === 'DPO: Train');
    await vs.pickQuickInputItem(SFT_CONFIG);
    await vs.waitFor('the SFT run to complete', async () => (await dashboard(vs).locator('header.run-header').getAttribute('data-status', { timeout: 2000 })) === 'completed', { timeoutMs: 600_000, intervalMs: 500 });

    const loss = await vs.waitFor('the loss chart to hold every step', async () => {
      const c = await chart(vs, 'loss');
      return c.points === TOTAL_STEPS && c;
    }, { timeoutMs: 30_000 });
    assert.equal(loss.hidden, false);
    const accuracy = await chart(vs, 'token-accuracy');
    assert.deepEqual(accuracy, { points: TOTAL_STEPS, hidden: false }, 'token accuracy is drawn at every step');
    assert.equal((await chart(vs, 'learning-rate')).hidden, false);
    for (const id of ['rewards', 'margins', 'accuracies', 'logps']) assert.equal((await chart(vs, id)).hidden, true, `the ${id} chart is left out of an SFT run`);
    // Eval loss and eval token accuracy (the held-out records) came with the run, for the charts' eval lines.
    const evals = readFileSync(vs.path('outputs/tiny-sft/metrics.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"eval"'));
    assert.ok(evals.length >= 5 && evals.every((l) => /"eval_loss":/.test(l) && /"eval_mean_token_accuracy":/.test(l)), `eval events: ${evals.length}`);
    const facts = await dashboard(vs).locator('header.run-header').textContent();
    assert.match(facts ?? '', /SFT/);
    assert.ok(existsSync(vs.path('outputs/tiny-sft/final/model.safetensors')), 'the fine-tuned model was written to final/');

    // The whole pipeline (stages: [sft, dpo]) is one task; the dashboard shows both of its runs.
    await vs.runCommand('DPO: Train');
    await vs.pickQuickInputItem(PIPELINE_CONFIG);
    const runStatus = async (dir: string) => dashboard(vs).locator(`.run-row[data-run$="${dir}"]`).getAttribute('data-status', { timeout: 2000 }).catch(() => null);
    await vs.waitFor('both runs of the pipeline to complete', async () => (await runStatus('outputs/pipeline-sft')) === 'completed' && (await runStatus('outputs/pipeline-dpo')) === 'completed', { timeoutMs: 600_000, intervalMs: 1000 });
    const starts = readFileSync(vs.path('outputs/pipeline-dpo/metrics.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"start"'));
    assert.equal(starts.length, 1);
    assert.match(starts[0]!, /"model":"outputs\/pipeline-sft"/, 'DPO started from the SFT run');
    // The dashboard followed the task from the SFT run to the DPO run, whose reward charts are back (drawn once scrolled to).
    await vs.waitFor('the dashboard to focus the DPO run', async () => (await dashboard(vs).locator('header.run-header .run-title').textContent({ timeout: 2000 }))?.includes('outputs/pipeline-dpo'), { timeoutMs: 30_000 });
    await dashboard(vs).locator('section.chart-card[data-chart="rewards"]').scrollIntoViewIfNeeded();
    await vs.waitFor('the reward chart of the DPO run to be drawn', async () => {
      const rewards = await chart(vs, 'rewards');
      return !rewards.hidden && rewards.points > 0;
    }, { timeoutMs: 30_000 });
  });
});

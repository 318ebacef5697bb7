// "DPO: Train" in a real VS Code (code-server + chromium): the task trains the sample
// workspace's tiny model, the dashboard plots the loss as it comes, Stop writes a checkpoint,
// Resume goes on from it, and after a window reload the dashboard shows the run again.
// Run: npm run build && node --import tsx --test --test-concurrency=1 test/e2e/training.test.ts

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { prepare, repoRoot } from '../../scripts/vscode/prepare.mjs';
import { parseTrainerEvents } from '../../src/core/training/trainerEventStream.ts';
import { withVSCode, type VSCodeSession } from './harness.ts';
import { sampleWorkspaceCopy, writeSampleModel } from './sampleWorkspace.ts';
import { trlPython } from '../integration/trlFixtures.ts';

const TEST_TIMEOUT = 30 * 60_000;
const CONFIG = 'configs/tiny-demo.dpo.yaml';
const OUTPUT = 'outputs/tiny-demo';
/**
 * The sample config trains 2 epochs (26 steps), which a quiet machine finishes in about ten
 * seconds, and 6 epochs once finished before a freshly started VS Code had drawn the dashboard:
 * too soon to see the chart grow and to stop the run mid-way. The test's copy trains 20 epochs
 * of the same 50 pairs at batch 4 (about a minute and a half on a quiet machine).
 */
const EPOCHS = 20;
const TOTAL_STEPS = 13 * EPOCHS;
const LONGER_DEMO_CONFIG = readFileSync(path.join(repoRoot, 'samples', 'configs', 'tiny-demo.dpo.yaml'), 'utf8').replace(/num_epochs: 2\b/, `num_epochs: ${EPOCHS}`);

let modelDir = '';

before(async () => {
  await prepare();
  // The sample workspace's model, as `npm start` makes it.
  modelDir = writeSampleModel(path.join(mkdtempSync(path.join(os.tmpdir(), 'dpo-e2e-model-')), 'tiny-llama'));
}, { timeout: 20 * 60_000 });

after(() => {
  if (modelDir) rmSync(path.dirname(modelDir), { recursive: true, force: true });
});

function sampleWorkspace() {
  return { copy: sampleWorkspaceCopy(modelDir) };
}

/** The dashboard's page (the only webview open in these tests). */
function dashboard(vs: VSCodeSession) {
  return vs.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/** Steps the loss chart holds for the focused run, as the page itself counts them. */
async function lossPoints(vs: VSCodeSession): Promise<number> {
  const value = await dashboard(vs).locator('section.chart-card[data-chart="loss"]').getAttribute('data-points', { timeout: 2000 });
  return Number(value ?? 0);
}

async function header(vs: VSCodeSession): Promise<{ status: string; step: number }> {
  const el = dashboard(vs).locator('header.run-header');
  return { status: (await el.getAttribute('data-status', { timeout: 2000 })) ?? '', step: Number(await el.getAttribute('data-step', { timeout: 2000 })) };
}

async function notifications(vs: VSCodeSession): Promise<string[]> {
  return vs.page.locator('.notifications-toasts .notification-list-item-message').allTextContents();
}

function runEvents(vs: VSCodeSession) {
  return parseTrainerEvents(readFileSync(vs.path(`${OUTPUT}/metrics.jsonl`), 'utf8'));
}

async function clickDashboard(vs: VSCodeSession, selector: string): Promise<void> {
  const button = dashboard(vs).locator(selector);
  await vs.waitFor(`${selector} to be enabled`, async () => (await button.getAttribute('disabled', { timeout: 2000 })) === null, { timeoutMs: 30_000 });
  await button.click();
}

/** VS Code's own save dialog (a quick input in the browser): takes the proposed path. */
async function acceptSaveDialog(vs: VSCodeSession, fileName: string): Promise<void> {
  const input = vs.page.locator('.quick-input-widget input');
  await vs.waitFor(`the save dialog to propose ${fileName}`, async () => (await input.isVisible()) && (await input.inputValue()).endsWith(fileName), { timeoutMs: 30_000 });
  await vs.page.keyboard.press('Enter');
}

const TASKS_JSON = JSON.stringify(
  {
    version: '2.0.0',
    tasks: [
      {
        type: 'dpo',
        label: 'tiny demo from tasks.json',
        config: CONFIG,
        overrides: { 'training.output_dir': 'outputs/from-tasks-json', 'training.num_epochs': 1 },
        problemMatcher: [],
      },
    ],
  },
  null,
  2,
);

test('DPO: Train plots the loss live; terminating the task or Stop checkpoints, Resume goes on; a reload shows the runs again', { timeout: TEST_TIMEOUT }, async (t) => {
  assert.match(LONGER_DEMO_CONFIG, new RegExp(`num_epochs: ${EPOCHS}`), 'the sample config still sets num_epochs: 2');
  await withVSCode(t, { ...sampleWorkspace(), files: { '.vscode/tasks.json': TASKS_JSON, [CONFIG]: LONGER_DEMO_CONFIG } }, async (vs) => {
    await vs.waitForActivation();
    // Typed and Enter, as a person does (runCommand fails if Enter would run another command):
    // what opens is Train's own pick of a config.
    await vs.runCommand('DPO: Train');
    await vs.waitFor('the quick pick of "DPO: Train"', async () => (await vs.page.locator('.quick-input-widget .quick-input-title').textContent())?.trim() === 'DPO: Train');
    await vs.pickQuickInputItem(CONFIG);

    // The dashboard opens on the new run and its loss chart fills while the trainer runs.
    await vs.waitFor('the loss chart to get its first points', async () => (await lossPoints(vs)) >= 2, { timeoutMs: 240_000, intervalMs: 300 });
    const early = await lossPoints(vs);
    await vs.waitFor('the loss chart to get more points', async () => (await lossPoints(vs)) > early, { timeoutMs: 60_000, intervalMs: 300 });
    assert.equal((await header(vs)).status, 'running');
    const statusBar = await vs.page.locator('.statusbar-item').allTextContents();
    assert.ok(statusBar.some((text) => new RegExp(`DPO step \\d+/${TOTAL_STEPS} · loss \\d\\.\\d{4}`).test(text)), `status bar: ${JSON.stringify(statusBar)}`);
    // The task's terminal shows the trainer's progress (the same text goes to the "DPO Training" log).
    assert.match(vs.outputChannelLog('DPO Training'), new RegExp(`step \\d+/${TOTAL_STEPS} \\(\\d+%\\) \\| loss \\d\\.\\d{4} \\| acc \\d\\.\\d\\d .*tok/s .*ETA`));

    // Terminating the task stops the trainer gracefully: it finishes its step and writes a checkpoint.
    await vs.runCommand('Tasks: Terminate Task');
    await vs.pickQuickInputItem(`dpo: train ${CONFIG}`);
    const stopped = await vs.waitFor('the run to stop', async () => {
      const h = await header(vs);
      return h.status === 'stopped' && h;
    }, { timeoutMs: 120_000 });
    assert.ok(stopped.step < TOTAL_STEPS, `stopped at step ${stopped.step}, before the end`);
    assert.ok(existsSync(vs.path(`${OUTPUT}/checkpoint-${stopped.step}`)), `checkpoint-${stopped.step} was written`);
    // The last checkpoint is at the step it stopped at ("interrupted", or "scheduled" when the stop fell on a save step).
    const lastCheckpoint = runEvents(vs).events.filter((e) => e.type === 'checkpoint').at(-1);
    assert.equal(lastCheckpoint?.type === 'checkpoint' ? lastCheckpoint.step : undefined, stopped.step);
    assert.equal(await lossPoints(vs), stopped.step);
    await vs.waitFor('a notification that the run stopped', async () => (await notifications(vs)).some((n) => n.includes(`stopped at step ${stopped.step}`)), { timeoutMs: 30_000 });

    // "DPO: Training: Resume" goes on from the checkpoint; the dashboard's Stop button stops it again.
    await vs.runCommand('DPO: Training: Resume');
    await vs.waitFor('the resumed run to plot steps past the stop', async () => (await lossPoints(vs)) > stopped.step, { timeoutMs: 240_000, intervalMs: 300 });
    await clickDashboard(vs, 'header.run-header vscode-button[data-action="stop"]');
    const stoppedAgain = await vs.waitFor('the run to stop from the dashboard', async () => {
      const h = await header(vs);
      return h.status === 'stopped' && h.step > stopped.step && h;
    }, { timeoutMs: 120_000 });
    assert.ok(existsSync(vs.path(`${OUTPUT}/checkpoint-${stoppedAgain.step}`)));

    // The dashboard's Resume button trains to the end.
    await clickDashboard(vs, 'header.run-header vscode-button[data-action="resume"]');
    await vs.waitFor('the resumed run to complete', async () => (await header(vs)).status === 'completed', { timeoutMs: 900_000 });
    assert.equal(await lossPoints(vs), TOTAL_STEPS);
    const { events } = runEvents(vs);
    const starts = events.filter((e) => e.type === 'start');
    assert.deepEqual(starts.map((e) => (e.type === 'start' ? e.resumedFromStep : null)), [undefined, stopped.step, stoppedAgain.step]);
    const steps = events.filter((e) => e.type === 'metrics').map((e) => (e.type === 'metrics' ? e.step : 0));
    assert.deepEqual(steps, Array.from({ length: TOTAL_STEPS }, (_, i) => i + 1), 'one continuous run of steps');
    assert.ok(existsSync(vs.path(`${OUTPUT}/final/adapter_model.safetensors`)), 'the adapter was written');
    await vs.waitFor('a notification that the run completed', async () => (await notifications(vs)).some((n) => new RegExp(`completed: ${TOTAL_STEPS} steps, loss \\d\\.\\d{4}`).test(n)), { timeoutMs: 30_000 });

    // The task provider offers a task per training config in the workspace.
    await vs.runCommand('Tasks: Run Task');
    await vs.pickQuickInputItem('All dpo tasks');
    const provided = await vs.waitFor('the dpo tasks of the workspace configs', async () => {
      const labels = await vs.page.locator('.quick-input-widget .quick-input-list .monaco-list-row .label-name').allTextContents();
      return labels.some((l) => l.includes('train configs/dpo_config.yaml')) && labels;
    });
    assert.ok(provided.some((l) => l.endsWith(`train ${CONFIG}`)), `provided tasks: ${JSON.stringify(provided)}`);
    await vs.closeQuickInput();

    // A dpo task in tasks.json runs like any task, with its overrides.
    await vs.runCommand('Tasks: Run Task');
    await vs.pickQuickInputItem('tiny demo from tasks.json');
    await vs.waitFor('the tasks.json run to write its adapter', () => existsSync(vs.path('outputs/from-tasks-json/final/adapter_model.safetensors')), { timeoutMs: 300_000 });
    const fromTasks = parseTrainerEvents(readFileSync(vs.path('outputs/from-tasks-json/metrics.jsonl'), 'utf8')).events;
    const startEvent = fromTasks.find((e) => e.type === 'start');
    assert.equal(startEvent?.type === 'start' ? startEvent.totalSteps : undefined, 13, 'the override num_epochs 1: 13 steps');
    await vs.waitFor('the dashboard to list both runs', async () => (await dashboard(vs).locator('.run-row').count()) === 2, { timeoutMs: 30_000 });

    // Export the focused run's metrics as CSV and its loss chart as PNG (VS Code's save dialog).
    await clickDashboard(vs, 'header.run-header vscode-button[data-action="exportCsv"]');
    await acceptSaveDialog(vs, 'metrics.csv');
    const csvFile = vs.path(`${OUTPUT}/metrics.csv`);
    await vs.waitFor('metrics.csv to be written', () => existsSync(csvFile), { timeoutMs: 30_000 });
    const csv = readFileSync(csvFile, 'utf8').trim().split('\n');
    assert.match(csv[0]!, /^step,loss,rewards\/chosen,rewards\/rejected,rewards\/accuracies,rewards\/margins,/);
    assert.match(csv[0]!, /eval_loss/);
    assert.equal(csv.length, 1 + TOTAL_STEPS, 'a row per step (eval steps are training steps here)');
    await clickDashboard(vs, 'section.chart-card[data-chart="loss"] vscode-button.png-button');
    await acceptSaveDialog(vs, 'loss.png');
    const pngFile = vs.path(`${OUTPUT}/loss.png`);
    await vs.waitFor('loss.png to be written', () => existsSync(pngFile), { timeoutMs: 30_000 });
    assert.deepEqual([...readFileSync(pngFile).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

    // Hidden behind another editor and shown again, the page is rebuilt (no retainContextWhenHidden)
    // with its settings and the rows the host sends again.
    await dashboard(vs).locator('input.smoothing-slider').evaluate((el) => {
      (el as HTMLInputElement).value = '0.2';
      el.dispatchEvent(new Event('input', { bubbles: true }));
      (window as unknown as { pageMarker: boolean }).pageMarker = true;
    });
    await vs.openFile(CONFIG);
    await vs.page.locator('.tabs-container .tab', { hasText: 'DPO Training' }).click();
    await vs.waitFor('the dashboard to come back with its smoothing and rows', async () => {
      const smoothing = await dashboard(vs).locator('.smoothing-value').textContent({ timeout: 2000 });
      return smoothing === '0.20' && (await lossPoints(vs)) === TOTAL_STEPS;
    });
    const samePage = await dashboard(vs).locator('body').evaluate(() => (window as unknown as { pageMarker?: boolean }).pageMarker === true);
    assert.equal(samePage, false, 'the hidden page was let go (no retainContextWhenHidden)');

    // A window reload: the dashboard is restored from the runs' metrics.jsonl.
    await vs.runCommand('Developer: Reload Window');
    await vs.page.waitForSelector('.monaco-workbench', { timeout: 180_000 });
    await vs.waitFor(
      'the restored dashboard to show the completed run with every step',
      async () => {
        const h = await header(vs);
        const smoothing = await dashboard(vs).locator('.smoothing-value').textContent({ timeout: 2000 });
        return h.status === 'completed' && (await lossPoints(vs)) === TOTAL_STEPS && (await dashboard(vs).locator('.run-row').count()) === 2 && smoothing === '0.20';
      },
      { timeoutMs: 180_000 },
    );
    assert.deepEqual(vs.extensionErrors().map((e) => e.text.split('\n').slice(0, 8).join('\n')), []);
  });
});

test('training is refused in Restricted Mode, with a message saying why', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { ...sampleWorkspace(), workspaceTrust: true }, async (vs) => {
    // The trust prompt at start: decline.
    const decline = vs.page.getByRole('button', { name: /No, I don't trust the authors/i });
    await vs.waitFor('the workspace trust prompt', () => decline.isVisible(), { timeoutMs: 60_000 });
    await decline.click();
    await vs.waitForActivation();
    await vs.runCommand('DPO: Train');
    await vs.waitFor('a message that training needs a trusted workspace', async () => (await notifications(vs)).some((n) => /Restricted Mode/.test(n) && /Trust this folder/.test(n)), { timeoutMs: 30_000 });
    assert.equal(existsSync(vs.path('outputs')), false, 'nothing was trained');
  });
});

test('DPO: Train on engine trl draws its curves in the dashboard, beside a run a plain TRL script made', { timeout: TEST_TIMEOUT }, async (t) => {
  const python = trlPython();
  if (!python) {
    if (process.env.CI) throw new Error('no TRL environment: CI must run `npm run setup:trl` first');
    t.skip('no TRL environment: run `npm run setup:trl` to include this test');
    return;
  }
  // A run made outside DPO Studio: TRL's own DPOTrainer in a plain script, saving trainer_state.json.
  const outside = mkdtempSync(path.join(os.tmpdir(), 'dpo-e2e-plain-trl-'));
  t.after(() => rmSync(outside, { recursive: true, force: true }));
  const plain = spawnSync(python, [path.join(repoRoot, 'bench', 'plain_trl_dpo.py'), '--model', modelDir, '--data', path.join(repoRoot, 'samples', 'data', 'preference_train.jsonl'), '--output_dir', path.join(outside, 'plain-script'), '--max_steps', '6', '--save_steps', '3'], { encoding: 'utf8' });
  assert.equal(plain.status, 0, plain.stderr.slice(-3000));
  const trlConfig = readFileSync(path.join(repoRoot, 'samples', 'configs', 'tiny-demo.dpo.yaml'), 'utf8')
    .replace('output_dir: outputs/tiny-demo', 'output_dir: outputs/tiny-trl\n  engine: trl');
  assert.match(trlConfig, /engine: trl/);
  await withVSCode(t, { copy: { ...sampleWorkspace().copy, 'trl-runs/plain-script': path.join(outside, 'plain-script') }, files: { 'configs/tiny-trl.dpo.yaml': trlConfig } }, async (vs) => {
    await vs.waitForActivation();
    await vs.runCommand('DPO: Train');
    await vs.waitFor('the quick pick of "DPO: Train"', async () => (await vs.page.locator('.quick-input-widget .quick-input-title').textContent())?.trim() === 'DPO: Train');
    const engines = await vs.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents();
    assert.ok(engines.some((row) => row.includes('configs/tiny-trl.dpo.yaml') && row.includes('engine trl')), `the pick shows each config's engine: ${JSON.stringify(engines)}`);
    await vs.pickQuickInputItem('configs/tiny-trl.dpo.yaml');

    await vs.waitFor('the TRL run to complete with every step plotted', async () => (await header(vs)).status === 'completed' && (await lossPoints(vs)) === 26, { timeoutMs: 300_000, intervalMs: 500 });
    const facts = await dashboard(vs).locator('header.run-header .run-facts').textContent();
    assert.match(facts ?? '', /engine trl/);
    assert.match(facts ?? '', /1 process on cpu/);
    const events = parseTrainerEvents(readFileSync(vs.path('outputs/tiny-trl/metrics.jsonl'), 'utf8')).events;
    assert.equal(events.filter((e) => e.type === 'metrics').length, 26);
    assert.ok(existsSync(vs.path('outputs/tiny-trl/final/adapter_model.safetensors')));

    // The plain script's run is listed; focused, its loss curve is drawn from its log history.
    const outsideRow = dashboard(vs).locator('.run-row', { hasText: 'trl-runs/plain-script' });
    await vs.waitFor('the plain TRL run in the run list', () => outsideRow.isVisible(), { timeoutMs: 30_000 });
    await outsideRow.locator('button.run-name').click();
    await vs.waitFor('the plain TRL run focused, with its 6 steps', async () => (await lossPoints(vs)) === 6 && /made outside DPO Studio/.test((await dashboard(vs).locator('header.run-header .run-facts').textContent()) ?? ''), { timeoutMs: 30_000 });
    assert.deepEqual(vs.extensionErrors().map((e) => e.text.split('\n').slice(0, 8).join('\n')), []);
  });
});

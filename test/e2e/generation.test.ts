// "DPO: Generate Candidates" and "DPO: Compare Models" in a real VS Code (code-server +
// chromium) on the sample workspace: an OpenAI-compatible server (the loopback TEST DOUBLE of
// test/support/openaiTestDouble.ts, in this process, on 127.0.0.1) answers while the progress
// notification counts; Cancel keeps what was written; running again resumes; "Open in Pair
// Editor" opens the result. Then the sample workspace's tiny model against itself with a LoRA
// adapter, through the worker process the extension starts.
// Run: npm run build && node --import tsx --test --test-concurrency=1 test/e2e/generation.test.ts

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { prepare, repoRoot } from '../../scripts/vscode/prepare.mjs';
import { validateText } from '../../src/core/dataset/validateText.ts';
import { readPromptFile } from '../../src/core/generation/promptFile.ts';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { saveAdapter } from '../../src/trainer/model/adapterFolder.ts';
import { disposeModel } from '../../src/trainer/model/causalLM.ts';
import { createLoraAdapter, defaultLoraConfig } from '../../src/trainer/model/lora.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';
import { OpenAITestDouble } from '../support/openaiTestDouble.ts';
import { withVSCode, type VSCodeSession } from './harness.ts';
import { sampleWorkspaceCopy, writeSampleModel } from './sampleWorkspace.ts';

const TEST_TIMEOUT = 15 * 60_000;
let scratch = '';

before(async () => {
  await prepare();
  // The sample workspace's model, as `npm start` makes it, and a trained-looking adapter for it
  // (random LoRA B: an adapter fresh from init would change nothing and its answers would all
  // be dropped as identical to the reference's).
  scratch = mkdtempSync(path.join(os.tmpdir(), 'dpo-e2e-generation-'));
  writeSampleModel(path.join(scratch, 'tiny-llama'));
  await initBackend('cpu');
  const model = loadModel(path.join(scratch, 'tiny-llama'));
  const lora = createLoraAdapter(model, defaultLoraConfig(), 1);
  for (const layer of lora.layers.values()) layer.b.assign(tf.randomNormal(layer.b.shape, 0, 0.5, 'float32', 7));
  saveAdapter(path.join(scratch, 'adapter-r1'), lora);
  disposeModel(model);
}, { timeout: 20 * 60_000 });

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function sampleWorkspace() {
  return {
    copy: { ...sampleWorkspaceCopy(path.join(scratch, 'tiny-llama')), 'runs/round1/adapter': path.join(scratch, 'adapter-r1') },
  };
}

type Json = Record<string, any>;
const records = (text: string): Json[] =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Json);

async function notifications(vs: VSCodeSession): Promise<string[]> {
  return vs.page.locator('.notifications-toasts .notification-list-item-message').allTextContents();
}

async function waitForNotification(vs: VSCodeSession, what: RegExp, timeoutMs = 60_000): Promise<string> {
  return vs.waitFor(`a notification matching ${what}`, async () => (await notifications(vs)).find((n) => what.test(n)), { timeoutMs });
}

/** Clicks a button of the notification whose message matches. */
async function clickNotificationButton(vs: VSCodeSession, message: RegExp, button: string): Promise<void> {
  const toast = vs.page.locator('.notifications-toasts .notification-toast').filter({ hasText: message });
  await toast.getByRole('button', { name: button }).first().click();
}

/**
 * Picks a quick-pick entry by typing its label into the filter first: the entry is then the
 * first, focused one and Enter takes it, where a click on a row of a long list that is still
 * rendering can miss on a busy machine.
 */
async function choose(vs: VSCodeSession, label: string): Promise<void> {
  await vs.findQuickInputItem(label);
  await vs.page.locator('.quick-input-widget input').fill(label);
  await vs.pickQuickInputItem(label);
}

/** Waits for an input box whose prompt contains `prompt`, then accepts its proposed value. */
async function acceptInput(vs: VSCodeSession, prompt: string): Promise<void> {
  const widget = vs.page.locator('.quick-input-widget');
  await vs.waitFor(`an input box asking "${prompt}"`, async () => (await widget.isVisible()) && ((await widget.locator('.quick-input-message').textContent()) ?? '').includes(prompt), { timeoutMs: 30_000 });
  await vs.page.keyboard.press('Enter');
}

/** The steps of "DPO: Generate Candidates" against the test double, up to the output choice. */
async function startGeneration(vs: VSCodeSession, input: string): Promise<void> {
  await vs.runCommand('DPO: Generate Candidates');
  await choose(vs, input);
  await choose(vs, 'OpenAI-compatible endpoint');
  await acceptInput(vs, 'Base URL of the OpenAI-compatible server');
  await choose(vs, 'test-model'); // listed by the server's GET /v1/models
  await acceptInput(vs, 'Answers per prompt');
}

test('Generate Candidates from an OpenAI-compatible server: progress, cancel keeps what was written, resume, open in the pair editor', { timeout: TEST_TIMEOUT }, async (t) => {
  const server = await OpenAITestDouble.start({ delayMs: 400 });
  const input = 'data/conversational.jsonl';
  const output = 'data/conversational.candidates.jsonl';
  const prompts = readPromptFile(readFileSync(path.join(repoRoot, 'samples', input), 'utf8'), input).items;
  try {
    await withVSCode(
      t,
      {
        ...sampleWorkspace(),
        settings: { 'dpoStudio.generation.baseUrl': server.baseUrl, 'dpoStudio.generation.model': 'test-model', 'dpoStudio.generation.candidates': 3, 'dpoStudio.generation.concurrency': 1, 'dpoStudio.generation.systemPrompt': 'Answer briefly.' },
      },
      async (vs) => {
        await vs.waitForActivation();
        await startGeneration(vs, input);
        // The progress notification counts prompts as they are written.
        await waitForNotification(vs, /\d+\/20 prompts · \d+ candidates/);
        await vs.waitFor(`${output} to hold 3 records`, () => existsSync(vs.path(output)) && records(vs.readFile(output)).length >= 3, { timeoutMs: 60_000 });
        await clickNotificationButton(vs, /\/20 prompts/, 'Cancel');
        const stopped = await waitForNotification(vs, /^Stopped\. \d+ record\(s\) written to data\/conversational\.candidates\.jsonl are kept/);
        const kept = Number(/Stopped\. (\d+)/.exec(stopped)![1]);
        assert.ok(kept >= 3 && kept < 20, `kept ${kept}`);
        const afterCancel = vs.readFile(output);
        assert.equal(records(afterCancel).length, kept, 'every record written is whole and counted');
        assert.ok(afterCancel.endsWith('\n'));
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal(records(vs.readFile(output)).length, kept, 'nothing is written after the cancel');

        // Again: the file exists, so the command offers to resume it.
        await vs.escape();
        await startGeneration(vs, input);
        await choose(vs, 'Resume');
        await waitForNotification(vs, new RegExp(`^Generated ${20 - kept} record\\(s\\) with ${3 * (20 - kept)} candidates into data/conversational\\.candidates\\.jsonl\\.`), 120_000);
        const text = vs.readFile(output);
        const all = records(text);
        assert.equal(all.length, 20);
        assert.deepEqual(new Set(all.map((r) => JSON.stringify(r.prompt))), new Set(prompts.map((p) => JSON.stringify(p.prompt))), 'each prompt answered once, exactly as it was in the input');
        assert.equal(validateText(text, output).errorCount, 0);
        const meta = all[0]!.candidates[0].meta;
        assert.deepEqual([meta.provider, meta.model, meta.base_url, meta.system, meta.temperature], ['openai', 'test-model', server.baseUrl, 'Answer briefly.', 0.8]);
        assert.deepEqual((server.completionRequests[0]!.body?.messages as Json[])[0], { role: 'system', content: 'Answer briefly.' });
        // One request per prompt (n=3), plus the one cut short by the cancel at most.
        assert.ok(server.completionRequests.length <= 21, `${server.completionRequests.length} requests`);

        await clickNotificationButton(vs, /Generated \d+ record/, 'Open in Pair Editor');
        await vs.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('article.record[data-index="0"]').waitFor({ timeout: 60_000 });
        const tab = await vs.page.locator('.tabs-container .tab.active').getAttribute('aria-label');
        assert.match(tab ?? '', /conversational\.candidates\.jsonl/);
        assert.deepEqual(vs.extensionErrors().map((e) => e.text.split('\n').slice(0, 8).join('\n')), []);
      },
    );
  } finally {
    await server.close();
  }
});

test('Compare Models: the tiny model against itself with a LoRA adapter, into one candidates file; no VS Code language model is a clear message', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { ...sampleWorkspace(), files: { 'data/prompts.txt': 'Write a haiku about rain.\nName a color.\nWhat is 2 + 2?\n' }, settings: { 'dpoStudio.generation.candidates': 2, 'dpoStudio.generation.maxTokens': 6 } }, async (vs) => {
    await vs.waitForActivation();
    await vs.runCommand('DPO: Compare Models');
    await choose(vs, 'data/prompts.txt');
    await choose(vs, 'Local model');
    await choose(vs, 'models/tiny-llama');
    await choose(vs, 'No adapter');
    await choose(vs, 'Local model');
    await choose(vs, 'models/tiny-llama');
    await choose(vs, 'runs/round1/adapter');
    await acceptInput(vs, 'Answers per prompt from each model');
    await waitForNotification(vs, /^Generated 3 record\(s\) with 6 candidates into data\/prompts\.compare\.candidates\.jsonl\./, 180_000);
    const text = vs.readFile('data/prompts.compare.candidates.jsonl');
    const compared = records(text);
    // A local model answers one prompt at a time, so the records come in file order.
    assert.deepEqual(compared.map((r) => r.prompt), ['Write a haiku about rain.', 'Name a color.', 'What is 2 + 2?']);
    for (const record of compared) {
      assert.deepEqual(record.candidates.map((c: Json) => [c.meta.provider, c.meta.model, c.meta.adapter ?? null, c.meta.max_tokens]), [
        ['local', 'models/tiny-llama', null, 6],
        ['local', 'models/tiny-llama', 'runs/round1/adapter', 6],
      ]);
    }
    assert.equal(validateText(text, 'x.candidates.jsonl').errorCount, 0);
    assert.match(vs.outputChannelLog('DPO Studio'), /\[local model\] backend: /);

    // No extension offers a chat model here: the command says so instead of failing silently.
    await vs.runCommand('DPO: Generate Candidates');
    await choose(vs, 'data/prompts.txt');
    await choose(vs, 'VS Code language model');
    await waitForNotification(vs, /^No VS Code language model is available: install and sign in to an extension that provides one/);
    assert.deepEqual(vs.extensionErrors().map((e) => e.text.split('\n').slice(0, 8).join('\n')), []);
  });
});

test('generation is refused in Restricted Mode, with a message saying why', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { ...sampleWorkspace(), workspaceTrust: true }, async (vs) => {
    const decline = vs.page.getByRole('button', { name: /No, I don't trust the authors/i });
    await vs.waitFor('the workspace trust prompt', () => decline.isVisible(), { timeoutMs: 60_000 });
    await decline.click();
    await vs.waitForActivation();
    await vs.runCommand('DPO: Generate Candidates');
    await waitForNotification(vs, /^Generate Candidates runs models and sends your prompts to servers, so it needs a trusted workspace\./, 30_000);
    assert.equal(existsSync(vs.path('data/preference_eval.candidates.jsonl')), false);
  });
});

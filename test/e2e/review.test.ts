// Reviewing labels with the trained model in a real VS Code (code-server + Chromium). Run:
//   npm run build && node --import tsx --test --test-concurrency=1 test/e2e/review.test.ts
// A tiny model is trained (outside VS Code, as a terminal run would be) on the colour task with
// four labels stored the wrong way round; the workspace holds the run and the data.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { prepare, repoRoot } from '../../scripts/vscode/prepare.mjs';
import { colorTask, writeConfig, writeJsonl } from '../integration/trainFixtures.ts';
import { withVSCode, type VSCodeSession } from './harness.ts';

const TEST_TIMEOUT = 10 * 60_000;
const FLIPPED = [5, 18, 33, 50];
const DATA = 'data/noisy.pairs.jsonl';
/** The next round of iterative DPO: candidates generated for new prompts, to be made into pairs. */
const CANDIDATES = 'data/next-round.pairs.jsonl';
const CANDIDATES_TEXT = [
  { prompt: 'Item 201: answer with blue.', candidates: ['red red red', 'blue blue blue', 'red blue red'] },
  { prompt: 'Item 202: answer with red.', candidates: ['blue blue blue', 'red red red'] },
]
  .map((r) => JSON.stringify(r))
  .join('\n') + '\n';
let root = '';

before(async () => {
  await prepare();
  root = mkdtempSync(path.join(os.tmpdir(), 'dpo-e2e-review-'));
  const cli = path.join(repoRoot, 'dist', 'cli.cjs');
  const init = spawnSync(process.execPath, [cli, 'init-model', path.join(root, 'model'), '--arch', 'llama', '--size', 'tiny', '--seed', '7'], { encoding: 'utf8' });
  assert.equal(init.status, 0, init.stderr);
  writeJsonl(path.join(root, DATA), colorTask(64).map((r, i) => (FLIPPED.includes(i) ? { ...r, chosen: r.rejected, rejected: r.chosen } : r)));
  // Relative paths, trained from the folder that becomes the workspace: the run is the user's own.
  mkdirSync(path.join(root, 'configs'));
  writeConfig(path.join(root, 'configs', 'noisy.dpo.yaml'), {
    model: { name: path.join(root, 'model') },
    data: { train_path: DATA },
    training: { output_dir: 'runs/noisy', num_epochs: 3, batch_size: 8, logging_steps: 4 },
  });
  const trained = spawnSync(process.execPath, [cli, 'train', '--config', 'configs/noisy.dpo.yaml'], { cwd: root, encoding: 'utf8' });
  assert.equal(trained.status, 0, trained.stderr);
}, { timeout: 20 * 60_000 });

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function webview(vs: VSCodeSession): FrameLocator {
  return vs.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/** The record the pair editor shows, and what its review strip says. */
async function shown(vs: VSCodeSession): Promise<{ index: number; review: string | null }> {
  const article = webview(vs).locator('article.record');
  const index = Number(await article.getAttribute('data-index', { timeout: 2000 }));
  const strip = article.locator('.review-strip');
  return { index, review: (await strip.count()) ? await strip.getAttribute('data-review', { timeout: 2000 }) : null };
}

/** Types into the open quick pick and presses Enter, as a person picks. */
async function typeAndEnter(vs: VSCodeSession, title: string, text: string): Promise<void> {
  await vs.waitFor(`the quick pick "${title}"`, async () => (await vs.page.locator('.quick-input-widget .quick-input-title').textContent())?.trim() === title);
  await vs.page.keyboard.type(text, { delay: 15 });
  await vs.findQuickInputItem(text);
  await vs.page.keyboard.press('Enter');
}

/** Opens `file` in the pair editor and runs "DPO: Review with Model" on it with the trained run's final model. */
async function reviewWithModel(vs: VSCodeSession, file: string): Promise<void> {
  await vs.openFile(file);
  await webview(vs).locator('article.record[data-index="0"]').waitFor({ timeout: 60_000 });
  await vs.runCommand('DPO: Review with Model');
  await typeAndEnter(vs, 'Review with Model: which run', 'runs/noisy');
  await typeAndEnter(vs, 'Review with Model: which checkpoint', 'final');
}

test('DPO: Review with Model sorts the pair editor by disagreement; the suggested swap and Save leave every other line identical; the dashboard lists the pairs to review; candidates get a suggested best and worst', { timeout: TEST_TIMEOUT }, async (t) => {
  const original = readFileSync(path.join(root, DATA), 'utf8');
  await withVSCode(t, { copy: { data: path.join(root, 'data'), runs: path.join(root, 'runs') }, files: { [CANDIDATES]: CANDIDATES_TEXT } }, async (vs) => {
    await reviewWithModel(vs, DATA);

    // The model scores the file (a progress notification), then the editor shows its most disagreeing record.
    await webview(vs).locator('.review-bar').waitFor({ timeout: 180_000 });
    assert.equal(await webview(vs).locator('select.review-order').inputValue(), 'disagrees');
    const first = await vs.waitFor('a scored record on screen', async () => {
      const s = await shown(vs);
      return s.review === 'disagrees' && s;
    }, { timeoutMs: 60_000 });
    assert.ok(FLIPPED.includes(first.index), `the first record in "model disagrees" is ${first.index}, one of the flipped ${FLIPPED}`);
    assert.match(await webview(vs).locator('.review-facts').textContent() ?? '', /Model review: runs\/noisy · final · agrees with \d+ of 64 labels/);

    // A: swap as the model suggests, an ordinary edit; the mark turns into the same score seen from the swapped side.
    await webview(vs).locator('.record-meta').click();
    await vs.page.keyboard.press('a');
    await vs.waitFor('the swapped record to show the model agreeing', async () => {
      const s = await shown(vs);
      return s.index === first.index && s.review === 'agrees';
    });
    assert.match((await webview(vs).locator('.review-strip').textContent()) ?? '', /swapped since scoring/);

    await vs.runCommand('File: Save');
    const saved = await vs.waitFor(`${DATA} to be saved`, () => {
      const text = vs.readFile(DATA);
      return text !== original && text;
    });
    const before = original.split('\n');
    const after = saved.split('\n');
    assert.equal(after.length, before.length);
    for (let i = 0; i < before.length; i++) {
      if (i === first.index) continue;
      assert.equal(after[i], before[i], `line ${i + 1} is byte-identical`);
    }
    const was = JSON.parse(before[first.index]!) as Record<string, string>;
    const now = JSON.parse(after[first.index]!) as Record<string, string>;
    assert.deepEqual([now.prompt, now.chosen, now.rejected], [was.prompt, was.rejected, was.chosen]);

    // J moves along the review order: the next record the model disagrees with.
    await webview(vs).locator('.record-meta').click();
    await vs.page.keyboard.press('j');
    const second = await vs.waitFor('the next record in the review order', async () => {
      const s = await shown(vs);
      return s.index !== first.index && s;
    });
    assert.ok(FLIPPED.includes(second.index), `the second record in "model disagrees" is ${second.index}`);
    assert.equal(second.review, 'disagrees');
    await vs.screenshot(path.join(repoRoot, '.test-artifacts', 'review', 'pair-editor.png'));

    // Hidden behind another tab the page is let go; shown again it is rebuilt in the review, at the same record and order.
    await vs.runCommand('DPO: Training Dashboard');
    await vs.waitFor('the pair editor to be hidden', async () => (await webview(vs).locator('.review-bar').count()) === 0, { timeoutMs: 30_000 });
    await vs.openFile(DATA);
    await webview(vs).locator('.review-bar').waitFor({ timeout: 60_000 });
    await vs.waitFor('the same record, still under review', async () => {
      const s = await shown(vs);
      return s.index === second.index && s.review === 'disagrees';
    });
    assert.equal(await webview(vs).locator('select.review-order').inputValue(), 'disagrees');

    // The dashboard: the run's pairs to review, each opening the pair editor at its record.
    await vs.runCommand('View: Close All Editors');
    await vs.runCommand('DPO: Training Dashboard');
    const table = webview(vs).locator('.review-dataset').filter({ hasText: 'noisy.pairs.jsonl' });
    await table.waitFor({ timeout: 60_000 });
    assert.match((await table.locator('h3').textContent()) ?? '', /agrees with \d+ of 64 labels/);
    assert.match((await webview(vs).locator('.review-banner').textContent()) ?? '', /Model review \(final\): it disagrees with 4 of 64 labels/);
    const rows = table.locator('tbody tr');
    const listed = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-index'))));
    assert.deepEqual([...listed].sort((a, b) => a - b), [...FLIPPED].sort((a, b) => a - b), 'the table lists exactly the flipped records');
    assert.equal(await webview(vs).locator('.margin-histogram .bar').count(), 20);
    await vs.screenshot(path.join(repoRoot, '.test-artifacts', 'review', 'dashboard.png'));
    const target = listed.find((i) => i !== first.index)!;
    await rows.filter({ has: vs.page.locator(`button, vscode-button`) }).nth(listed.indexOf(target)).locator('vscode-button').click();
    await vs.waitFor(`the pair editor at record ${target}`, async () => {
      try {
        const s = await shown(vs);
        return s.index === target && s.review === 'disagrees';
      } catch {
        return false;
      }
    }, { timeoutMs: 60_000 });

    // Candidates: ranked by the model's reward, its best and worst marked as a suggestion until the labeler accepts.
    await vs.runCommand('View: Close All Editors');
    await reviewWithModel(vs, CANDIDATES);
    await webview(vs).locator('.review-strip[data-review="suggestion"]').waitFor({ timeout: 180_000 });
    const suggestedBest = webview(vs).locator('section.candidate').filter({ has: webview(vs).locator('.picked-badge', { hasText: 'suggested best' }) });
    assert.equal(await suggestedBest.getAttribute('data-candidate'), '1', 'the model suggests the blue answer for "answer with blue"');
    assert.equal(await webview(vs).locator('.record-meta .label-state').textContent(), 'not labeled', 'a suggestion is not a label');
    assert.equal(vs.readFile(CANDIDATES), CANDIDATES_TEXT);
    await vs.screenshot(path.join(repoRoot, '.test-artifacts', 'review', 'candidates.png'));
    await webview(vs).locator('.record-meta').click();
    await vs.page.keyboard.press('a');
    await webview(vs).locator('article.record[data-index="1"]').waitFor({ timeout: 30_000 });
    await vs.runCommand('File: Save');
    const labeled = await vs.waitFor(`${CANDIDATES} to be saved`, () => {
      const text = vs.readFile(CANDIDATES);
      return text !== CANDIDATES_TEXT && text;
    });
    const [firstLine, secondLine] = labeled.split('\n');
    const choice = JSON.parse(firstLine!) as { best: number; worst: number };
    assert.equal(choice.best, 1);
    assert.notEqual(choice.worst, 1);
    assert.equal(secondLine, CANDIDATES_TEXT.split('\n')[1], 'the other record is byte-identical');
  });
});

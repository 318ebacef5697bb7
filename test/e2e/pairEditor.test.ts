// The pair editor in a real VS Code (code-server + Chromium). Run:
//   node --import tsx --test --test-concurrency=1 test/e2e/pairEditor.test.ts
// Each test starts its own server, browser and workspace (see harness.ts).

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { withVSCode, type VSCodeSession } from './harness.ts';

const TEST_TIMEOUT = 10 * 60_000;
const SAMPLE = readFileSync(path.join(import.meta.dirname, '../../samples/data/preference_eval.jsonl'), 'utf8');
const SAMPLE_LINES = SAMPLE.split('\n');
const CANDIDATES = readFileSync(path.join(import.meta.dirname, '../../samples/data/candidates.jsonl'), 'utf8');

type Json = Record<string, unknown>;

/** Whether rendered Markdown (innerText) starts like a raw answer: compares words only. */
function sameStart(markdown: string, rendered: string): boolean {
  const words = (s: string) => s.replace(/[^\p{L}\p{N}]+/gu, ' ').trim().slice(0, 40);
  return words(markdown) === words(rendered);
}

function editor(vs: VSCodeSession): FrameLocator {
  return vs.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/** Waits until the pair editor shows record `index` (0-based). */
async function waitForRecord(vs: VSCodeSession, index: number, timeout = 60_000): Promise<void> {
  await editor(vs).locator(`article.record[data-index="${index}"]`).waitFor({ timeout });
}

/** Puts the keyboard focus into the webview without clicking a control. */
async function focusEditor(vs: VSCodeSession): Promise<void> {
  await editor(vs).locator('.record-meta').click();
}

async function press(vs: VSCodeSession, key: string, thenRecord?: number): Promise<void> {
  await vs.page.keyboard.press(key);
  if (thenRecord !== undefined) await waitForRecord(vs, thenRecord);
}

/** Saves the active editor and waits for the file on disk to satisfy `ready`. */
async function saveAndRead(vs: VSCodeSession, rel: string, ready: (text: string) => boolean): Promise<string> {
  await vs.runCommand('File: Save');
  return vs.waitFor(`${rel} to be saved`, () => {
    const text = vs.readFile(rel);
    return ready(text) && text;
  });
}

function records(text: string): Json[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Json);
}

const original = records(SAMPLE);

test('labels five records with the keyboard; save writes them and leaves every other line identical', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { files: { 'data/eval.pairs.jsonl': SAMPLE }, settings: { 'dpoStudio.labeling.annotator': 'kim' } }, async (vs) => {
    // *.pairs.jsonl opens in the pair editor by default.
    await vs.openFile('data/eval.pairs.jsonl');
    await waitForRecord(vs, 0);
    await focusEditor(vs);
    await press(vs, '1', 1); // record 1: the chosen answer is better
    await press(vs, '2', 2); // record 2: the rejected one is better -> texts swap
    await press(vs, 't', 3); // record 3: tie
    await press(vs, 'ArrowRight', 4); // record 4: right (rejected) is better
    await press(vs, 'ArrowLeft', 5); // record 5: left (chosen) is better
    await editor(vs).locator('.progress-text[data-labeled="5"]').waitFor();

    const saved = await saveAndRead(vs, 'data/eval.pairs.jsonl', (text) => records(text).filter((r) => 'decision' in r).length === 5);
    const lines = saved.split('\n');
    const labeled = records(saved);
    const expect = [
      { decision: 'chosen', swapped: false },
      { decision: 'chosen', swapped: true },
      { decision: 'tie', swapped: false },
      { decision: 'chosen', swapped: true },
      { decision: 'chosen', swapped: false },
    ];
    expect.forEach((e, i) => {
      const r = labeled[i]!;
      const o = original[i]!;
      assert.equal(r.decision, e.decision, `record ${i + 1}: decision`);
      assert.equal(r.chosen, e.swapped ? o.rejected : o.chosen, `record ${i + 1}: chosen holds the labeler's pick`);
      assert.equal(r.rejected, e.swapped ? o.chosen : o.rejected, `record ${i + 1}: rejected holds the other answer`);
      assert.equal(r.annotator, 'kim', `record ${i + 1}: annotator from dpoStudio.labeling.annotator`);
      assert.equal(typeof r.time_ms, 'number', `record ${i + 1}: time spent`);
      assert.match(String(r.labeled_at), /^\d{4}-\d\d-\d\dT/, `record ${i + 1}: labeled_at`);
      // Only the new fields are added; the rest of the line is the user's own text.
      if (!e.swapped) assert.ok(lines[i]!.startsWith(SAMPLE_LINES[i]!.slice(0, -1)), `record ${i + 1}: the original text is kept as written`);
    });
    for (let i = 5; i < SAMPLE_LINES.length; i++) assert.equal(lines[i], SAMPLE_LINES[i], `line ${i + 1} was not touched and must be byte-identical`);
  });
});

test('undo restores a labeled record', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { files: { 'data/eval.pairs.jsonl': SAMPLE } }, async (vs) => {
    await vs.openFile('data/eval.pairs.jsonl');
    await waitForRecord(vs, 0);
    await focusEditor(vs);
    await press(vs, '2', 1); // swaps record 1's answers and labels it
    await editor(vs).locator('.progress-text[data-labeled="1"]').waitFor();
    await press(vs, 'k', 0);
    await editor(vs).locator('article.record[data-index="0"] .label-state.labeled').waitFor();

    await vs.runCommand('Undo');
    await editor(vs).locator('article.record[data-index="0"] .label-state.unlabeled').waitFor();
    const chosenShown = await editor(vs).locator('section.answer.left .markdown').innerText();
    assert.ok(sameStart(String(original[0]!.chosen), chosenShown), 'after undo the original chosen answer is on the left again');
    const saved = await saveAndRead(vs, 'data/eval.pairs.jsonl', () => true);
    assert.equal(saved, SAMPLE, 'after undo and save the file is exactly the original');
  });
});

test('blind mode shows answers in random order and writes the decision for the answer picked', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { files: { 'data/eval.pairs.jsonl': SAMPLE, 'other.txt': 'another editor\n' } }, async (vs) => {
    await vs.openFile('data/eval.pairs.jsonl');
    await waitForRecord(vs, 0);
    await focusEditor(vs);
    await press(vs, 'b');
    await editor(vs).locator('#app.blind').waitFor();
    // Blind mode names no side "chosen" or "rejected".
    const headings = await editor(vs).locator('section.answer h2').allInnerTexts();
    assert.ok(headings.every((h) => !/chosen|rejected/i.test(h)), `blind headings: ${JSON.stringify(headings)}`);

    const picks: Array<{ index: number; pickedText: string; shownSwapped: boolean }> = [];
    for (let i = 0; i < SAMPLE_LINES.length - 1; i++) {
      const o = original[i]!;
      const left = await editor(vs).locator('section.answer.left').getAttribute('aria-label');
      const leftText = await editor(vs).locator('section.answer.left .markdown').innerText();
      const leftIsChosen = sameStart(String(o.chosen), leftText);
      assert.ok(leftIsChosen || sameStart(String(o.rejected), leftText), `record ${i + 1}: the left answer is one of the two`);
      assert.ok(left && !/chosen|rejected/i.test(left), `the left answer's label gives nothing away: ${left}`);
      // Alternate the key pressed, so both sides get picked.
      const key = i % 2 === 0 ? '1' : '2';
      const picked = key === '1' ? (leftIsChosen ? o.chosen : o.rejected) : leftIsChosen ? o.rejected : o.chosen;
      picks.push({ index: i, pickedText: String(picked), shownSwapped: !leftIsChosen });
      await press(vs, key, Math.min(i + 1, SAMPLE_LINES.length - 2));
      if (picks.length >= 6 && picks.some((p) => p.shownSwapped) && picks.some((p) => !p.shownSwapped)) break;
    }
    assert.ok(picks.some((p) => p.shownSwapped) && picks.some((p) => !p.shownSwapped), 'blind mode showed some records with chosen on the right and some on the left');
    await editor(vs).locator(`.progress-text[data-labeled="${picks.length}"]`).waitFor();
    const saved = records(await saveAndRead(vs, 'data/eval.pairs.jsonl', (text) => records(text).filter((r) => 'decision' in r).length === picks.length));
    for (const p of picks) {
      assert.equal(saved[p.index]!.decision, 'chosen');
      assert.equal(saved[p.index]!.chosen, p.pickedText, `record ${p.index + 1}: chosen is the answer the labeler picked`);
    }

    // Hidden and shown again (the webview is rebuilt): same record, still blind.
    const at = Number(await editor(vs).locator('article.record').getAttribute('data-index'));
    await vs.openFile('other.txt');
    await vs.openFile('data/eval.pairs.jsonl');
    await waitForRecord(vs, at);
    await editor(vs).locator('#app.blind').waitFor();
  });
});

const WITH_ERRORS = [
  '{"prompt":"fine","chosen":"a good answer","rejected":"a bad one"}',
  '{"prompt":"typed wrong","chosen":5,"rejected":"x"}',
  '{"prompt":"still fine","chosen":"yes","rejected":"no"}',
  'not json at all',
  '{"prompt":"same","chosen":"identical","rejected":"identical"}',
].join('\n') + '\n';

test('records with errors show them, and the problems filter steps through only those', { timeout: TEST_TIMEOUT }, async (t) => {
  // Thousands of good records after the bad ones: the whole-file check then takes many slices of
  // the event loop, as it does on a real dataset, and an edit's re-check is not over at once.
  const good = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ prompt: `What is ${i} times ${i + 7}?`, chosen: `${i * (i + 7)}, since ${i} × ${i + 7} = ${i * (i + 7)}.`, rejected: `It is ${2 * i + 7}.` }));
  await withVSCode(t, { files: { 'data/errors.pairs.jsonl': WITH_ERRORS + good.join('\n') + '\n' } }, async (vs) => {
    await vs.openFile('data/errors.pairs.jsonl');
    await waitForRecord(vs, 0);
    await editor(vs).locator('.problem-counts').waitFor();
    await focusEditor(vs);
    await press(vs, 'j', 1);
    const problem = editor(vs).locator('article.record[data-index="1"] li.problem.error');
    assert.match(await problem.innerText(), /schema-type/);
    assert.match(await problem.innerText(), /\/chosen/);
    await editor(vs).locator('select.filter').selectOption('problems');
    await focusEditor(vs);
    await press(vs, 'j', 3);
    assert.match(await editor(vs).locator('article.record[data-index="3"] li.problem').first().innerText(), /invalid-json/);
    assert.match(await editor(vs).locator('article.record[data-index="3"] pre.source').innerText(), /not json at all/);
    await press(vs, 'j', 4);
    assert.match(await editor(vs).locator('article.record[data-index="4"] li.problem').first().innerText(), /identical-answers/);
    await press(vs, 'k', 3);
    await press(vs, 'k', 1); // record 3 (index 2) has no problem: the filter skips it

    // Fixing record 5 in place: the whole-file check of the edited text reaches the editor, so
    // its problem and the header's count go away without another edit.
    const counts = editor(vs).locator('.problem-counts');
    const warningsBefore = Number(await counts.getAttribute('data-warnings'));
    await editor(vs).locator('select.filter').selectOption('all');
    await focusEditor(vs);
    await press(vs, 'g');
    await editor(vs).locator('vscode-textfield.form-input input').fill('5');
    await editor(vs).locator('vscode-textfield.form-input input').press('Enter');
    await waitForRecord(vs, 4);
    await editor(vs).locator('article.record[data-index="4"] section.answer.left .edit-button').click();
    const box = editor(vs).locator('vscode-textarea.form-input textarea');
    await box.fill('a different answer');
    await box.press('Control+Enter');
    await editor(vs).locator('article.record[data-index="4"] section.answer', { hasText: 'a different answer' }).waitFor();
    await editor(vs).locator('article.record[data-index="4"] li.problem').waitFor({ state: 'detached' });
    await vs.waitFor('one warning fewer in the header', async () => Number(await counts.getAttribute('data-warnings')) === warningsBefore - 1);
  });
});

test('a malicious record runs no script and loads nothing remote', { timeout: TEST_TIMEOUT }, async (t) => {
  let hits = 0;
  const bait = createServer((_req, res) => {
    hits++;
    res.end('x');
  });
  await new Promise<void>((resolve) => bait.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(bait.address() as AddressInfo).port}`;
  const evil = {
    prompt: `<script>window.__pwned = 'script'</script> Hello <img src="${url}/img" onerror="window.__pwned = 'img'">`,
    chosen: `Safe answer ![tracker](${url}/md.png) and [a link](javascript:window.__pwned='link') <iframe src="${url}/frame"></iframe>`,
    rejected: `<svg onload="window.__pwned='svg'"></svg><style>body{background:url(${url}/css)}</style>`,
  };
  try {
    await withVSCode(t, { files: { 'data/evil.pairs.jsonl': JSON.stringify(evil) + '\n' } }, async (vs) => {
      await vs.openFile('data/evil.pairs.jsonl');
      await waitForRecord(vs, 0);
      const record = editor(vs).locator('article.record');
      await new Promise((r) => setTimeout(r, 1500));
      const found = await record.evaluate((el) => ({
        earlyScriptRan: typeof (window as { __dpoEarlyBridge?: unknown }).__dpoEarlyBridge === 'object',
        pwned: (window as { __pwned?: string }).__pwned,
        elements: el.querySelectorAll('script, img, iframe, svg, style').length,
        text: (el as HTMLElement).innerText,
      }));
      assert.ok(found.earlyScriptRan, "the page's own inline script ran under its nonce");
      assert.equal(found.pwned, undefined, 'no script from the record ran');
      assert.equal(found.elements, 0, 'no element from the record was created (script, img, iframe, svg, style)');
      assert.match(found.text, /<script>window.__pwned/, 'the raw HTML shows as text');
      assert.match(found.text, /\[image: tracker\]/, 'a Markdown image shows as its description, not loaded');
      assert.equal(hits, 0, 'nothing was fetched from the address the record names');
    });
  } finally {
    bait.close();
  }
});

test('candidates: pick best and worst with the keyboard, then Export Pairs writes preference pairs', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { files: { 'data/gen.candidates.jsonl': CANDIDATES } }, async (vs) => {
    // Not a *.pairs.jsonl file: it opens as text, and the command switches it to the pair editor.
    await vs.openFile('data/gen.candidates.jsonl');
    await vs.runCommand('DPO: Open in Pair Editor');
    await waitForRecord(vs, 0);
    await focusEditor(vs);
    await press(vs, 'j', 1);
    await press(vs, 'j', 2);
    // Record 3 is unlabeled: candidate 1 is best, candidate 3 worst.
    await press(vs, '1');
    await editor(vs).locator('section.candidate.pending').waitFor();
    await press(vs, '3');
    await editor(vs).locator('.progress-text[data-labeled="3"]').waitFor();
    await vs.runCommand('File: Save');
    await vs.waitFor('the choice to be saved', () => {
      const third = records(vs.readFile('data/gen.candidates.jsonl'))[2]!;
      return third.best === 0 && third.worst === 2;
    });

    // Record 2 is ranked already; rank it anew in rank mode: 3 first, then 1 (2 is left last).
    await focusEditor(vs);
    await press(vs, 'k', 1);
    await press(vs, 'r');
    await editor(vs).locator('#app.rank-mode').waitFor();
    await press(vs, '3');
    await press(vs, '1', 2);
    await vs.runCommand('File: Save');
    await vs.waitFor('the ranking to be saved', () => {
      const second = records(vs.readFile('data/gen.candidates.jsonl'))[1]!;
      return JSON.stringify(second.ranking) === '[2,0,1]' && second.best === 2 && second.worst === 1;
    });

    await vs.runCommand('DPO: Export Pairs');
    await vs.pickQuickInputItem('Best vs worst');
    const input = vs.page.locator('.quick-input-widget input');
    await vs.waitFor('the output path', async () => /gen\.pairs\.jsonl$/.test(await input.inputValue()));
    await vs.page.keyboard.press('Enter');
    const out = vs.path('data/gen.pairs.jsonl');
    await vs.waitFor('gen.pairs.jsonl to be written', () => existsSync(out));
    const pairs = records(readFileSync(out, 'utf8'));
    const source = records(CANDIDATES);
    assert.equal(pairs.length, 3, 'one pair per labeled record');
    const third = pairs[2]!;
    const candidates = source[2]!.candidates as string[];
    assert.equal(third.chosen, candidates[0]);
    assert.equal(third.rejected, candidates[2]);
    assert.equal(third.prompt, source[2]!.prompt);
  });
});

test('switches to the text view at the same record and back', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { files: { 'data/eval.pairs.jsonl': SAMPLE } }, async (vs) => {
    await vs.openFile('data/eval.pairs.jsonl');
    await waitForRecord(vs, 0);
    await focusEditor(vs);
    await press(vs, 'j', 1);
    await press(vs, 'j', 2);
    await press(vs, 'j', 3);
    await vs.runCommand('DPO: Show Record as Text');
    const status = vs.page.locator('.statusbar-item[id="status.editor.selection"]');
    await vs.waitFor('the text editor with record 4 selected', async () => /Ln 4,/.test((await status.innerText().catch(() => '')) ?? ''));
    await vs.page.keyboard.press('Control+G');
    await vs.page.keyboard.type('7');
    await vs.page.keyboard.press('Enter');
    await vs.waitFor('the cursor on line 7', async () => /Ln 7,/.test(await status.innerText()));
    await vs.runCommand('DPO: Open in Pair Editor');
    await waitForRecord(vs, 6);
  });
});

test('edits a text in place, adds a note, searches and goes to a record', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { files: { 'data/eval.pairs.jsonl': SAMPLE } }, async (vs) => {
    await vs.openFile('data/eval.pairs.jsonl');
    await waitForRecord(vs, 0);
    const frame = editor(vs);
    // Edit the prompt of record 1 in place.
    await frame.locator('section.prompt .edit-button').click();
    const box = frame.locator('vscode-textarea.form-input textarea');
    await box.fill('What is 2 + 2?');
    await box.press('Control+Enter');
    await frame.locator('section.prompt .markdown', { hasText: 'What is 2 + 2?' }).waitFor();
    // A note on record 1, from the keyboard.
    await focusEditor(vs);
    await press(vs, 'm');
    await box.fill('prompt rewritten');
    await box.press('Control+Enter');
    await frame.locator('.note-line', { hasText: 'prompt rewritten' }).waitFor();
    // Search finds record 7 (the only one about SQL); go to record 9.
    await focusEditor(vs);
    await press(vs, '/');
    const field = frame.locator('vscode-textfield.form-input input');
    await field.fill('having');
    await field.press('Enter');
    await waitForRecord(vs, 6);
    await field.press('Escape');
    await focusEditor(vs);
    await press(vs, 'g');
    await field.fill('9');
    await field.press('Enter');
    await waitForRecord(vs, 8);

    const saved = await saveAndRead(vs, 'data/eval.pairs.jsonl', (text) => records(text)[0]!.note === 'prompt rewritten');
    const first = records(saved)[0]!;
    assert.equal(first.prompt, 'What is 2 + 2?');
    assert.equal(first.chosen, original[0]!.chosen);
    assert.deepEqual(saved.split('\n').slice(1), SAMPLE_LINES.slice(1), 'only the edited record changed');
  });
});

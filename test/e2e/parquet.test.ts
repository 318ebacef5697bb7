// Parquet in the pair editor, in a real VS Code (code-server + Chromium): read-only, by row
// group, ordered by a score column, exported to a .pairs.jsonl to label. Run:
//   node --import tsx --test --test-concurrency=1 test/e2e/parquet.test.ts
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { requirePyarrow, SAMPLE_CONVERSATIONAL, SAMPLE_PAIRS, writeParquet } from '../support/parquetFixtures.ts';
import { withVSCode, type VSCodeSession } from './harness.ts';

const TEST_TIMEOUT = 10 * 60_000;

function editor(vs: VSCodeSession): FrameLocator {
  return vs.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('a Parquet file opens in the pair editor by row group, sorts by its score column and exports to JSONL to label', { timeout: TEST_TIMEOUT }, async (t) => {
  const python = requirePyarrow(t);
  if (!python) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'dpo-parquet-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Stack-exchange-paired's column names plus a score, zstd, 16 rows per group; and a conversational file (snappy).
  writeParquet(python, SAMPLE_PAIRS, path.join(dir, 'renamed.parquet'), 'renamed', 'zstd', 16);
  writeParquet(python, SAMPLE_CONVERSATIONAL, path.join(dir, 'chat.parquet'), 'conversational', 'snappy', 8);
  writeParquet(python, SAMPLE_PAIRS, path.join(dir, 'standard.parquet'), 'standard', 'snappy');
  const source = lines(readFileSync(SAMPLE_PAIRS, 'utf8'));
  const chat = lines(readFileSync(SAMPLE_CONVERSATIONAL, 'utf8'));

  // JSON Lines with the same other names: editable, decisions written under the file's own columns.
  const renamedLines = source.slice(0, 3).map((r) => JSON.stringify({ question: r.prompt, response_j: r.chosen, response_k: r.rejected })).join('\n') + '\n';
  await withVSCode(t, { copy: { data: dir }, files: { 'labels/se.pairs.jsonl': renamedLines }, settings: { 'dpoStudio.datasets.columns': { prompt: 'question', chosen: 'response_j', rejected: 'response_k' } } }, async (vs) => {
    // *.parquet opens in the pair editor by default: quick open, the name, Enter.
    await vs.openFile('data/renamed.parquet');
    const frame = editor(vs);
    await frame.locator('article.record[data-index="0"]').waitFor({ timeout: 60_000 });
    await frame.locator('.table-facts', { hasText: '50 rows in 4 row groups' }).waitFor();
    await frame.locator('.table-facts', { hasText: 'columns prompt=question,chosen=response_j,rejected=response_k' }).waitFor();
    assert.equal((await frame.locator('section.prompt .markdown').first().innerText()).trim().slice(0, 30), (source[0]!.prompt as string).slice(0, 30));
    await frame.locator('.row-number', { hasText: 'row 1' }).waitFor();
    await frame.locator('.extra-column[data-column="score"]').waitFor();
    // Labeling keys are refused with the way to label: export.
    await frame.locator('.record-meta').click();
    await vs.page.keyboard.press('1');
    await frame.locator('.status', { hasText: 'read-only' }).waitFor();
    // The next record comes from the same group; record 20 from the second group.
    await vs.page.keyboard.press('j');
    await frame.locator('article.record[data-index="1"]').waitFor();
    await vs.page.keyboard.press('g');
    await vs.page.keyboard.type('20');
    await vs.page.keyboard.press('Enter');
    await frame.locator('article.record[data-index="19"] .row-number', { hasText: 'row 20' }).waitFor();

    // Highest score first: the first record shown is a row with the top score.
    await frame.locator('select.sort').selectOption('score:desc');
    const scores = source.map((_, i) => Math.round((1 + ((i * 7) % 10) / 2) * 100) / 100);
    const top = Math.max(...scores);
    await frame.locator('article.record[data-index="0"] .extra-column[data-column="score"]', { hasText: `score: ${top}` }).waitFor();

    // Export the first rows in that order to a .pairs.jsonl, which opens in the pair editor to label.
    await frame.locator('vscode-button[data-host-command="exportJsonl"]').click();
    await vs.pickQuickInputItem('The first 50 rows');
    const out = 'data/renamed.pairs.jsonl';
    const exported = await vs.waitFor(`${out} to be written`, () => {
      try {
        return lines(vs.readFile(out));
      } catch {
        return false;
      }
    });
    assert.equal(exported.length, 50);
    assert.deepEqual(Object.keys(exported[0]!), ['prompt', 'chosen', 'rejected', 'id', 'score'], 'mapped fields under their own names, the other columns kept');
    assert.equal(exported[0]!.score, top);
    assert.ok(exported.every((r, i) => i === 0 || (r.score as number) <= (exported[i - 1]!.score as number)), 'in the order shown');
    const first = source.find((r) => r.id === exported[0]!.id)!;
    assert.equal(exported[0]!.chosen, first.chosen);
    // The export is an ordinary JSONL pair editor: label the first record and save.
    await editor(vs).locator('.progress-text').waitFor({ timeout: 60_000 });
    await editor(vs).locator('article.record[data-index="0"] .label-state', { hasText: 'not labeled' }).waitFor();

    // The plain shape: string columns with the fields' own names (the workspace mapping leaves it alone).
    await vs.openFile('data/standard.parquet');
    await editor(vs).locator('.table-facts', { hasText: '50 rows in 1 row group' }).waitFor({ timeout: 60_000 });
    await editor(vs).locator('section.prompt', { hasText: (source[0]!.prompt as string).slice(0, 40) }).waitFor();

    // A conversational file: chat turns rendered as turns.
    await vs.openFile('data/chat.parquet');
    await editor(vs).locator('.table-facts', { hasText: '20 rows in 3 row groups' }).waitFor({ timeout: 60_000 });
    const firstTurn = (chat[0]!.prompt as Array<{ content: string }>)[0]!.content;
    await editor(vs).locator('section.prompt', { hasText: firstTurn.slice(0, 40) }).waitFor();
    await vs.screenshot(path.join(import.meta.dirname, '../../.test-artifacts/parquet-chat.png'));

    await vs.openFile('labels/se.pairs.jsonl');
    await editor(vs).locator('article.record[data-index="0"] section.prompt', { hasText: (source[0]!.prompt as string).slice(0, 40) }).waitFor({ timeout: 60_000 });
    await editor(vs).locator('.record-meta').click();
    await vs.page.keyboard.press('2'); // the answer stored as rejected (response_k) is better
    await editor(vs).locator('article.record[data-index="1"]').waitFor();
    await vs.runCommand('File: Save');
    const saved = await vs.waitFor('se.pairs.jsonl to be saved', () => {
      const text = vs.readFile('labels/se.pairs.jsonl');
      return text.includes('"decision"') && text;
    });
    const savedLines = saved.split('\n');
    const decided = JSON.parse(savedLines[0]!) as Record<string, unknown>;
    assert.deepEqual([decided.response_j, decided.response_k, decided.decision], [source[0]!.rejected, source[0]!.chosen, 'chosen']);
    assert.deepEqual(savedLines.slice(1), renamedLines.split('\n').slice(1), 'the other lines are byte-identical');
  });
});

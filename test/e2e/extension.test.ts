// DPO Studio in a real VS Code (code-server + chromium). Run: npm run test:e2e
// Each test starts its own server, browser and workspace (see harness.ts).

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { prepare } from '../../scripts/vscode/prepare.mjs';
import { withVSCode } from './harness.ts';

// A cold cache installs code-server (minutes): do it outside the tests' own time limits.
before(() => prepare(), { timeout: 20 * 60_000 });

const VALIDATE = 'DPO: Validate Dataset';
const CREATE_SAMPLE = 'DPO: Create Sample Dataset';
const OUTPUT_CHANNEL = 'DPO Studio';

const BAD_JSONL =
  [
    '{"prompt":"p","chosen":"good answer","rejected":"bad"}',
    '{"prompt":"q","chosen":"same","rejected":"same"}',
    '{"prompt": "r", "chosen": 5, "rejected": "x"}',
    'not json',
  ].join('\n') + '\n';

const GOOD_JSONL =
  [
    '{"prompt":"What is 2+2?","chosen":"4","rejected":"5"}',
    '{"prompt":"Capital of France?","chosen":"Paris","rejected":"Lyon"}',
  ].join('\n') + '\n';

const TEST_TIMEOUT = 10 * 60_000;

test('the extension activates without errors', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { files: { 'data/good.jsonl': GOOD_JSONL } }, async (vs) => {
    // workspaceContains:**/*.jsonl activates it; opening a dataset exercises the first use.
    const activation = await vs.waitForActivation();
    await vs.openFile('data/good.jsonl');

    assert.ok(await vs.hasCommand(VALIDATE), `"${VALIDATE}" is not in the command palette`);
    assert.ok(await vs.hasCommand(CREATE_SAMPLE), `"${CREATE_SAMPLE}" is not in the command palette`);
    // Give late errors (diagnostics, status bar) a moment to reach the log.
    await new Promise((r) => setTimeout(r, 3000));
    const errors = vs.extensionErrors();
    assert.deepEqual(
      errors.map((e) => e.text.split('\n').slice(0, 12).join('\n')),
      [],
      `the extension host logged errors for dpo-studio (activated by: ${activation})`,
    );
  });
});

test('dataset problems show in the Problems panel', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { files: { 'data/bad.jsonl': BAD_JSONL } }, async (vs) => {
    await vs.openFile('data/bad.jsonl');
    const problems = await vs.waitFor(
      'problems on lines 2, 3 and 4 of bad.jsonl',
      async () => {
        const rows = (await vs.readProblems()).filter((p) => p.file.endsWith('bad.jsonl'));
        const lines = [...new Set(rows.map((p) => p.line))].sort();
        return lines.join(',') === '2,3,4' ? rows : (false as const);
      },
      { timeoutMs: 90_000 },
    );
    const on = (line: number) => problems.filter((p) => p.line === line);
    assert.ok(
      on(2).some((p) => p.code === 'identical-answers' && p.severity === 'warning'),
      `line 2: identical-answers warning expected, got ${JSON.stringify(on(2))}`,
    );
    assert.ok(
      on(3).some((p) => p.code === 'schema-type' && p.severity === 'error'),
      `line 3: schema-type error (/chosen) expected, got ${JSON.stringify(on(3))}`,
    );
    assert.ok(
      on(4).some((p) => p.code === 'invalid-json' && p.severity === 'error'),
      `line 4: invalid-json error expected, got ${JSON.stringify(on(4))}`,
    );
    assert.deepEqual(on(1), [], 'line 1 is a valid record');
  });
});

test('Validate Dataset writes a summary to the DPO Studio output channel', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { files: { 'data/bad.jsonl': BAD_JSONL } }, async (vs) => {
    await vs.openFile('data/bad.jsonl');
    await vs.runCommand(VALIDATE);
    const text = await vs.waitFor(
      `a summary of bad.jsonl in the "${OUTPUT_CHANNEL}" output channel`,
      async () => {
        const shown = await vs.readOutputChannel(OUTPUT_CHANNEL);
        return /records/i.test(shown) && shown.includes('bad.jsonl') ? shown : false;
      },
      { timeoutMs: 90_000 },
    );
    assert.match(text, /\b4\s+records\b|records:\s*4\b/i, `record count 4 expected in:\n${text}`);
  });
});

test('Create Sample Dataset writes a JSONL file of preference pairs', { timeout: TEST_TIMEOUT }, async (t) => {
  await withVSCode(t, { files: { 'README.md': '# sample workspace\n' } }, async (vs) => {
    assert.equal(existsSync(vs.path('data/preference_sample.jsonl')), false);
    await vs.runCommand(CREATE_SAMPLE);
    const input = vs.page.locator('.quick-input-widget input');
    const value = await vs.waitFor(
      'the input box with the sample path',
      async () => {
        if (!(await input.isVisible())) return false;
        const v = await input.inputValue();
        // The palette's own ">DPO: ..." text stays until the command's input box replaces it.
        return v && !v.startsWith('>') ? v : false;
      },
    );
    assert.match(value, /preference_sample\.jsonl$/, `the input box offers "${value}"`);
    await vs.page.keyboard.press('Enter');
    const file = path.isAbsolute(value) ? value : vs.path(value);
    // Follow-up prompts (if the command asks more, e.g. a record format) are answered with their
    // defaults: Enter on the preselected entry, as a user in a hurry would.
    const extraPrompts: string[] = [];
    await vs.waitFor(
      `${file} to be written`,
      async () => {
        if (existsSync(file)) return true;
        const focused = vs.page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused');
        if ((await input.isVisible()) && (await focused.count()) > 0 && extraPrompts.length < 5) {
          extraPrompts.push((await vs.page.locator('.quick-input-widget .quick-input-title').textContent()) ?? '?');
          await vs.page.keyboard.press('Enter');
        }
        return false;
      },
      { timeoutMs: 60_000 },
    );
    if (extraPrompts.length) t.diagnostic(`answered follow-up prompts with their defaults: ${extraPrompts.join(', ')}`);
    const records = await vs.waitFor(`${file} to hold JSONL records`, () => {
      const lines = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
      if (lines.length === 0) return false;
      return lines.map((l, i) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          throw new Error(`line ${i + 1} is not JSON: ${l.slice(0, 200)}`);
        }
      });
    });
    for (const [i, r] of records.entries()) {
      for (const key of ['prompt', 'chosen', 'rejected']) {
        assert.ok(key in r, `record ${i + 1} has no "${key}": ${JSON.stringify(r).slice(0, 300)}`);
      }
    }
  });
});

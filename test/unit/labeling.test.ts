import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidatesToPairs } from '../../src/core/labeling/candidatePairs.ts';
import { applyCandidateChoice, applyPairDecision, blindSwap, clearDecision } from '../../src/core/labeling/decisions.ts';
import { setAtPointer, setFields, swapFields } from '../../src/core/labeling/recordEdits.ts';
import { validateText } from '../../src/core/dataset/validateText.ts';

describe('record edits', () => {
  const line = '{"id": 7,  "prompt": "Say \\"hi\\"", "chosen": "Hello!\\n", "rejected": "go away", "custom": {"keep": [1, 2]}}';

  it('swaps chosen and rejected exactly as written', () => {
    const swapped = swapFields(line, 'chosen', 'rejected');
    assert.equal(swapped, '{"id": 7,  "prompt": "Say \\"hi\\"", "chosen": "go away", "rejected": "Hello!\\n", "custom": {"keep": [1, 2]}}');
  });

  it('adds fields on the same line for JSON Lines and replaces existing values in place', () => {
    const labeled = setFields(line, { decision: 'chosen', annotator: 'kim' });
    assert.ok(!labeled.includes('\n'));
    assert.ok(labeled.startsWith('{"id": 7,  "prompt": "Say \\"hi\\"", "chosen": "Hello!\\n", "rejected": "go away", "custom": {"keep": [1, 2]}'));
    assert.deepEqual(JSON.parse(labeled).annotator, 'kim');
    const relabeled = setFields(labeled, { annotator: 'lee' });
    assert.equal(relabeled, labeled.replace('"kim"', '"lee"'));
  });

  it('adds fields to a multi-line record with its own indentation', () => {
    const record = '{\r\n    "prompt": "p",\r\n    "chosen": "a",\r\n    "rejected": "b"\r\n  }';
    assert.equal(setFields(record, { note: 'checked' }), '{\r\n    "prompt": "p",\r\n    "chosen": "a",\r\n    "rejected": "b",\r\n    "note": "checked"\r\n  }');
  });

  it('edits a nested field by JSON pointer and removes fields', () => {
    const chat = '{"prompt": [{"role": "user", "content": "hi"}], "chosen": [{"role": "assistant", "content": "hello"}], "rejected": [{"role": "assistant", "content": "bye"}], "note": "x"}';
    const edited = setAtPointer(chat, '/chosen/0/content', 'Hello there!');
    assert.equal(JSON.parse(edited).chosen[0].content, 'Hello there!');
    assert.equal(edited.replace('"Hello there!"', '"hello"'), chat);
    assert.equal(JSON.parse(setFields(chat, { note: undefined })).note, undefined);
  });
});

describe('decisions', () => {
  const source = '{"prompt": "2+2?", "chosen": "5", "rejected": "4"}';

  it('preferring the rejected answer swaps the texts so chosen holds the better one', () => {
    const labeled = applyPairDecision(source, 'rejected', { annotator: 'kim', timeMs: 1234.4, at: '2026-11-21T00:00:00.000Z' });
    assert.deepEqual(JSON.parse(labeled), { prompt: '2+2?', chosen: '4', rejected: '5', decision: 'chosen', annotator: 'kim', time_ms: 1234, labeled_at: '2026-11-21T00:00:00.000Z' });
    assert.equal(validateText(labeled, 'x.jsonl').errorCount, 0);
  });

  it('confirming the chosen answer keeps the texts; a tie is recorded as such', () => {
    assert.deepEqual(JSON.parse(applyPairDecision(source, 'chosen')), { prompt: '2+2?', chosen: '5', rejected: '4', decision: 'chosen' });
    assert.equal(JSON.parse(applyPairDecision(source, 'tie')).decision, 'tie');
  });

  it('relabeling twice in opposite directions restores the texts', () => {
    const twice = applyPairDecision(applyPairDecision(source, 'rejected'), 'rejected');
    assert.equal(JSON.parse(twice).chosen, '5');
    assert.equal(clearDecision(twice), source);
  });

  it('writes best/worst or a ranking for candidates', () => {
    const candidates = '{"prompt": "p", "candidates": ["a", "b", "c"]}';
    assert.deepEqual(JSON.parse(applyCandidateChoice(candidates, { best: 2, worst: 0 })), { prompt: 'p', candidates: ['a', 'b', 'c'], best: 2, worst: 0 });
    const ranked = JSON.parse(applyCandidateChoice(candidates, { ranking: [1, 2, 0] }, { annotator: 'kim' }));
    assert.deepEqual([ranked.ranking, ranked.best, ranked.worst, ranked.annotator], [[1, 2, 0], 1, 0, 'kim']);
  });

  it('blind order is stable per record and mixes both sides', () => {
    const order = Array.from({ length: 200 }, (_, i) => blindSwap(42, i));
    assert.deepEqual(order, Array.from({ length: 200 }, (_, i) => blindSwap(42, i)));
    const swapped = order.filter(Boolean).length;
    assert.ok(swapped > 70 && swapped < 130, `${swapped} of 200 swapped`);
    assert.notDeepEqual(order, Array.from({ length: 200 }, (_, i) => blindSwap(43, i)));
  });
});

describe('candidates to pairs', () => {
  const record = { id: 'c1', prompt: 'p', candidates: ['a', { text: 'b', meta: {} }, 'c', 'd'], ranking: [1, 3, 0, 2] };

  it('exports best against worst', () => {
    assert.deepEqual(candidatesToPairs(record, { kind: 'best-worst' }), [
      { id: 'c1:1>2', prompt: 'p', chosen: 'b', rejected: 'c', source: 'candidates', meta: { chosen_index: 1, rejected_index: 2, candidates_id: 'c1' } },
    ]);
  });

  it('exports every ranked pair at least minGap apart', () => {
    const pairs = candidatesToPairs(record, { kind: 'ranked', minGap: 2 });
    assert.deepEqual(pairs.map((p) => `${p.chosen}>${p.rejected}`), ['b>a', 'b>c', 'd>c']);
    assert.equal(candidatesToPairs(record, { kind: 'ranked', minGap: 1 }).length, 6);
  });

  it('gives assistant turns for a conversational prompt and nothing for unlabeled records', () => {
    const chat = { prompt: [{ role: 'user', content: 'hi' }], candidates: ['x', 'y'], best: 0, worst: 1 };
    assert.deepEqual(candidatesToPairs(chat, { kind: 'best-worst' })[0]!.chosen, [{ role: 'assistant', content: 'x' }]);
    assert.deepEqual(candidatesToPairs({ prompt: 'p', candidates: ['x', 'y'] }, { kind: 'best-worst' }), []);
    assert.deepEqual(candidatesToPairs({ prompt: 'p', candidates: ['x', 'x'], best: 0, worst: 1 }, { kind: 'best-worst' }), []);
  });
});

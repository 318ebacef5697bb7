import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LINT_OPTIONS } from '../../src/core/dataset/lintRules.ts';
import { validateText } from '../../src/core/dataset/validateText.ts';
import { blindOrder } from '../../src/core/pairEditor/blindOrder.ts';
import { changedSlice } from '../../src/core/pairEditor/changedSlice.ts';
import { defaultExportName, exportPairs } from '../../src/core/pairEditor/pairExport.ts';
import { applyRecordAction, RecordActionError } from '../../src/core/pairEditor/recordActions.ts';
import { RecordDocument } from '../../src/core/pairEditor/recordDocument.ts';
import { nextMatching, nextUnlabeled, RecordFlags } from '../../src/core/pairEditor/recordFlags.ts';
import { indicesAround, rangesToFetch, RecordWindow } from '../../src/core/pairEditor/recordWindow.ts';
import type { CandidatesRecordView, PairRecordView } from '../../src/core/pairEditor/recordView.ts';

const PAIRS = [
  '{"id": 1, "prompt": "2+2?", "chosen": "4", "rejected": "5"}',
  '{"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello!"}], "rejected": [{"role": "assistant", "content": "Go away."}], "decision": "chosen", "note": "ok"}',
  '{"prompt": {"instruction": "Summarize.", "input": "A long text."}, "chosen": "Short.", "rejected": "Long."}',
  '{"chosen": "\\n\\nHuman: Hi\\n\\nAssistant: Hello there", "rejected": "\\n\\nHuman: Hi\\n\\nAssistant: Whatever"}',
  '{"prompt": "p", "candidates": ["a", {"text": "b", "meta": {"model": "m"}}, "c"], "best": 0, "worst": 2}',
  '{"prompt": "bad", "chosen": 5, "rejected": "x"}',
  'not json',
].join('\n') + '\n';

function documentOf(text: string, fileName = 'data.jsonl'): RecordDocument {
  const doc = new RecordDocument(fileName, DEFAULT_LINT_OPTIONS);
  doc.update(text);
  return doc;
}

describe('record views', () => {
  const doc = documentOf(PAIRS);

  it('shows a standard pair with editable fields, its id and lengths', () => {
    const view = doc.view(0) as PairRecordView;
    assert.equal(view.kind, 'pair');
    assert.equal(view.id, '1');
    assert.deepEqual(view.prompt, { text: '2+2?', pointer: '/prompt', length: 4 });
    assert.equal(view.chosen.pointer, '/chosen');
    assert.equal(view.decision, undefined);
  });

  it('shows chat prompts turn by turn, each turn editable at its own pointer', () => {
    const view = doc.view(1) as PairRecordView;
    assert.deepEqual(
      view.prompt.turns?.map((t) => [t.role, t.content, t.pointer]),
      [
        ['system', 'Be brief.', '/prompt/0/content'],
        ['user', 'Hi', '/prompt/1/content'],
      ],
    );
    assert.equal(view.chosen.turns?.[0]?.pointer, '/chosen/0/content');
    assert.equal(view.decision, 'chosen');
    assert.equal(view.note, 'ok');
  });

  it('shows instruction prompts as instruction and input', () => {
    const view = doc.view(2) as PairRecordView;
    assert.deepEqual(view.prompt.turns?.map((t) => t.pointer), ['/prompt/instruction', '/prompt/input']);
  });

  it('splits implicit-prompt answers from their shared prompt but edits the whole stored string', () => {
    const view = doc.view(3) as PairRecordView;
    assert.equal(view.prompt.text, '\n\nHuman: Hi\n\nAssistant:');
    assert.equal(view.prompt.pointer, undefined, 'the shared prompt lives in two fields and is not editable on its own');
    assert.equal(view.chosen.text, ' Hello there');
    assert.equal(view.chosen.editValue, '\n\nHuman: Hi\n\nAssistant: Hello there');
  });

  it('shows candidates with their pointers, captions and choice', () => {
    const view = doc.view(4) as CandidatesRecordView;
    assert.equal(view.kind, 'candidates');
    assert.deepEqual(view.candidates.map((c) => c.pointer), ['/candidates/0', '/candidates/1/text', '/candidates/2']);
    assert.equal(view.candidates[1]!.caption, '{"model":"m"}');
    assert.equal(view.best, 0);
    assert.equal(view.worst, 2);
  });

  it('shows invalid records as source with their located problems', () => {
    const schema = doc.view(5)!;
    assert.equal(schema.kind, 'invalid');
    assert.deepEqual(schema.problems.map((p) => [p.code, p.pointer, p.line]), [['schema-type', '/chosen', 6]]);
    const syntax = doc.view(6)!;
    assert.equal(syntax.kind === 'invalid' && syntax.source, 'not json');
    assert.equal(syntax.problems[0]!.code, 'invalid-json');
  });
});

describe('record document', () => {
  it('reports which records an edit changed, and a reset when records are added or lines shift', () => {
    const doc = documentOf('{"a":1}\n{"b":2}\n{"c":3}\n');
    assert.deepEqual(doc.update('{"a":1}\n{"b":22}\n{"c":3}\n'), { kind: 'records', indices: [1] });
    assert.deepEqual(doc.update('{"a":1}\n{"b":22}\n{"c":3}\n'), { kind: 'none' });
    assert.deepEqual(doc.update('{"a":1}\n{"b":22}\n'), { kind: 'reset' });
    const json = documentOf('[\n  {"a": 1},\n  {"b": 2}\n]', 'x.json');
    assert.deepEqual(json.update('[\n  {"a": 1,\n   "z": 0},\n  {"b": 2}\n]'), { kind: 'reset' });
  });

  it('patches one record in place for an edit inside its line, and moves the records after it', () => {
    const text = '{"a":1}\n{"b":2}\n{"c":3}\n';
    const doc = documentOf(text);
    const at = text.indexOf('2');
    assert.deepEqual(doc.applyChange({ offset: at, removedLength: 1, text: '22,"x":true' }), { kind: 'records', indices: [1] });
    const edited = text.slice(0, at) + '22,"x":true' + text.slice(at + 1);
    const fresh = documentOf(edited);
    for (const i of [0, 1, 2]) assert.deepEqual(doc.span(i), fresh.span(i), `span ${i} is what a full split gives`);
    assert.equal(doc.applyChange({ offset: 3, removedLength: 0, text: '\n' }), undefined, 'a new line may add a record: split again');
    assert.equal(doc.applyChange({ offset: edited.indexOf('{"c"'), removedLength: 7, text: ' ' }), undefined, 'a record emptied is gone: split again');
    assert.equal(documentOf('[{"a":1}]', 'x.json').applyChange({ offset: 6, removedLength: 1, text: '2' }), undefined, 'JSON arrays are always split again');
  });

  it('uses the whole-file validation for cross-record problems while it is current for a record', () => {
    const text = '{"prompt":"p","chosen":"a","rejected":"b"}\n{"prompt":"p","chosen":"a","rejected":"b"}\n';
    const doc = documentOf(text);
    assert.deepEqual(doc.view(1)!.problems, [], 'without a validation only the record itself is known');
    const summary = doc.setValidation(validateText(text, 'x.jsonl'));
    assert.deepEqual(doc.view(1)!.problems.map((p) => p.code), ['duplicate-record']);
    assert.equal(summary.recordsWithProblems, 1);
    assert.equal(RecordFlags.fromHex(2, summary.problemFlags).get(1), true);
    doc.update('{"prompt":"p","chosen":"a","rejected":"b"}\n{"prompt":"p","chosen":"a","rejected":"c"}\n');
    assert.deepEqual(doc.view(1)!.problems, [], 'an edited record is analysed again, not shown with stale problems');
  });

  it('counts labeled records: a decision for pairs, a choice for candidates', () => {
    const summary = documentOf(PAIRS).setValidation(validateText(PAIRS, 'x.jsonl'));
    assert.equal(summary.total, 7);
    assert.equal(summary.labeled, 2);
    const flags = RecordFlags.fromHex(7, summary.labeledFlags);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].filter((i) => flags.get(i)), [1, 4]);
  });

  it('searches decoded text forward and backward, wrapping around', () => {
    const doc = documentOf('{"prompt":"say \\"hi\\"","chosen":"x","rejected":"y"}\n{"prompt":"Line\\nbreak","chosen":"x","rejected":"y"}\n{"prompt":"HELLO","chosen":"x","rejected":"y"}\n');
    assert.equal(doc.search('hello', 0, 1), 2);
    assert.equal(doc.search('say "hi"', 2, 1), 0, 'quotes are found although the file escapes them');
    assert.equal(doc.search('line\nbreak', 0, -1), 1);
    assert.equal(doc.search('absent', 0, 1), undefined);
  });

  it('finds the record at an offset', () => {
    const doc = documentOf('{"a":1}\n\n{"b":2}\n');
    assert.equal(doc.indexAtOffset(3), 0);
    assert.equal(doc.indexAtOffset(9), 1);
    assert.equal(doc.indexAtOffset(8), 0, 'a blank line belongs to the record before it');
  });
});

describe('record actions', () => {
  const pair = '{"prompt": "2+2?", "chosen": "5", "rejected": "4", "decision": "chosen"}';

  it('swap exchanges the answers and drops a decision that described the old order', () => {
    assert.equal(applyRecordAction(pair, { kind: 'swap' }), '{"prompt": "2+2?", "chosen": "4", "rejected": "5"}');
  });

  it('refuses a decision on a candidates record and a swap on a record without answers', () => {
    assert.throws(() => applyRecordAction('{"prompt":"p","candidates":["a","b"]}', { kind: 'decide', preference: 'chosen' }), RecordActionError);
    assert.throws(() => applyRecordAction('not json', { kind: 'swap' }), RecordActionError);
  });

  it('writes best and worst, replacing an older ranking, and checks the indices against the record', () => {
    const ranked = '{"prompt":"p","candidates":["a","b","c"],"ranking":[2,1,0],"best":2,"worst":0}';
    assert.deepEqual(JSON.parse(applyRecordAction(ranked, { kind: 'chooseCandidates', best: 1, worst: 0 })), { prompt: 'p', candidates: ['a', 'b', 'c'], best: 1, worst: 0 });
    assert.throws(() => applyRecordAction(ranked, { kind: 'chooseCandidates', best: 1, worst: 3 }), /no candidate 4/);
    assert.throws(() => applyRecordAction(ranked, { kind: 'chooseCandidates', ranking: [1, 1, 0] }), /only once/);
    assert.deepEqual(JSON.parse(applyRecordAction(ranked, { kind: 'chooseCandidates', ranking: [0, 1, 2] })).ranking, [0, 1, 2]);
  });

  it('adds and removes a note; edits only existing text fields', () => {
    const noted = applyRecordAction(pair, { kind: 'note', note: 'check the math' });
    assert.equal(JSON.parse(noted).note, 'check the math');
    assert.equal(applyRecordAction(noted, { kind: 'note', note: '  ' }), pair);
    assert.equal(JSON.parse(applyRecordAction(pair, { kind: 'editText', pointer: '/chosen', value: 'four' })).chosen, 'four');
    assert.throws(() => applyRecordAction(pair, { kind: 'editText', pointer: '/prompt/0/content', value: 'x' }), RecordActionError);
  });

  it('clears a candidates choice', () => {
    assert.equal(applyRecordAction('{"prompt":"p","candidates":["a","b"],"best":0,"worst":1}', { kind: 'clearDecision' }), '{"prompt":"p","candidates":["a","b"]}');
  });
});

describe('changed slice', () => {
  it('is the smallest single replacement', () => {
    assert.deepEqual(changedSlice('{"a":"x","b":1}', '{"a":"y","b":1}'), { start: 6, end: 7, text: 'y' });
    assert.deepEqual(changedSlice('{"a":1}', '{"a":1,"decision":"chosen"}'), { start: 6, end: 6, text: ',"decision":"chosen"' });
    assert.equal(changedSlice('same', 'same'), undefined);
  });

  it('never splits a surrogate pair', () => {
    const slice = changedSlice('a\u{1F600}b', 'a\u{1F601}b')!;
    assert.deepEqual(slice, { start: 1, end: 3, text: '\u{1F601}' });
  });
});

describe('pair export', () => {
  const candidates = [
    '{"id":"c1","prompt":"p1","candidates":["a","b","c"],"ranking":[2,0,1],"best":2,"worst":1}',
    '{"id":"c2","prompt":"p2","candidates":["x","y"]}',
    '{"prompt":"plain","chosen":"a","rejected":"b"}',
    '{"prompt":"p3","candidates":["x","y"],"best":0,"worst":5}',
  ].join('\n');

  it('writes best vs worst pairs and counts what it left out', () => {
    const result = exportPairs(candidates, 'gen.candidates.jsonl', { kind: 'best-worst' });
    assert.equal(result.pairs, 1);
    assert.deepEqual(JSON.parse(result.jsonl.trim()), { id: 'c1:2>1', prompt: 'p1', chosen: 'c', rejected: 'b', source: 'candidates', meta: { chosen_index: 2, rejected_index: 1, candidates_id: 'c1' } });
    assert.equal(result.unlabeledRecords, 1);
    assert.equal(result.skippedRecords, 2, 'a plain pair and a record with an invalid choice are not exported');
  });

  it('writes every ranked pair at least minGap apart', () => {
    assert.equal(exportPairs(candidates, 'g.jsonl', { kind: 'ranked', minGap: 1 }).pairs, 3);
    assert.equal(exportPairs(candidates, 'g.jsonl', { kind: 'ranked', minGap: 2 }).pairs, 1);
  });

  it('names the output after the candidates file', () => {
    assert.equal(defaultExportName('/w/data/gen.candidates.jsonl'), '/w/data/gen.pairs.jsonl');
    assert.equal(defaultExportName('/w/x.json'), '/w/x.pairs.jsonl');
  });
});

describe('windowing and flags', () => {
  it('holds the record on screen and more ahead than behind, within the filter', () => {
    assert.deepEqual(indicesAround(5, 100, 2, 3), [5, 6, 7, 8, 4, 3]);
    assert.deepEqual(indicesAround(0, 3, 2, 5), [0, 1, 2]);
    assert.deepEqual(indicesAround(5, 100, 1, 2, (i) => i % 2 === 0), [5, 6, 8, 4]);
  });

  it('groups missing records into few requests, nearest first, none longer than the limit', () => {
    const held = new Set([5, 6]);
    assert.deepEqual(rangesToFetch([5, 6, 7, 8, 20, 4], (i) => held.has(i), 100, 0), [
      { start: 4, end: 5 },
      { start: 7, end: 9 },
      { start: 20, end: 21 },
    ]);
    // A small gap costs less than another round trip: it is fetched along.
    assert.deepEqual(rangesToFetch([5, 6, 7, 8, 20, 4], (i) => held.has(i), 100), [
      { start: 4, end: 9 },
      { start: 20, end: 21 },
    ]);
    assert.deepEqual(rangesToFetch([0, 1, 2, 3, 4], () => false, 2), [
      { start: 0, end: 2 },
      { start: 2, end: 4 },
      { start: 4, end: 5 },
    ]);
  });

  it('forgets the records farthest from the one on screen', () => {
    const window = new RecordWindow<string>(3);
    for (const i of [1, 2, 3, 10, 11]) window.put(i, String(i));
    window.trim(10);
    assert.deepEqual([1, 2, 3, 10, 11].filter((i) => window.has(i)), [3, 10, 11]);
  });

  it('finds the next record in a filter and the next unlabeled one, wrapping', () => {
    const labeled = new RecordFlags(5);
    labeled.set(1, true);
    labeled.set(2, true);
    const problems = RecordFlags.fromHex(5, new RecordFlags(5).toHex());
    problems.set(4, true);
    const flags = { labeled, problems };
    assert.equal(nextMatching(0, 1, 5, 'unlabeled', flags), 3);
    assert.equal(nextMatching(0, 1, 5, 'problems', flags), 4);
    assert.equal(nextMatching(4, 1, 5, 'all', flags), undefined);
    assert.equal(nextUnlabeled(4, 5, labeled), 0);
    assert.equal(RecordFlags.fromHex(5, labeled.toHex()).countSet(), 2);
  });

  it('blind order is a stable permutation that differs between records', () => {
    assert.deepEqual(blindOrder(7, 3, 5), blindOrder(7, 3, 5));
    assert.deepEqual([...blindOrder(7, 3, 5)].sort(), [0, 1, 2, 3, 4]);
    const swaps = Array.from({ length: 200 }, (_, i) => blindOrder(42, i, 2)[0]).filter((first) => first === 1).length;
    assert.ok(swaps > 60 && swaps < 140, `about half of the pairs are shown swapped (${swaps} of 200)`);
  });
});

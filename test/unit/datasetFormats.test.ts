import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitImplicitMessages, splitImplicitText } from '../../src/core/dataset/implicitPrompt.ts';
import { validateText } from '../../src/core/dataset/validateText.ts';
import type { NormalizedPair } from '../../src/core/dataset/types.ts';

const jsonl = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

function onlyRecord(text: string, fileName = 'data.jsonl') {
  const result = validateText(text, fileName);
  assert.equal(result.records.length, 1);
  return { result, record: result.records[0]! };
}

describe('formats', () => {
  it('reads the standard format', () => {
    const { result, record } = onlyRecord(jsonl({ prompt: 'What is 2+2?', chosen: '4', rejected: '5' }));
    assert.equal(result.format, 'standard');
    assert.deepEqual(result.problems, []);
    const pair = record.analysis.normalized as NormalizedPair;
    assert.equal(pair.promptText, 'What is 2+2?');
    assert.equal(pair.chosenText, '4');
  });

  it('reads an instruction prompt with and without input', () => {
    const text = jsonl(
      { prompt: { instruction: 'Translate the sentence.', input: 'Hello, world!' }, chosen: '안녕하세요, 세계!', rejected: '헬로 월드' },
      { prompt: { instruction: 'Name a prime.' }, chosen: '7', rejected: '9' },
    );
    const result = validateText(text, 'data.jsonl');
    assert.equal(result.format, 'instruction');
    assert.deepEqual(result.problems, []);
    assert.equal((result.records[0]!.analysis.normalized as NormalizedPair).promptText, 'Translate the sentence.\n\nHello, world!');
  });

  it('reads conversational records and keeps the prompt turns', () => {
    const { result, record } = onlyRecord(
      jsonl({
        prompt: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Capital of France?' }],
        chosen: [{ role: 'assistant', content: 'Paris.' }],
        rejected: [{ role: 'assistant', content: 'Lyon.' }],
      }),
    );
    assert.equal(result.format, 'conversational');
    assert.deepEqual(result.problems, []);
    const pair = record.analysis.normalized as NormalizedPair;
    assert.equal(pair.promptMessages?.length, 2);
    assert.equal(pair.chosenText, 'Paris.');
  });

  it('extracts the implicit prompt of HH-style strings up to the last assistant turn', () => {
    const chosen = '\n\nHuman: How do I boil an egg?\n\nAssistant: Put it in boiling water for 9 minutes.';
    const rejected = '\n\nHuman: How do I boil an egg?\n\nAssistant: Put it in the microwave.';
    const split = splitImplicitText(chosen, rejected);
    assert.equal(split.prompt, '\n\nHuman: How do I boil an egg?\n\nAssistant:');
    assert.equal(split.chosen, ' Put it in boiling water for 9 minutes.');
    assert.equal(split.rejected, ' Put it in the microwave.');
    const { result } = onlyRecord(jsonl({ chosen, rejected }));
    assert.equal(result.format, 'implicit');
    assert.deepEqual(result.problems, []);
  });

  it('uses the longest common prefix for implicit strings without turn markers', () => {
    assert.deepEqual(splitImplicitText('Q: x? A: yes', 'Q: x? A: no'), { prompt: 'Q: x? A: ', chosen: 'yes', rejected: 'no' });
  });

  it('extracts the implicit prompt of message lists turn by turn', () => {
    const user = { role: 'user', content: 'Hi' };
    const split = splitImplicitMessages([user, { role: 'assistant', content: 'Hello!' }], [user, { role: 'assistant', content: 'What.' }]);
    assert.deepEqual(split.prompt, [user]);
    assert.deepEqual(split.chosen, [{ role: 'assistant', content: 'Hello!' }]);
    const { result } = onlyRecord(jsonl({ chosen: [user, { role: 'assistant', content: 'Hello!' }], rejected: [user, { role: 'assistant', content: 'What.' }] }));
    assert.equal(result.format, 'implicit');
    assert.deepEqual(result.problems, []);
  });

  it('warns when implicit answers share no prefix', () => {
    const { result } = onlyRecord(jsonl({ chosen: 'Yes, gladly.', rejected: 'No.' }));
    assert.deepEqual(result.problems.map((p) => p.code), ['no-common-prefix']);
  });

  it('reads candidates records with string and object candidates and a choice', () => {
    const text = jsonl(
      { prompt: 'Say hi', candidates: ['Hi!', { text: 'Hello there.', meta: { model: 'tiny' } }, 'Yo'], best: 1, worst: 2 },
      { prompt: 'Say bye', candidates: ['Bye', 'Later'], ranking: [1, 0] },
      { prompt: 'Unlabeled', candidates: ['a', 'b'] },
    );
    const result = validateText(text, 'gen.jsonl');
    assert.equal(result.format, 'candidates');
    assert.deepEqual(result.problems, []);
    assert.equal(result.stats.candidateRecords, 3);
    assert.equal(result.stats.labeledCandidateRecords, 2);
  });

  it('reports choices that point past the candidates', () => {
    const result = validateText(jsonl({ prompt: 'p', candidates: ['a', 'b'], best: 2, worst: 0 }, { prompt: 'p', candidates: ['a', 'b'], best: 1, worst: 1 }), 'gen.jsonl');
    assert.deepEqual(result.problems.map((p) => [p.line, p.code, p.pointer]), [
      [1, 'invalid-choice', '/best'],
      [2, 'invalid-choice', '/worst'],
    ]);
  });

  it('keeps extra fields in the record value and does not complain about them', () => {
    const record = { id: 'r1', prompt: 'p', chosen: 'a', rejected: 'b', meta: { domain: 'math' }, source: 'hand', annotator: 'kim', note: 'ok', custom_field: [1, 2] };
    const { result, record: parsed } = onlyRecord(jsonl(record));
    assert.deepEqual(result.problems, []);
    assert.deepEqual(parsed.analysis.value, record);
  });

  it('keeps each record\'s exact source text and position', () => {
    const lines = ['{"prompt": "a",  "chosen": "b", "rejected": "c"}', '', '{"prompt":"d","chosen":"e","rejected":"f"}'];
    const text = lines.join('\r\n') + '\r\n';
    const result = validateText(text, 'x.jsonl');
    assert.equal(result.records.length, 2);
    const [first, second] = result.records.map((r) => r.span);
    assert.equal(first!.source, lines[0]);
    assert.equal(text.slice(first!.offset, first!.offset + first!.length), lines[0]);
    assert.equal(second!.line, 3);
    assert.equal(text.slice(second!.offset, second!.offset + second!.length), lines[2]);
  });

  it('reads a .json array with each record\'s position', () => {
    const text = '[\n  {"prompt": "a", "chosen": "b", "rejected": "c"},\n  {\n    "prompt": "d",\n    "chosen": 1,\n    "rejected": "f"\n  }\n]\n';
    const result = validateText(text, 'data.json');
    assert.equal(result.kind, 'json');
    assert.equal(result.records.length, 2);
    assert.equal(result.records[1]!.span.line, 3);
    assert.deepEqual(result.problems.map((p) => [p.line, p.column, p.code, p.pointer]), [[5, 15, 'schema-type', '/chosen']]);
  });

  it('tolerates a byte order mark', () => {
    const result = validateText('\uFEFF' + jsonl({ prompt: 'p', chosen: 'a', rejected: 'b' }), 'x.jsonl');
    assert.deepEqual(result.problems, []);
    assert.equal(result.stats.records, 1);
  });
});

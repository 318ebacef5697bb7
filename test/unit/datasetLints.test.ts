import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Problem } from '../../src/core/dataset/types.ts';
import { validateFile } from '../../src/core/dataset/validateFile.ts';
import { lintOptions } from '../../src/core/dataset/lintRules.ts';
import { textSimilarity } from '../../src/core/dataset/textSimilarity.ts';
import { validateText } from '../../src/core/dataset/validateText.ts';

const jsonl = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const codes = (text: string, options = lintOptions()) => validateText(text, 'x.jsonl', options).problems.map((p) => `${p.line}:${p.code}`);

describe('quality lints', () => {
  it('flags identical answers', () => {
    assert.deepEqual(codes(jsonl({ prompt: 'p', chosen: 'same', rejected: 'same' })), ['1:identical-answers']);
  });

  it('flags near-identical answers above the threshold, not below', () => {
    const chosen = 'The capital of France is Paris, which is also its largest city.';
    const rejected = 'The capital of France is Paris, which is also its biggest city.';
    assert.ok(textSimilarity(chosen, rejected) > 0.9);
    assert.deepEqual(codes(jsonl({ prompt: 'p', chosen, rejected })), ['1:near-identical-answers']);
    assert.deepEqual(codes(jsonl({ prompt: 'p', chosen, rejected: 'Lyon.' })), []);
    assert.deepEqual(codes(jsonl({ prompt: 'p', chosen, rejected }), lintOptions({ nearIdenticalThreshold: 0.99 })), []);
  });

  it('treats case and whitespace differences as near-identical, not identical', () => {
    assert.deepEqual(codes(jsonl({ prompt: 'p', chosen: 'Hello  World', rejected: 'hello world' })), ['1:near-identical-answers']);
  });

  it('still finds near-identical answers when one is padded with whitespace runs', () => {
    const words = 'DPO optimises the policy directly from preference pairs without a reward model. ';
    const compact = words.repeat(4);
    for (const padded of [words.replace(/ /g, '\n\n\n   ').repeat(4), words.replace(/ /g, '\t\t\t\t\t\t').repeat(4)]) {
      assert.ok(padded.length > compact.length * 1.5);
      assert.deepEqual(codes(jsonl({ prompt: 'p', chosen: compact, rejected: padded + '!' })), ['1:near-identical-answers']);
    }
  });

  it('flags empty and whitespace-only texts at their field', () => {
    const result = validateText(jsonl({ prompt: ' ', chosen: 'a', rejected: '\n\t' }), 'x.jsonl');
    assert.deepEqual(result.problems.map((p) => [p.code, p.pointer]), [
      ['empty-text', '/prompt'],
      ['empty-text', '/rejected'],
    ]);
  });

  it('flags an empty chat turn at its message', () => {
    const result = validateText(
      jsonl({ prompt: [{ role: 'user', content: '' }], chosen: [{ role: 'assistant', content: 'x' }], rejected: [{ role: 'assistant', content: 'y' }] }),
      'x.jsonl',
    );
    assert.deepEqual(result.problems.map((p) => [p.code, p.pointer]), [['empty-text', '/prompt/0/content']]);
  });

  it('flags duplicates and names the first occurrence', () => {
    const r = { prompt: 'p', chosen: 'a', rejected: 'b' };
    const result = validateText(jsonl(r, { prompt: 'q', chosen: 'a', rejected: 'b' }, r), 'x.jsonl');
    assert.deepEqual(result.problems.map((p) => `${p.line}:${p.code}`), ['3:duplicate-record']);
    assert.match(result.problems[0]!.message, /record 1 \(line 1\)/);
  });

  it('flags contradicting pairs for the same prompt', () => {
    const result = validateText(jsonl({ prompt: 'p', chosen: 'A', rejected: 'B' }, { prompt: 'other', chosen: 'B', rejected: 'A' }, { prompt: 'p', chosen: 'B', rejected: 'A' }), 'x.jsonl');
    assert.deepEqual(result.problems.map((p) => `${p.line}:${p.code}`), ['3:contradicting-pairs']);
  });

  it('flags texts over the configured maximum length', () => {
    const options = lintOptions({ maxTextLength: 10 });
    assert.deepEqual(codes(jsonl({ prompt: 'p', chosen: 'a'.repeat(11), rejected: 'b' }), options), ['1:text-too-long']);
    assert.deepEqual(codes(jsonl({ prompt: 'p', chosen: 'a'.repeat(10), rejected: 'b' }), options), []);
  });

  it('flags duplicate candidates and too few candidates', () => {
    assert.deepEqual(codes(jsonl({ prompt: 'p', candidates: ['x', 'y', 'x'] }, { prompt: 'q', candidates: ['only'] })), ['1:duplicate-candidates', '2:too-few-candidates']);
  });

  it('reports length bias with the statistics behind it', () => {
    const records = Array.from({ length: 30 }, (_, i) => ({ prompt: `q${i}`, chosen: 'a long and detailed answer '.repeat(3) + i, rejected: `short ${i}` }));
    const result = validateText(jsonl(...records), 'x.jsonl');
    assert.equal(result.stats.chosenLongerRate, 1);
    assert.ok(result.stats.meanChosenLength > result.stats.meanRejectedLength);
    const bias = result.problems.filter((p) => p.code === 'length-bias');
    assert.equal(bias.length, 1);
    assert.match(bias[0]!.message, /100% of 30 pairs/);
  });

  it('does not report length bias for a balanced dataset or too few pairs', () => {
    const balanced = Array.from({ length: 30 }, (_, i) => (i % 2 ? { prompt: `q${i}`, chosen: 'long answer here', rejected: 'short' } : { prompt: `q${i}`, chosen: 'short', rejected: 'long answer here' }));
    assert.deepEqual(codes(jsonl(...balanced)), []);
    const few = Array.from({ length: 5 }, (_, i) => ({ prompt: `q${i}`, chosen: 'long answer here', rejected: 'short' }));
    assert.deepEqual(codes(jsonl(...few)), []);
  });

  it('switches lints off by code', () => {
    const text = jsonl({ prompt: 'p', chosen: 'same', rejected: 'same' }, { prompt: 'p', chosen: 'same', rejected: 'same' });
    assert.deepEqual(codes(text), ['1:identical-answers', '2:duplicate-record', '2:identical-answers']);
    assert.deepEqual(codes(text, lintOptions({ disabled: ['identical-answers'] })), ['2:duplicate-record']);
    assert.deepEqual(codes(text, lintOptions({ disabled: ['identical-answers', 'duplicate-record'] })), []);
  });

  it('gives dataset statistics', () => {
    const result = validateText(jsonl({ prompt: 'ab', chosen: 'abcd', rejected: 'ab' }, { prompt: 'ab', chosen: 'a', rejected: 'abc' }), 'x.jsonl');
    assert.deepEqual(
      { records: result.stats.records, pairs: result.stats.pairs, uniquePrompts: result.stats.uniquePrompts, chosen: result.stats.meanChosenLength, rejected: result.stats.meanRejectedLength, rate: result.stats.chosenLongerRate },
      { records: 2, pairs: 2, uniquePrompts: 1, chosen: 2.5, rejected: 2.5, rate: 0.5 },
    );
  });
});

describe('cross-record lints on the streaming file path', () => {
  it('finds duplicates and contradictions in a file, confirmed against the real texts', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { validateFile } = await import('../../src/core/dataset/validateFile.ts');
    const a = 'a'.repeat(100);
    // Same length and the same characters wherever the cheap key samples: only a real comparison tells them apart.
    const lookalike = 'a'.repeat(51) + 'b' + 'a'.repeat(48);
    const path = join(mkdtempSync(join(tmpdir(), 'dpo-lints-')), 'x.jsonl');
    writeFileSync(
      path,
      jsonl(
        { prompt: 'p', chosen: a, rejected: 'no' },
        { prompt: 'p', chosen: lookalike, rejected: 'no' },
        { prompt: 'p', chosen: 'no', rejected: lookalike },
        { prompt: 'p', chosen: a, rejected: 'no' },
      ).replace(/\n/g, '\r\n'),
    );
    const result = validateFile(path);
    assert.deepEqual(result.problems.map((p) => `${p.line}:${p.code}`), ['3:contradicting-pairs', '4:duplicate-record']);
    assert.match(result.problems[0]!.message, /record 2 \(line 2\)/);
  });
});

describe('cross-record findings, streamed or whole', () => {
  it('the streaming reader finds the same duplicates and contradictions, at the same places, as the whole-text one', () => {
    const r = (p: string, c: string, x: string) => JSON.stringify({ prompt: p, chosen: c, rejected: x });
    const lines = [r('p', 'a', 'b'), '', r('q', 'é', 'ü'), r('p', 'a', 'b'), '  ', r('p', 'b', 'a'), r('q', 'ü', 'é'), r('q', 'é', 'ü'), r('z', 'same', 'same'), r('z', 'same', 'same'), r('p', 'b', 'a')];
    const text = lines.join('\r\n') + '\n';
    const path = join(mkdtempSync(join(tmpdir(), 'dpo-cross-')), 'cross.jsonl');
    writeFileSync(path, text);
    const show = (problems: Problem[]) => problems.map((p) => `${p.line}:${p.column}:${p.offset}:${p.length}:${p.code}:${p.message}`);
    const streamed = show(validateFile(path).problems);
    assert.deepEqual(streamed, show(validateText(text, 'cross.jsonl').problems));
    assert.deepEqual(
      streamed.filter((p) => !p.includes('identical-answers')).map((p) => p.split(':').slice(0, 1).concat(p.split(':').slice(4, 5)).join(':') + ' ' + /record \d+ \(line \d+\)/.exec(p)![0]),
      ['4:duplicate-record record 1 (line 1)', '6:contradicting-pairs record 1 (line 1)', '7:contradicting-pairs record 2 (line 3)', '8:duplicate-record record 2 (line 3)', '10:duplicate-record record 7 (line 9)', '11:duplicate-record record 4 (line 6)'],
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnalysisCache, looksLikePreferenceData } from '../../src/core/dataset/analysisCache.ts';
import { lintOptions } from '../../src/core/dataset/lintRules.ts';
import { validateText } from '../../src/core/dataset/validateText.ts';

describe('incremental validation', () => {
  const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ prompt: `question ${i}`, chosen: `a good answer ${i}`, rejected: `bad ${i}` }));

  it('re-analyses only the records whose text changed, with the same result as a full run', () => {
    // The synthetic answers are all longer when chosen; that dataset-level warning is not what this test is about.
    const options = lintOptions({ disabled: ['length-bias'] });
    const cache = new AnalysisCache(options);
    validateText(lines.join('\n'), 'x.jsonl', options, cache.analyze);
    cache.endRun();
    assert.equal(cache.misses, 200);

    const edited = [...lines];
    edited[10] = JSON.stringify({ prompt: 'question 10', chosen: 'same', rejected: 'same' });
    edited[150] = lines[3]!;
    const incremental = validateText(edited.join('\n'), 'x.jsonl', options, cache.analyze);
    cache.endRun();
    assert.equal(cache.misses, 201);
    const full = validateText(edited.join('\n'), 'x.jsonl', options);
    assert.deepEqual(incremental.problems, full.problems);
    assert.deepEqual(incremental.problems.map((p) => `${p.line}:${p.code}`), ['11:identical-answers', '151:duplicate-record']);
  });

  it('forgets analyses made under old settings', () => {
    const cache = new AnalysisCache(lintOptions());
    const text = JSON.stringify({ prompt: 'p', chosen: 'same', rejected: 'same' });
    assert.equal(validateText(text, 'x.jsonl', lintOptions(), cache.analyze).problems.length, 1);
    cache.endRun();
    const quiet = lintOptions({ disabled: ['identical-answers'] });
    cache.reset(quiet);
    assert.equal(validateText(text, 'x.jsonl', quiet, cache.analyze).problems.length, 0);
  });

  it('tells preference data from other JSON by its fields', () => {
    assert.equal(looksLikePreferenceData('{"prompt": "p", "chosen": "a", "rejected": "b"}'), true);
    assert.equal(looksLikePreferenceData('[{"prompt": "p", "candidates": []}]'), true);
    assert.equal(looksLikePreferenceData('{"name": "my-package", "version": "1.0.0"}'), false);
    assert.equal(looksLikePreferenceData('{"compilerOptions": {"strict": true}}'), false);
  });
});

describe('validation in slices', () => {
  const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ prompt: `q${i % 2900}`, chosen: i % 7 ? `answer ${i}` : 'same', rejected: i % 7 ? `worse ${i}` : 'same' }));
  const text = lines.join('\n');

  it('gives the same result as one pass, yielding between slices', async () => {
    const { validateTextInSlices } = await import('../../src/core/dataset/validateText.ts');
    let pauses = 0;
    const sliced = await validateTextInSlices(text, 'x.jsonl', lintOptions(), (s) => analyzeFresh(s), async () => {
      pauses++;
      await new Promise((resolve) => setImmediate(resolve));
    }, () => false, 0);
    assert.ok(pauses > 100, `paused ${pauses} times`);
    assert.deepEqual(sliced!.problems, validateText(text, 'x.jsonl').problems);
  });

  it('gives up when the text went stale', async () => {
    const { validateTextInSlices } = await import('../../src/core/dataset/validateText.ts');
    let pauses = 0;
    const result = await validateTextInSlices(text, 'x.jsonl', lintOptions(), (s) => analyzeFresh(s), async () => {
      pauses++;
    }, () => pauses >= 3, 0);
    assert.equal(result, undefined);
  });
});

function analyzeFresh(source: string) {
  return new AnalysisCache(lintOptions()).analyze(source);
}

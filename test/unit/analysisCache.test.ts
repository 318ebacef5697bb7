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

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyColumnMapping, ColumnMappingError, mappingFor, missingMappedColumns, parseColumnsFlag, unmapPointer } from '../../src/core/dataset/columnMapping.ts';
import { matchesFilter, parseWhere, ConvertError } from '../../src/core/dataset/convertDataset.ts';
import { DEFAULT_LINT_OPTIONS, lintOptions } from '../../src/core/dataset/lintRules.ts';
import { forEachPackedAnalysis, packAnalyses, pairTuple } from '../../src/core/dataset/parquetRowAnalysis.ts';
import { analyzeRecord, analyzeRow } from '../../src/core/dataset/recordAnalysis.ts';
import { normalizeForComparison, textSimilarity } from '../../src/core/dataset/textSimilarity.ts';
import { splitFiles, splitsOf, isHubDatasetName } from '../../src/core/hub/hubDatasets.ts';
import { looksLikePreferenceData } from '../../src/core/dataset/analysisCache.ts';
import { applyRecordAction, RecordActionError } from '../../src/core/pairEditor/recordActions.ts';
import { RecordDocument } from '../../src/core/pairEditor/recordDocument.ts';
import type { PairRecordView } from '../../src/core/pairEditor/recordView.ts';

describe('column mapping', () => {
  const mapping = { prompt: 'question', chosen: 'response_j', rejected: 'response_k' };

  it('parses --columns and names what is wrong with it', () => {
    assert.deepEqual(parseColumnsFlag('prompt=question, chosen=response_j,rejected=response_k'), mapping);
    assert.throws(() => parseColumnsFlag('prompt'), ColumnMappingError);
    assert.throws(() => parseColumnsFlag('answer=x'), /"answer" is not a record field; map one of prompt, chosen/);
    assert.throws(() => parseColumnsFlag('prompt=a,prompt=b'), /mapped twice/);
  });

  it('moves mapped columns to their fields and keeps the others; a field whose column is absent keeps its own', () => {
    assert.deepEqual(applyColumnMapping({ question: 'q', response_j: 'a', response_k: 'b', score: 4, id: 'x' }, mapping), { prompt: 'q', chosen: 'a', rejected: 'b', score: 4, id: 'x' });
    assert.deepEqual(applyColumnMapping({ prompt: 'q', chosen: 'a', rejected: 'b' }, mapping), { prompt: 'q', chosen: 'a', rejected: 'b' });
    assert.deepEqual(mappingFor(['prompt', 'chosen', 'rejected'], mapping), undefined);
    assert.deepEqual(mappingFor(['question', 'chosen', 'rejected'], mapping), { prompt: 'question' });
  });

  it('reports problems under the file\'s own names, and a missing column once', () => {
    assert.equal(unmapPointer('/chosen/0/content', mapping), '/response_j/0/content');
    assert.equal(unmapPointer('/note', mapping), '/note');
    assert.deepEqual(missingMappedColumns(['question', 'response_j'], mapping), [{ field: 'rejected', column: 'response_k' }]);
    assert.deepEqual(missingMappedColumns(['prompt', 'chosen', 'rejected'], mapping), []);
    const row = analyzeRow({ question: 'q', response_j: '  ', response_k: 'b' }, lintOptions({ columns: mapping }));
    assert.deepEqual(row.problems.map((p) => [p.code, p.pointer]), [['empty-text', '/response_j']]);
    const line = '{"question":"q","response_j":"  ","response_k":"b"}';
    const jsonl = analyzeRecord(line, lintOptions({ columns: mapping }));
    assert.deepEqual(jsonl.problems.map((p) => [p.code, p.pointer, line.slice(p.offset, p.offset + p.length)]), [['empty-text', '/response_j', '"  "']]);
  });
});

describe('convert --where', () => {
  it('parses conditions, numbers as numbers and quoted text as text', () => {
    assert.deepEqual(parseWhere('score >= 4'), { field: 'score', op: '>=', value: 4, text: 'score >= 4' });
    assert.deepEqual(parseWhere('source == "reddit"').value, 'reddit');
    assert.equal(parseWhere('prompt contains python').op, 'contains');
    assert.throws(() => parseWhere('score ~ 4'), ConvertError);
  });

  it('compares a column of the file or a mapped field', () => {
    const row = { question: 'How do I use python?', score: 4.5, source: 'reddit' };
    const mapped = { prompt: row.question, score: 4.5, source: 'reddit' };
    assert.equal(matchesFilter(row, mapped, parseWhere('score >= 4')), true);
    assert.equal(matchesFilter(row, mapped, parseWhere('score < 4')), false);
    assert.equal(matchesFilter(row, mapped, parseWhere('source != reddit')), false);
    assert.equal(matchesFilter(row, mapped, parseWhere('prompt contains python')), true);
    assert.equal(matchesFilter(row, mapped, parseWhere('question contains python')), true);
    assert.equal(matchesFilter(row, mapped, parseWhere('missing > 1')), false);
  });
});

describe('Hub dataset layouts', () => {
  it('finds a split among the files the Hub and `datasets` write', () => {
    const names = ['README.md', 'data/train-00000-of-00002.parquet', 'data/train-00001-of-00002.parquet', 'data/test-00000-of-00001.parquet'];
    assert.deepEqual(splitFiles(names, 'train'), ['data/train-00000-of-00002.parquet', 'data/train-00001-of-00002.parquet']);
    assert.deepEqual(splitsOf(names), ['test', 'train']);
    // UltraFeedback binarized: train_prefs is not train.
    const uf = ['data/train_prefs-00000-of-00001.parquet', 'data/train_sft-00000-of-00001.parquet', 'data/test_prefs-00000-of-00001.parquet'];
    assert.deepEqual(splitFiles(uf, 'train'), []);
    assert.deepEqual(splitFiles(uf, 'train_prefs'), ['data/train_prefs-00000-of-00001.parquet']);
    assert.deepEqual(splitsOf(uf), ['test_prefs', 'train_prefs', 'train_sft']);
    // The Parquet conversion: <config>/<split>/0000.parquet, the default config when there are several.
    assert.deepEqual(splitFiles(['default/train/0000.parquet', 'default/train/0001.parquet', 'other/train/0000.parquet'], 'train'), ['default/train/0000.parquet', 'default/train/0001.parquet']);
    assert.deepEqual(splitFiles(['train.parquet', 'test.parquet'], 'test'), ['test.parquet']);
  });

  it('tells Hub names from file paths', () => {
    assert.equal(isHubDatasetName('trl-lib/ultrafeedback_binarized'), true);
    assert.equal(isHubDatasetName('data/train.jsonl'), false);
    assert.equal(isHubDatasetName('data/train.parquet'), false);
    assert.equal(isHubDatasetName('train.jsonl'), false);
  });
});

describe('row analyses packed for worker threads', () => {
  it('carry what the dataset checks need, and the tuple that says which rows to compare', () => {
    const rows = [
      { prompt: 'p', chosen: 'yes', rejected: 'no' },
      { prompt: 'p', chosen: 'no', rejected: 'yes' },
      { prompt: 'p', chosen: 'yes', rejected: 'no' },
      { prompt: 'q', chosen: '', rejected: 'no' },
      { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] },
    ];
    const analyses = rows.map((r) => analyzeRow(r, DEFAULT_LINT_OPTIONS));
    const packed = packAnalyses(analyses);
    const seen: Array<[number, string | undefined, number]> = [];
    forEachPackedAnalysis(packed, (row, analysis) => seen.push([row, analysis.summary?.format, analysis.problems.length]));
    assert.deepEqual(seen, analyses.map((a, i) => [i, a.summary?.format, a.problems.length]));
    forEachPackedAnalysis(packed, (row, analysis) => {
      const expected = analyses[row]!.summary;
      if (!expected) return assert.equal(analysis.summary, undefined);
      for (const [key, value] of Object.entries(expected)) if (key !== 'chosenHash' && key !== 'rejectedHash') assert.equal(analysis.summary![key as keyof typeof expected], value, `row ${row} ${key}`);
    });
    // The tuples that decide which rows are read again to compare texts: a duplicate shares it, a swapped pair shares it crosswise.
    assert.equal(pairTuple(packed.numbers, 0, false), pairTuple(packed.numbers, 2, false));
    assert.notEqual(pairTuple(packed.numbers, 0, false), pairTuple(packed.numbers, 1, false));
    assert.equal(pairTuple(packed.numbers, 0, false), pairTuple(packed.numbers, 1, true));
  });
});

describe('answer similarity', () => {
  // The general path, as it was before the ASCII fast path: the fast path must give the same numbers.
  function reference(a: string, b: string): number {
    const x = normalizeForComparison(a);
    const y = normalizeForComparison(b);
    if (x === y) return 1;
    if (x.length < 2 || y.length < 2) return 0;
    const counts = new Map<number, number>();
    for (let i = 0; i < x.length - 1; i++) {
      const g = (x.charCodeAt(i) << 16) | x.charCodeAt(i + 1);
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    let shared = 0;
    for (let i = 0; i < y.length - 1; i++) {
      const g = (y.charCodeAt(i) << 16) | y.charCodeAt(i + 1);
      const left = counts.get(g);
      if (left) {
        shared++;
        counts.set(g, left - 1);
      }
    }
    return (2 * shared) / (x.length - 1 + y.length - 1);
  }

  it('the ASCII fast path gives the general path\'s numbers, whitespace and case included', () => {
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const alphabet = 'aAbB cC\t\nxyz.,!  é';
    for (let k = 0; k < 20000; k++) {
      const make = () => Array.from({ length: Math.floor(random() * 14) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const a = make();
      const b = random() < 0.3 ? a.toUpperCase().replace(/ /g, '\t ') : make();
      assert.equal(textSimilarity(a, b), reference(a, b), JSON.stringify([a, b]));
      const floored = textSimilarity(a, b, 0.9);
      const expected = reference(a, b);
      assert.ok(floored === expected || (floored === 0 && expected < 0.9), JSON.stringify([a, b, floored, expected]));
    }
  });
});

describe('the pair editor on JSON Lines with other column names', () => {
  const columns = { prompt: 'question', chosen: 'response_j', rejected: 'response_k' };
  const line = '{"question": "2+2?",  "response_j": "4", "response_k": "5", "score": 3}';

  it('shows the mapped record, and a decision or an edit writes the file\'s own columns, nothing else', () => {
    const records = new RecordDocument('data/se.jsonl', lintOptions({ columns }));
    records.update(`${line}\n{"prompt": "p", "chosen": "a", "rejected": "b"}\n`);
    const view = records.view(0) as PairRecordView;
    assert.equal(view.kind, 'pair');
    assert.deepEqual([view.prompt.text, view.chosen.text, view.rejected.text], ['2+2?', '4', '5']);
    assert.equal((records.view(1) as PairRecordView).chosen.text, 'a', 'a record with the fields\' own names is read as it is');
    // Preferring the answer stored as rejected swaps the mapped columns' texts.
    const decided = applyRecordAction(line, { kind: 'decide', preference: 'rejected' }, {}, columns);
    assert.deepEqual(JSON.parse(decided), { question: '2+2?', response_j: '5', response_k: '4', score: 3, decision: 'chosen' });
    assert.ok(decided.startsWith('{"question": "2+2?",  "response_j": "5"'), 'the untouched text keeps its spacing');
    const edited = applyRecordAction(line, { kind: 'editText', pointer: view.chosen.pointer!, value: 'four' }, {}, columns);
    assert.deepEqual(JSON.parse(edited), { question: '2+2?', response_j: 'four', response_k: '5', score: 3 });
    const swapped = applyRecordAction(line, { kind: 'swap' }, {}, columns);
    assert.deepEqual([JSON.parse(swapped).response_j, JSON.parse(swapped).response_k], ['5', '4']);
    // Without the mapping it is not a pair, and nothing is written.
    assert.throws(() => applyRecordAction(line, { kind: 'decide', preference: 'chosen' }), RecordActionError);
  });

  it('is recognised as a dataset by its mapped column names', () => {
    assert.equal(looksLikePreferenceData(line), false);
    assert.equal(looksLikePreferenceData(line, columns), true);
  });
});

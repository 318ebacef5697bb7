import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateFile } from '../../src/core/dataset/validateFile.ts';
import { validateText } from '../../src/core/dataset/validateText.ts';
import { lintOptions } from '../../src/core/dataset/lintRules.ts';

const good = '{"prompt":"p","chosen":"a","rejected":"b"}';
const dir = mkdtempSync(join(tmpdir(), 'dpo-bad-input-'));
function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
const located = (problems: Array<{ line: number; code: string }>) => problems.map((p) => `${p.line}:${p.code}`);

describe('bad input', () => {
  it('reports a malformed line at its line and column and checks the rest', () => {
    const result = validateText([good, '{"prompt": "p", "chosen": "a" "rejected": "b"}', '{"prompt":"x","chosen":"y","rejected":"y"}'].join('\n'), 'x.jsonl');
    assert.deepEqual(located(result.problems), ['2:invalid-json', '3:identical-answers']);
    assert.equal(result.problems[0]!.column, 31);
    assert.match(result.problems[0]!.message, /expected ','/);
    assert.equal(result.stats.records, 3);
  });

  it('reports a truncated last line', () => {
    const result = validateText(`${good}\n{"prompt": "p", "chosen": "a`, 'x.jsonl');
    assert.deepEqual(located(result.problems), ['2:invalid-json']);
    assert.match(result.problems[0]!.message, /unterminated string/);
  });

  it('handles a 10 MB line', () => {
    const big = JSON.stringify({ prompt: 'p', chosen: 'x'.repeat(10 * 1024 * 1024), rejected: 'y' });
    const result = validateFile(file('big.jsonl', `${good}\n${big}\n`));
    assert.deepEqual(located(result.problems), ['2:text-too-long']);
  });

  it('refuses a binary file with one clear error', () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x0a, 0xff, 0x00]);
    const result = validateFile(file('image.jsonl', bytes));
    assert.deepEqual(located(result.problems), ['1:binary-file']);
    assert.equal(result.errorCount, 1);
  });

  it('reports invalid UTF-8 at its line and still checks the record', () => {
    const bad = Buffer.concat([Buffer.from(`${good}\n{"prompt":"caf`), Buffer.from([0xe9]), Buffer.from('","chosen":"same","rejected":"same"}\n')]);
    const result = validateFile(file('latin1.jsonl', bad));
    assert.deepEqual(located(result.problems).sort(), ['2:identical-answers', '2:invalid-utf8']);
    const utf8 = result.problems.find((p) => p.code === 'invalid-utf8')!;
    assert.equal(utf8.column, 15);
  });

  it('does not mistake a real U+FFFD for invalid UTF-8', () => {
    const result = validateFile(file('fffd.jsonl', `{"prompt":"\uFFFD","chosen":"a","rejected":"b"}\n`));
    assert.deepEqual(result.problems, []);
  });

  it('reports an empty file', () => {
    assert.deepEqual(located(validateFile(file('empty.jsonl', '')).problems), ['1:empty-file']);
    assert.deepEqual(located(validateFile(file('blank.jsonl', '\n\n  \n')).problems), ['1:empty-file']);
    assert.deepEqual(located(validateFile(file('empty.json', '')).problems), ['1:empty-file']);
  });

  it('reads a JSON array saved as .jsonl, says so, and checks its records', () => {
    const text = `[\n  ${good},\n  {"prompt":"q","chosen":"z","rejected":"z"}\n]\n`;
    const result = validateFile(file('array.jsonl', text));
    assert.deepEqual(located(result.problems), ['1:json-array-in-jsonl', '3:identical-answers']);
    assert.equal(result.stats.records, 2);
  });

  it('reads JSON Lines saved as .json, says so at the second record, and checks them all', () => {
    const result = validateFile(file('lines.json', `${good}\n{"prompt":"q","chosen":"z","rejected":"z"}\n`));
    assert.deepEqual(located(result.problems), ['2:jsonl-in-json-file', '2:identical-answers']);
    assert.equal(result.stats.records, 2);
  });

  it('reports a top-level scalar in a .json file', () => {
    const result = validateText('\n  42\n', 'x.json');
    assert.deepEqual(result.problems.map((p) => `${p.line}:${p.column}:${p.code}`), ['2:3:not-an-array']);
  });

  it('reports top-level scalars, arrays and null as records that are not objects', () => {
    const result = validateText(['42', '"text"', 'null', '[1]', good].join('\n'), 'x.jsonl');
    assert.deepEqual(located(result.problems), ['1:not-an-object', '2:not-an-object', '3:not-an-object', '4:not-an-object']);
    assert.match(result.problems[1]!.message, /found a string/);
  });

  it('survives deep nesting', () => {
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    const result = validateText([`{"prompt":"p","chosen":"a","rejected":"b","meta":{"x":${deep}}}`, `{"prompt":${deep},"chosen":"a","rejected":"b"}`, '{"prompt":"q","chosen":"c","rejected":"d"}'].join('\n'), 'x.jsonl');
    assert.equal(result.stats.records, 3);
    assert.ok(result.problems.every((p) => p.line === 2), JSON.stringify(located(result.problems)));
    assert.ok(result.problems.length >= 1);
  });

  it('reports wrong types and missing fields with their JSON pointer and column', () => {
    const result = validateText(['{"prompt": 7, "chosen": "a", "rejected": "b"}', '{"prompt": "p", "chosen": "a"}', '{"prompt": [{"role": "user"}], "chosen": [], "rejected": [{"role": "assistant", "content": "x"}]}'].join('\n'), 'x.jsonl');
    assert.deepEqual(
      result.problems.map((p) => [p.line, p.column, p.code, p.pointer]),
      [
        [1, 12, 'schema-type', '/prompt'],
        [2, 1, 'schema-required', '/rejected'],
        [3, 13, 'schema-required', '/prompt/0/content'],
        [3, 42, 'schema-minItems', '/chosen'],
      ],
    );
    assert.equal(result.problems[1]!.message, 'missing required field "rejected"');
  });

  it('reports a record with none of the known fields', () => {
    const result = validateText('{"question": "q", "answer": "a"}\n', 'x.jsonl');
    assert.deepEqual(located(result.problems), ['1:unknown-format']);
    assert.match(result.problems[0]!.message, /found "question", "answer"/);
  });

  it('reports a missing comma between records of a .json array and checks the rest', () => {
    const result = validateText(`[\n${good}\n{"prompt":"q","chosen":"z","rejected":"z"}\n]`, 'x.json');
    assert.deepEqual(located(result.problems), ['3:invalid-json', '3:identical-answers']);
  });
});

describe('hostile input, located and bounded', () => {
  it('one NUL line is an error at that line; the records around it are still checked', () => {
    const text = `${good}\n${'\u0000'.repeat(4096)}\n{"prompt":"x","chosen":"y","rejected":"y"}\n`;
    for (const result of [validateFile(file('crashed.jsonl', text)), validateText(text, 'crashed.jsonl')]) {
      assert.deepEqual(located(result.problems), ['2:binary-line', '3:identical-answers']);
      assert.equal(result.stats.validRecords, 2);
    }
  });

  it('a UTF-16 file is named as such, with or without a byte order mark', () => {
    const utf16 = Buffer.from(`\ufeff${good}\n`, 'utf16le');
    assert.match(validateFile(file('bom.jsonl', utf16)).problems[0]!.message, /This file is UTF-16 LE \(it starts with a byte order mark\): save it as UTF-8/);
    assert.match(validateFile(file('nobom.jsonl', Buffer.from(`${good}\n`, 'utf16le'))).problems[0]!.message, /UTF-16 LE \(a zero byte beside every character\)/);
    assert.deepEqual(located(validateFile(file('bom.jsonl', utf16)).problems), ['1:utf16-file']);
  });

  it('a wrong type deep inside a 30,000-level nesting is located at its field, not at 1:1', () => {
    const deep = '['.repeat(30000) + ']'.repeat(30000);
    const result = validateText(`${good}\n{"prompt":"p","chosen":${deep},"rejected":"b"}\n`, 'x.jsonl');
    const problem = result.problems.find((p) => p.pointer === '/chosen')!;
    assert.equal(problem.line, 2);
    assert.equal(problem.column, '{"prompt":"p","chosen":'.length + 1);
  });

  it('warns about duplicate keys and lone surrogates, naming the field', () => {
    const result = validateText(
      ['{"prompt":"p","chosen":"shown","rejected":"b","chosen":"trained"}', '{"prompt":"q\\ud800","chosen":"a","rejected":"b"}', '{"prompt":[{"role":"user","role":"system","content":"x"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"c"}]}', '{"prompt":"has \\": inside","chosen":"a","rejected":"b"}'].join('\n'),
      'x.jsonl',
    );
    assert.deepEqual(
      result.problems.map((p) => `${p.line}:${p.column}:${p.code}:${p.pointer}`),
      ['1:47:duplicate-key:/chosen', '2:11:lone-surrogate:/prompt', '3:27:duplicate-key:/prompt/0/role'],
    );
    assert.match(result.problems[0]!.message, /"chosen" appears twice in this object/);
    const off = validateText('{"prompt":"p","chosen":"a","rejected":"b","chosen":"c"}', 'x.jsonl', lintOptions({ disabled: ['duplicate-key'] }));
    assert.equal(off.problems.length, 0);
  });
});

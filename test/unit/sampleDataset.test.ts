import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SAMPLE_ITEMS, type SampleItem } from '../../src/core/dataset/sampleContent.ts';
import {
  createSampleItems,
  createSampleJsonl,
  createSampleRecords,
  SAMPLE_FORMATS,
  type ConversationalSampleRecord,
  type InstructionSampleRecord,
  type SampleFormat,
  type StandardSampleRecord,
} from '../../src/core/dataset/sampleDataset.ts';

const DOMAINS = new Set(['coding', 'explanation', 'translation', 'safety', 'math', 'writing', 'summarization']);

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** The record without its id, which alone would make every record unique. */
function content(record: object): string {
  const { id: _id, ...rest } = record as { id: string };
  return JSON.stringify(rest);
}

function answerTexts(record: object, format: SampleFormat): { chosen: string; rejected: string } {
  if (format === 'conversational') {
    const r = record as ConversationalSampleRecord;
    return { chosen: r.chosen[0]!.content, rejected: r.rejected[0]!.content };
  }
  const r = record as StandardSampleRecord;
  return { chosen: r.chosen, rejected: r.rejected };
}

function dollars(cents: number): string {
  return cents % 100 === 0 ? `$${cents / 100}` : `$${(cents / 100).toFixed(2)}`;
}

/**
 * Recomputes a generated arithmetic item's result from its prompt alone, independently of the
 * generator, so a wrong formula there cannot pass by agreeing with itself.
 */
function solveGenerated(prompt: string): string | undefined {
  let m = /^\S+ buys (\d+) .+? at \$(\d+) each and (\d+) .+? at \$(\d+) each\./.exec(prompt);
  if (m) return `$${Number(m[1]) * Number(m[2]) + Number(m[3]) * Number(m[4])}`;
  m = /costs \$(\d+)\. It is on sale for (\d+)% off\./.exec(prompt);
  if (m) return dollars(Number(m[1]) * (100 - Number(m[2])));
  m = /travels (\d+) km at a constant speed of (\d+) km\/h\./.exec(prompt);
  if (m) {
    const minutes = (Number(m[1]) / Number(m[2])) * 60;
    const h = Math.floor(minutes / 60);
    const rest = minutes % 60;
    const hours = h === 1 ? '1 hour' : `${h} hours`;
    return rest === 0 ? hours : `${hours} ${rest} minutes`;
  }
  m = /^Calculate (\d+) × (\d+) and show your work\.$/.exec(prompt);
  if (m) return String(Number(m[1]) * Number(m[2]));
  m = /test scores are ([\d, ]+)\. What is the mean score\?$/.exec(prompt);
  if (m) {
    const scores = m[1]!.split(', ').map(Number);
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    return Number.isInteger(mean) ? String(mean) : mean.toFixed(1);
  }
  m = /is (\d+) m long and (\d+) m wide\./.exec(prompt);
  if (m) return `${2 * (Number(m[1]) + Number(m[2]))} m`;
  return undefined;
}

describe('createSampleRecords', () => {
  it('returns exactly the requested number of records, with sequential ids', () => {
    for (const format of SAMPLE_FORMATS) {
      for (const count of [0, 1, 50, 500]) {
        const records = createSampleRecords(count, format);
        assert.equal(records.length, count, `${format} × ${count}`);
        records.forEach((record, i) => assert.equal(record.id, `sample-${String(i + 1).padStart(4, '0')}`));
      }
    }
  });

  it('gives standard records a string prompt and a domain', () => {
    for (const record of createSampleRecords(300, 'standard') as StandardSampleRecord[]) {
      assert.deepEqual(Object.keys(record), ['id', 'prompt', 'chosen', 'rejected', 'meta']);
      assert.ok(isNonEmptyString(record.prompt));
      assert.ok(isNonEmptyString(record.chosen));
      assert.ok(isNonEmptyString(record.rejected));
      assert.deepEqual(Object.keys(record.meta), ['domain']);
      assert.ok(DOMAINS.has(record.meta.domain), record.meta.domain);
    }
  });

  it('gives instruction records an instruction and, only when there is one, an input', () => {
    const records = createSampleRecords(300, 'instruction') as InstructionSampleRecord[];
    for (const record of records) {
      assert.deepEqual(Object.keys(record), ['id', 'prompt', 'chosen', 'rejected', 'meta']);
      assert.ok(isNonEmptyString(record.prompt.instruction));
      if ('input' in record.prompt) assert.ok(isNonEmptyString(record.prompt.input));
      assert.ok(Object.keys(record.prompt).every((key) => key === 'instruction' || key === 'input'));
      assert.ok(isNonEmptyString(record.chosen));
      assert.ok(isNonEmptyString(record.rejected));
      assert.ok(DOMAINS.has(record.meta.domain));
    }
    assert.ok(records.some((r) => 'input' in r.prompt), 'some prompts have an input');
    assert.ok(records.some((r) => !('input' in r.prompt)), 'some prompts have none');
  });

  it('gives conversational records TRL-style chat turns', () => {
    const records = createSampleRecords(300, 'conversational') as ConversationalSampleRecord[];
    for (const record of records) {
      assert.deepEqual(Object.keys(record), ['id', 'prompt', 'chosen', 'rejected', 'meta']);
      assert.ok(record.prompt.length === 1 || record.prompt.length === 2);
      if (record.prompt.length === 2) assert.equal(record.prompt[0]!.role, 'system');
      assert.equal(record.prompt.at(-1)!.role, 'user');
      for (const turn of record.prompt) {
        assert.deepEqual(Object.keys(turn), ['role', 'content']);
        assert.ok(isNonEmptyString(turn.content));
      }
      for (const answer of [record.chosen, record.rejected]) {
        assert.equal(answer.length, 1);
        assert.deepEqual(answer[0], { role: 'assistant', content: answer[0]!.content });
        assert.ok(isNonEmptyString(answer[0]!.content));
      }
      assert.ok(DOMAINS.has(record.meta.domain));
    }
    assert.ok(records.some((r) => r.prompt.length === 2), 'some records carry a system message');
  });

  it('keeps the same prompt text across formats', () => {
    const standard = createSampleRecords(120, 'standard') as StandardSampleRecord[];
    const instruction = createSampleRecords(120, 'instruction') as InstructionSampleRecord[];
    const conversational = createSampleRecords(120, 'conversational') as ConversationalSampleRecord[];
    standard.forEach((record, i) => {
      const { instruction: text, input } = instruction[i]!.prompt;
      assert.equal(record.prompt, input === undefined ? text : `${text}\n\n${input}`);
      assert.equal(record.prompt, conversational[i]!.prompt.at(-1)!.content);
      assert.equal(record.chosen, instruction[i]!.chosen);
      assert.equal(record.chosen, conversational[i]!.chosen[0]!.content);
    });
  });

  it('never repeats a record or a prompt, even far beyond the bank', () => {
    for (const format of SAMPLE_FORMATS) {
      const records = createSampleRecords(500, format);
      assert.equal(new Set(records.map(content)).size, records.length, `${format}: duplicate record`);
      assert.equal(new Set(records.map((r) => JSON.stringify(r.prompt))).size, records.length, `${format}: duplicate prompt`);
    }
    const many = createSampleRecords(3000, 'standard', 7) as StandardSampleRecord[];
    assert.equal(new Set(many.map((r) => r.prompt)).size, many.length);
  });

  it('never makes chosen and rejected the same', () => {
    for (const format of SAMPLE_FORMATS) {
      for (const record of createSampleRecords(500, format)) {
        const { chosen, rejected } = answerTexts(record, format);
        assert.notEqual(chosen, rejected, record.id);
      }
    }
  });

  it('covers at least 5 domains in 50 records, and in a 10-record eval split', () => {
    for (const seed of [42, 1, 2024]) {
      const domains50 = new Set(createSampleRecords(50, 'standard', seed).map((r) => r.meta.domain));
      assert.ok(domains50.size >= 5, `seed ${seed}: ${[...domains50].join(', ')}`);
      const domains10 = new Set(createSampleRecords(10, 'standard', seed).map((r) => r.meta.domain));
      assert.ok(domains10.size >= 5, `seed ${seed}: ${[...domains10].join(', ')}`);
    }
  });

  it('is deterministic for a seed and differs for another seed', () => {
    for (const format of SAMPLE_FORMATS) {
      assert.deepEqual(createSampleRecords(200, format, 42), createSampleRecords(200, format, 42));
      assert.deepEqual(createSampleRecords(200, format), createSampleRecords(200, format, 42), 'default seed is 42');
      assert.notDeepEqual(createSampleRecords(200, format, 42), createSampleRecords(200, format, 43));
    }
  });

  it('extends a smaller sample when asked for more records with the same seed', () => {
    const small = createSampleRecords(60, 'standard', 5);
    const large = createSampleRecords(400, 'standard', 5);
    assert.deepEqual(large.slice(0, 60), small);
  });

  it('prefers the longer answer in 50-85% of 200 records, not always', () => {
    for (const seed of [42, 1, 99]) {
      for (const format of SAMPLE_FORMATS) {
        const records = createSampleRecords(200, format, seed);
        const longer = records.filter((record) => {
          const { chosen, rejected } = answerTexts(record, format);
          return chosen.length > rejected.length;
        }).length;
        const share = longer / records.length;
        assert.ok(share >= 0.5 && share <= 0.85, `seed ${seed}, ${format}: share ${share}`);
      }
    }
  });

  it('states the correct result in the chosen math answer and not in the rejected one', () => {
    let generated = 0;
    let banked = 0;
    for (const seed of [42, 3]) {
      const records = createSampleRecords(600, 'instruction', seed) as InstructionSampleRecord[];
      for (const record of records.filter((r) => r.meta.domain === 'math')) {
        const prompt = record.prompt.instruction;
        let answer = solveGenerated(prompt);
        if (answer !== undefined) {
          generated++;
        } else {
          const base = SAMPLE_ITEMS.find((item) => item.domain === 'math' && prompt.endsWith(item.instruction));
          assert.ok(base?.answer, `no known answer for: ${prompt}`);
          answer = base.answer;
          banked++;
        }
        assert.ok(record.chosen.includes(`**${answer}**`), `chosen misses ${answer}: ${prompt}\n${record.chosen}`);
        assert.ok(!record.rejected.includes(`**${answer}**`), `rejected states ${answer}: ${prompt}\n${record.rejected}`);
      }
    }
    assert.ok(generated > 50, `only ${generated} generated math items`);
    assert.ok(banked > 0);
  });

  it('rejects a bad count, seed or format', () => {
    assert.throws(() => createSampleRecords(-1), RangeError);
    assert.throws(() => createSampleRecords(2.5), RangeError);
    assert.throws(() => createSampleRecords(Number.NaN), RangeError);
    assert.throws(() => createSampleRecords(3, 'standard', Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => createSampleRecords(3, 'chat' as SampleFormat), RangeError);
  });
});

describe('createSampleJsonl', () => {
  it('writes one record per line with a trailing newline', () => {
    for (const format of SAMPLE_FORMATS) {
      const text = createSampleJsonl(25, format, 11);
      assert.ok(text.endsWith('}\n'));
      assert.ok(!text.includes('\r'));
      const lines = text.split('\n');
      assert.equal(lines.pop(), '');
      assert.equal(lines.length, 25);
      assert.deepEqual(lines.map((line) => JSON.parse(line)), createSampleRecords(25, format, 11));
    }
  });

  it('writes nothing for zero records', () => {
    assert.equal(createSampleJsonl(0, 'standard', 42), '');
  });
});

describe('sample content bank', () => {
  const promptOf = (item: SampleItem) => `${item.instruction}\n\n${item.input ?? ''}`;

  it('holds at least 40 distinct prompts across all domains', () => {
    assert.ok(SAMPLE_ITEMS.length >= 40);
    assert.equal(new Set(SAMPLE_ITEMS.map(promptOf)).size, SAMPLE_ITEMS.length);
    assert.deepEqual(new Set(SAMPLE_ITEMS.map((item) => item.domain)), DOMAINS);
    assert.ok(SAMPLE_ITEMS.filter((item) => item.input !== undefined).length >= 5);
  });

  it('prefers the shorter answer in 25-35% of items', () => {
    const shorter = SAMPLE_ITEMS.filter((item) => item.chosen.length < item.rejected.length).length;
    const share = shorter / SAMPLE_ITEMS.length;
    assert.ok(share >= 0.25 && share <= 0.35, `share ${share}`);
  });

  it('has no leftover source indentation or blank edges in its texts', () => {
    for (const item of SAMPLE_ITEMS) {
      for (const text of [item.instruction, item.input, item.chosen, item.rejected, item.system]) {
        if (text === undefined) continue;
        assert.equal(text, text.trim(), text);
        const indents = text.split('\n').filter((line) => line.trim() !== '').map((line) => line.length - line.trimStart().length);
        assert.equal(Math.min(...indents), 0, `indented text: ${text.slice(0, 60)}`);
      }
    }
  });

  it('gives every math item an answer that only chosen states', () => {
    for (const item of SAMPLE_ITEMS.filter((i) => i.domain === 'math')) {
      assert.ok(item.answer, item.instruction);
      assert.ok(item.chosen.includes(`**${item.answer}**`), item.instruction);
      assert.ok(!item.rejected.includes(`**${item.answer}**`), item.instruction);
    }
  });

  it('is what createSampleItems starts from', () => {
    const items = createSampleItems(SAMPLE_ITEMS.length, 42);
    assert.equal(new Set(items).size, SAMPLE_ITEMS.length);
    assert.ok(items.every((item) => SAMPLE_ITEMS.includes(item)), 'the first pass uses the bank as written');
  });
});

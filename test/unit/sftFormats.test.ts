import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateText } from '../../src/core/dataset/validateText.ts';
import type { NormalizedSft } from '../../src/core/dataset/types.ts';

const jsonl = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const user = (content: string) => ({ role: 'user', content });
const assistant = (content: string) => ({ role: 'assistant', content });

function problemsOf(text: string, fileName = 'sft.jsonl') {
  return validateText(text, fileName).problems.map((p) => ({ line: p.line, column: p.column, code: p.code, pointer: p.pointer, message: p.message }));
}

describe('SFT formats', () => {
  it("reads the guide's instruction/input/output records as SFT data", () => {
    const result = validateText(jsonl({ instruction: '다음 문장을 번역하세요.', input: 'Hello, world!', output: '안녕하세요, 세계!' }, { instruction: 'Name a prime.', output: '7' }), 'train.jsonl');
    assert.equal(result.format, 'alpaca');
    assert.equal(result.stage, 'sft');
    assert.deepEqual(result.problems, []);
    const first = result.records[0]!.analysis.normalized as NormalizedSft;
    assert.equal(first.kind, 'sft');
    assert.equal(first.promptText, '다음 문장을 번역하세요.\n\nHello, world!');
    assert.equal(first.completionText, '안녕하세요, 세계!');
    assert.equal(result.stats.sftRecords, 2);
  });

  it("reads TRL's prompt/completion records, as text and as chat turns", () => {
    const text = jsonl({ prompt: 'The sky is', completion: ' blue.' }, { prompt: [{ role: 'system', content: 'Be brief.' }, user('Capital of France?')], completion: [assistant('Paris.')] });
    const result = validateText(text, 'train.jsonl');
    assert.equal(result.format, 'prompt-completion');
    assert.deepEqual(result.problems, []);
    const chat = result.records[1]!.analysis.normalized as NormalizedSft;
    assert.equal(chat.completionText, 'Paris.');
    assert.equal(chat.messages?.length, 3);
  });

  it('reads conversations with system turns, and plain text for language modeling', () => {
    const messages = validateText(jsonl({ messages: [{ role: 'system', content: 'You are terse.' }, user('2+2?'), assistant('4'), user('and 3+3?'), assistant('6')] }), 'chat.jsonl');
    assert.equal(messages.format, 'messages');
    assert.equal(messages.stage, 'sft');
    assert.deepEqual(messages.problems, []);
    assert.equal((messages.records[0]!.analysis.normalized as NormalizedSft).completionText, '6');
    const plain = validateText(jsonl({ text: 'Once upon a time there was a tokenizer.' }), 'corpus.json'.replace('.json', '.jsonl'));
    assert.equal(plain.format, 'text');
    assert.deepEqual(plain.problems, []);
  });

  it('reads a JSON array of SFT records as it reads one of pairs', () => {
    const result = validateText(JSON.stringify([{ instruction: 'a', output: 'b' }, { instruction: 'c', output: 'd' }], null, 2), 'train.json');
    assert.equal(result.format, 'alpaca');
    assert.equal(result.records.length, 2);
    assert.equal(result.records[1]!.span.line, 6);
  });

  it('says which stage a file is for: pairs train DPO, candidates are labelled, both kinds mixed is named', () => {
    assert.equal(validateText(jsonl({ prompt: 'p', chosen: 'a', rejected: 'b' }), 'd.jsonl').stage, 'dpo');
    assert.equal(validateText(jsonl({ prompt: 'p', candidates: ['a', 'b'] }), 'd.jsonl').stage, 'labeling');
    assert.equal(validateText(jsonl({ prompt: 'p', chosen: 'a', rejected: 'b' }, { instruction: 'i', output: 'o' }), 'd.jsonl').stage, 'mixed');
  });

  it('locates each malformed variant at its line and field', () => {
    const text = jsonl(
      { instruction: 'Translate.', input: 'Hi' }, // 1: no output
      { instruction: 3, output: 'x' }, // 2: instruction not a string
      { prompt: 'The sky is', completion: 7 }, // 3: completion neither text nor turns
      { prompt: [user('Hi')], completion: 'Hello' }, // 4: turns and text mixed
      { messages: [{ role: 'narrator', content: 'x' }] }, // 5: unknown role
      { messages: [] }, // 6: no turns
      { text: ['not', 'a', 'string'] }, // 7
      { output: 'an answer to nothing' }, // 8: no instruction
    );
    const problems = problemsOf(text);
    const at = (line: number) => problems.filter((p) => p.line === line);
    assert.deepEqual(at(1).map((p) => [p.code, p.pointer]), [['schema-required', '/output']]);
    assert.match(at(1)[0]!.message, /missing required field "output"/);
    assert.deepEqual(at(2).map((p) => [p.code, p.pointer]), [['schema-type', '/instruction']]);
    assert.equal(at(2)[0]!.column, 16);
    assert.deepEqual(at(3).map((p) => [p.code, p.pointer, p.message]), [['schema-type', '/completion', '"completion" must be a string']]);
    assert.deepEqual(at(4).map((p) => [p.code, p.pointer]), [['mixed-prompt-completion', '/completion']]);
    assert.match(at(4)[0]!.message, /must be a list of chat messages, like "prompt"/);
    assert.deepEqual(at(5).map((p) => [p.code, p.pointer]), [['schema-enum', '/messages/0/role']]);
    assert.deepEqual(at(6).map((p) => [p.code, p.pointer]), [['schema-minItems', '/messages']]);
    assert.deepEqual(at(7).map((p) => [p.code, p.pointer]), [['schema-type', '/text']]);
    assert.deepEqual(at(8).map((p) => [p.code, p.pointer]), [['schema-required', '/instruction']]);
    assert.ok(problems.every((p) => p.line <= 8));
  });

  it('a record of no known shape names the SFT keys too', () => {
    const [problem] = problemsOf(jsonl({ question: 'q', answer: 'a' }));
    assert.equal(problem!.code, 'unknown-format');
    assert.match(problem!.message, /"instruction"\/"input"\/"output", "prompt"\/"completion", "messages" or "text" for SFT/);
  });
});

describe('SFT lints', () => {
  it('warns about an empty output, duplicates, over-long texts and a conversation not ending with the assistant', () => {
    const long = 'x'.repeat(20001);
    const text = jsonl(
      { instruction: 'Say hi.', output: '   ' }, // 1 empty output
      { instruction: 'Name a prime.', output: '7' }, // 2
      { instruction: 'Name a prime.', output: '7' }, // 3 duplicate of 2
      { instruction: 'Name a prime.', output: '11' }, // 4 same prompt, other answer: fine
      { text: long }, // 5 over-long
      { messages: [user('Hi'), assistant('Hello'), user('Bye')] }, // 6 ends with the user
      { messages: [{ role: 'system', content: 's' }, user('Hi')] }, // 7 no assistant at all
    );
    const problems = problemsOf(text);
    assert.deepEqual(
      problems.map((p) => [p.line, p.code, p.pointer]),
      [
        [1, 'empty-text', '/output'],
        [3, 'duplicate-record', ''],
        [5, 'text-too-long', '/text'],
        [6, 'no-final-assistant-turn', '/messages/2'],
        [7, 'no-final-assistant-turn', '/messages/1'],
      ],
    );
    assert.match(problems[1]!.message, /Duplicate of record 2 \(line 2\)/);
    assert.match(problems[3]!.message, /ends with a "user" turn/);
    assert.match(problems[4]!.message, /no assistant turn/);
  });

  it('does not call two conversations duplicates when only an earlier turn differs', () => {
    const text = jsonl({ messages: [user('A'), assistant('ok')] }, { messages: [user('B'), assistant('ok')] }, { messages: [user('A'), assistant('ok')] });
    assert.deepEqual(problemsOf(text).map((p) => [p.line, p.code]), [[3, 'duplicate-record']]);
  });
});

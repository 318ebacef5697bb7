import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateText } from '../../src/core/dataset/validateText.ts';
import { retryAfterMs, retryDelayMs } from '../../src/core/generation/backoff.ts';
import { CandidatesFileError, CandidatesWriter } from '../../src/core/generation/candidatesFile.ts';
import { buildCandidatesRecord } from '../../src/core/generation/candidatesRecord.ts';
import { readPromptFile } from '../../src/core/generation/promptFile.ts';
import { promptKey } from '../../src/core/generation/promptKey.ts';
import { parseProviderSpec } from '../../src/core/generation/providerSpec.ts';
import { apiRoot, endpointUrl } from '../../src/core/generation/providers/openaiCompatible.ts';
import { formatDuration } from '../../src/core/generation/runner.ts';
import { candidateTemperatures, parseTemperatureSpread } from '../../src/core/generation/temperatures.ts';

const dir = mkdtempSync(join(tmpdir(), 'dpo-generation-core-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('reading prompts', () => {
  it('reads string, instruction and chat prompts from JSON Lines, with their lines and ids', () => {
    const text = [
      '{"id": "a", "prompt": "Explain DPO."}',
      '',
      '{"prompt": {"instruction": "Translate.", "input": "Hello"}}',
      '{"id": 7, "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}',
    ].join('\r\n');
    const file = readPromptFile(text, 'prompts.jsonl');
    assert.equal(file.kind, 'records');
    assert.deepEqual(file.issues, []);
    assert.deepEqual(
      file.items.map((i) => [i.line, i.id, i.prompt]),
      [
        [1, 'a', 'Explain DPO.'],
        [3, undefined, { instruction: 'Translate.', input: 'Hello' }],
        [4, 7, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]],
      ],
    );
  });

  it('takes the prompts of preference pairs (explicit and implicit) and of candidates files, once each', () => {
    const text = JSON.stringify([
      { prompt: 'Q1', chosen: 'a', rejected: 'b' },
      { prompt: 'Q1', chosen: 'c', rejected: 'd' },
      { chosen: '\n\nHuman: Hi?\n\nAssistant: Hello!', rejected: '\n\nHuman: Hi?\n\nAssistant: Go away.' },
      { chosen: [{ role: 'user', content: 'Name a color.' }, { role: 'assistant', content: 'Blue' }], rejected: [{ role: 'user', content: 'Name a color.' }, { role: 'assistant', content: '7' }] },
      { prompt: 'Q2', candidates: ['x', 'y'] },
      { instruction: 'Sum 2 and 3.', input: '', output: '5' },
      { messages: [{ role: 'user', content: 'Ping' }, { role: 'assistant', content: 'Pong' }] },
    ]);
    const file = readPromptFile(text, 'data.json');
    assert.deepEqual(file.issues, []);
    assert.deepEqual(file.items.map((i) => i.prompt), [
      'Q1',
      '\n\nHuman: Hi?\n\nAssistant:',
      [{ role: 'user', content: 'Name a color.' }],
      'Q2',
      { instruction: 'Sum 2 and 3.' },
      [{ role: 'user', content: 'Ping' }],
    ]);
    assert.deepEqual(file.duplicates, [{ line: 1, firstLine: 1 }], 'a JSON array on one line: both records are on line 1');
  });

  it('reports records without a usable prompt by line, and reads the rest', () => {
    const text = ['{"prompt": "ok"}', 'not json', '{"prompt": ""}', '{"prompt": 5}', '{"text": "no prompt"}', '[1]', '{"prompt": {"input": "x"}}'].join('\n');
    const file = readPromptFile(text, 'p.jsonl');
    assert.equal(file.items.length, 1);
    assert.deepEqual(file.issues.map((i) => i.line), [2, 3, 4, 5, 6, 7]);
    assert.match(file.issues[0]!.message, /Not valid JSON/);
    assert.match(file.issues[1]!.message, /"prompt" is empty/);
    assert.match(file.issues[2]!.message, /must be a string, an \{"instruction", "input"\} object or a list/);
    assert.match(file.issues[3]!.message, /expected a "prompt" field/);
  });

  it('reads plain text one prompt per line, whatever the extension says when the content is not JSON', () => {
    const text = '\uFEFFWrite a haiku.\n\n  What is 2+2?  \r\n[draft] Summarize this.\nWrite a haiku.\n';
    for (const name of ['prompts.txt', 'prompts']) {
      const file = readPromptFile(text, name);
      assert.equal(file.kind, 'lines');
      assert.deepEqual(file.items.map((i) => [i.line, i.prompt]), [[1, 'Write a haiku.'], [3, 'What is 2+2?'], [4, '[draft] Summarize this.']]);
      assert.deepEqual(file.duplicates, [{ line: 5, firstLine: 1 }]);
    }
    // A JSON Lines file without a telling extension is still read as records.
    assert.equal(readPromptFile('{"prompt": "a"}\n{"prompt": "b"}\n', 'prompts').kind, 'records');
  });

  it('keys a prompt by what the model sees: the same in any file, different for different prompts', () => {
    assert.equal(promptKey({ input: 'x', instruction: 'Do' } as never), promptKey({ instruction: 'Do', input: 'x' }));
    assert.equal(promptKey([{ role: 'user', content: 'Hi', name: 'kim' } as never]), promptKey([{ role: 'user', content: 'Hi' }]));
    assert.notEqual(promptKey('Hi'), promptKey([{ role: 'user', content: 'Hi' }]));
    assert.notEqual(promptKey('Hi'), promptKey('Hi '));
    assert.match(promptKey('Hi'), /^[0-9a-f]{16}$/);
  });
});

describe('temperatures', () => {
  it('spreads evenly from low to high, both included; one candidate gets the middle', () => {
    assert.deepEqual(candidateTemperatures(4, 0.7, [0.3, 1.2]), [0.3, 0.6, 0.9, 1.2]);
    assert.deepEqual(candidateTemperatures(1, 0.7, [0.2, 1]), [0.6]);
    assert.deepEqual(candidateTemperatures(3, 0.7), [0.7, 0.7, 0.7]);
  });

  it('parses "low,high" in either order and refuses anything else', () => {
    assert.deepEqual(parseTemperatureSpread('1.2, 0.3'), [0.3, 1.2]);
    for (const bad of ['0.5', '0.1,x', '-1,1', '0.1,0.2,0.3', ',1']) assert.throws(() => parseTemperatureSpread(bad), /two temperatures/);
  });
});

describe('candidates records', () => {
  it('drops answers identical but for surrounding whitespace, keeps order and meta, and validates clean', () => {
    const item = { key: promptKey('Q'), prompt: 'Q', line: 3, id: 'q1' };
    const { record, dropped } = buildCandidatesRecord(
      item,
      [
        { text: 'Yes.', meta: { model: 'a' } },
        { text: ' Yes.\n', meta: { model: 'b' } },
        { text: 'No.', meta: { model: 'c' } },
      ],
      'prompts.jsonl',
    );
    assert.equal(dropped, 1);
    assert.deepEqual(record, { id: 'q1', prompt: 'Q', candidates: [{ text: 'Yes.', meta: { model: 'a' } }, { text: 'No.', meta: { model: 'c' } }], meta: { source: 'prompts.jsonl:3', duplicates_dropped: 1 } });
    const result = validateText(JSON.stringify(record) + '\n', 'out.candidates.jsonl');
    assert.equal(result.errorCount, 0);
    assert.equal(result.warningCount, 0);
  });
});

describe('the candidates output file', () => {
  const record = (prompt: string) => ({ prompt, candidates: [{ text: `${prompt}-1`, meta: {} }, { text: `${prompt}-2`, meta: {} }] });

  it('appends record by record and resumes with the prompts it already answers', async () => {
    const path = join(dir, 'out', 'a.candidates.jsonl');
    const first = CandidatesWriter.open(path);
    assert.equal(first.resume.records, 0);
    first.writer.append(record('one'));
    // Each record is on disk as soon as append returns, before the writer is closed.
    assert.equal(readFileSync(path, 'utf8'), JSON.stringify(record('one')) + '\n');
    first.writer.append(record('two'));
    await first.writer.close();
    const again = CandidatesWriter.open(path);
    assert.deepEqual([...again.resume.doneKeys].sort(), [promptKey('one'), promptKey('two')].sort());
    assert.equal(again.resume.records, 2);
    await again.writer.close();
  });

  it('cuts off a half-written last line (a crash mid-write) and appends after the last whole record', async () => {
    const path = join(dir, 'crashed.jsonl');
    writeFileSync(path, JSON.stringify(record('one')) + '\n' + JSON.stringify(record('two')).slice(0, 25));
    const { writer, resume } = CandidatesWriter.open(path);
    assert.deepEqual(resume.cutTail, { line: 2, bytes: 25 });
    assert.deepEqual([...resume.doneKeys], [promptKey('one')]);
    writer.append(record('two'));
    await writer.close();
    assert.equal(readFileSync(path, 'utf8'), [record('one'), record('two')].map((r) => JSON.stringify(r) + '\n').join(''));
  });

  it('keeps a whole last record saved without a line end', async () => {
    const path = join(dir, 'edited.jsonl');
    writeFileSync(path, JSON.stringify(record('one')));
    const { writer, resume } = CandidatesWriter.open(path);
    assert.equal(resume.cutTail, undefined);
    writer.append(record('two'));
    await writer.close();
    assert.equal(readFileSync(path, 'utf8'), JSON.stringify(record('one')) + '\n' + JSON.stringify(record('two')) + '\n');
    // `fresh` starts over.
    const fresh = CandidatesWriter.open(path, { fresh: true });
    assert.equal(fresh.resume.records, 0);
    fresh.writer.append(record('three'));
    await fresh.writer.close();
    assert.equal(readFileSync(path, 'utf8'), JSON.stringify(record('three')) + '\n');
  });

  it('never repairs, resumes or empties a file it did not write: notes, a pairs dataset, the prompts file itself', async () => {
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'first thought\nlast thought');
    const pairs = join(dir, 'pairs.jsonl');
    writeFileSync(pairs, JSON.stringify({ prompt: 'p', chosen: 'a', rejected: 'b' }) + '\n');
    const oneLine = join(dir, 'one-line.txt');
    writeFileSync(oneLine, 'just this, no line end');
    for (const path of [notes, pairs, oneLine]) {
      const before = readFileSync(path, 'utf8');
      for (const fresh of [false, true]) assert.throws(() => CandidatesWriter.open(path, { fresh }), (e: Error) => e instanceof CandidatesFileError && /is not a candidates file \(line \d+ /.test(e.message), path);
      assert.equal(readFileSync(path, 'utf8'), before, `${path} is untouched`);
    }
    const own = join(dir, 'own.candidates.jsonl');
    writeFileSync(own, JSON.stringify(record('one')) + '\n');
    assert.throws(() => CandidatesWriter.open(own, { inputPath: own }), /is the prompts file itself/);
    assert.throws(() => CandidatesWriter.open(dir), /is a folder/);
  });

  it('a run that writes nothing leaves no file it created, and two writers never share a file', async () => {
    const path = join(dir, 'never.candidates.jsonl');
    const first = CandidatesWriter.open(path);
    assert.throws(() => CandidatesWriter.open(path), /is in use by dpo-studio generate \(pid \d+/);
    await first.writer.close();
    assert.equal(existsSync(path), false);
    // An existing file is kept even when nothing is added.
    writeFileSync(path, '');
    await CandidatesWriter.open(path).writer.close();
    assert.equal(existsSync(path), true);
  });
});

describe('HTTP details', () => {
  it('finds the endpoint whatever form of base URL is pasted', () => {
    assert.equal(endpointUrl('http://127.0.0.1:8000/v1'), 'http://127.0.0.1:8000/v1/chat/completions');
    assert.equal(endpointUrl('http://localhost:11434'), 'http://localhost:11434/v1/chat/completions');
    assert.equal(endpointUrl('https://api.openai.com/v1/', 'completions'), 'https://api.openai.com/v1/completions');
    assert.equal(endpointUrl('http://h:1/v1/chat/completions'), 'http://h:1/v1/chat/completions');
    assert.equal(apiRoot('http://h:1/openai/v1/models'), 'http://h:1/openai/v1');
    assert.throws(() => apiRoot('localhost:8000'), /not an http\(s\) URL|not a URL/);
  });

  it('reads Retry-After as seconds, as an HTTP date and as retry-after-ms', () => {
    const h = (values: Record<string, string>) => ({ get: (name: string) => values[name] ?? null });
    assert.equal(retryAfterMs(h({ 'retry-after': '3' })), 3000);
    assert.equal(retryAfterMs(h({ 'retry-after': 'Wed, 21 Oct 2015 07:28:10 GMT' }), Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000);
    assert.equal(retryAfterMs(h({ 'retry-after-ms': '250', 'retry-after': '9' })), 250);
    assert.equal(retryAfterMs(h({ 'retry-after': 'soon' })), undefined);
    assert.equal(retryAfterMs(h({})), undefined);
  });

  it('backs off exponentially with jitter, capped, unless the server said when', () => {
    assert.equal(retryDelayMs(0, { initialMs: 100 }, undefined, () => 1), 100);
    assert.equal(retryDelayMs(3, { initialMs: 100 }, undefined, () => 1), 800);
    assert.equal(retryDelayMs(3, { initialMs: 100 }, undefined, () => 0), 400);
    assert.equal(retryDelayMs(20, { initialMs: 100, maxMs: 5000 }, undefined, () => 1), 5000);
    assert.equal(retryDelayMs(0, { initialMs: 100 }, 7000), 7000);
    assert.equal(retryDelayMs(0, { maxRetryAfterMs: 60_000 }, 3_600_000), 60_000);
  });

  it('formats durations for progress lines', () => {
    assert.equal(formatDuration(12_400), '12 s');
    assert.equal(formatDuration(185_000), '3 min 05 s');
    assert.equal(formatDuration(3_720_000), '1 h 02 min');
  });
});

describe('provider specs (--compare)', () => {
  const base = { kind: 'local' as const, model: 'models/tiny' };
  it('inherits what it does not say from the first provider', () => {
    assert.deepEqual(parseProviderSpec('adapter=runs/r1/final', base), { kind: 'local', model: 'models/tiny', adapter: 'runs/r1/final' });
    assert.deepEqual(parseProviderSpec('provider=openai,base-url=http://127.0.0.1:8000/v1,model=qwen', base), { kind: 'openai', baseUrl: 'http://127.0.0.1:8000/v1', model: 'qwen', api: 'chat' });
    assert.deepEqual(parseProviderSpec('model=models/other', { kind: 'local', model: 'models/tiny', adapter: 'a' }), { kind: 'local', model: 'models/other', adapter: 'a' });
    assert.deepEqual(parseProviderSpec('adapter=none', { kind: 'local', model: 'm', adapter: 'a' }), { kind: 'local', model: 'm' });
  });
  it('refuses unknown keys, a key value and a spec without a model', () => {
    assert.throws(() => parseProviderSpec('colour=red', base), /unknown key "colour"/);
    assert.throws(() => parseProviderSpec('api-key=sk-123', base), /never on the command line/);
    assert.throws(() => parseProviderSpec('provider=openai', base), /needs base-url/);
    assert.throws(() => parseProviderSpec('adapter', base), /key=value/);
  });
});

// Generation with a real local model (init-model's tiny Llama, random weights) in process, in
// its worker process, and through `dpo-studio generate`; the CLI against the loopback TEST
// DOUBLE of the OpenAI protocol (test/support/openaiTestDouble.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { runCli } from '../../src/cli/main.ts';
import { validateText } from '../../src/core/dataset/validateText.ts';
import { ProviderError } from '../../src/core/generation/types.ts';
import { LocalProcessProvider } from '../../src/generation/localProcessProvider.ts';
import { LocalProvider } from '../../src/generation/localProvider.ts';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { saveAdapter } from '../../src/trainer/model/adapterFolder.ts';
import { disposeModel } from '../../src/trainer/model/causalLM.ts';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { createLoraAdapter, defaultLoraConfig } from '../../src/trainer/model/lora.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';
import { OpenAITestDouble } from '../support/openaiTestDouble.ts';

const dir = mkdtempSync(join(tmpdir(), 'dpo-generation-local-'));
const model = join(dir, 'tiny-llama');
const adapter = join(dir, 'adapter');
const promptsFile = join(dir, 'prompts.jsonl');
const CLI = resolve('dist/cli.cjs');
const never = new AbortController().signal;

type Json = Record<string, any>;
const records = (path: string): Json[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Json);

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['generate', ...args], { out: { write: (t: string) => (stdout += t) }, err: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

before(async () => {
  await initBackend('cpu');
  initModel(model, { arch: 'llama', size: 'tiny', seed: 5, configOverrides: { initializer_range: 0.3 } });
  // An adapter that really changes the model: LoRA starts with B = 0 (no change), so B is drawn at random.
  const m = loadModel(model);
  const lora = createLoraAdapter(m, defaultLoraConfig(), 1);
  for (const layer of lora.layers.values()) layer.b.assign(tf.randomNormal(layer.b.shape, 0, 0.5, 'float32', 7));
  saveAdapter(adapter, lora);
  disposeModel(m);
  writeFileSync(
    promptsFile,
    ['{"id": "p1", "prompt": "Write a haiku about rain."}', '{"prompt": {"instruction": "Translate to French.", "input": "Good morning"}}', '{"prompt": [{"role": "user", "content": "Name a color."}]}'].join('\n') + '\n',
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('local model provider', () => {
  let provider: LocalProvider;
  before(async () => {
    provider = await LocalProvider.load({ modelDir: model, backend: 'cpu' });
  });
  after(() => provider.dispose());

  it('answers N different candidates in one batch, the same ones again for the same seed', async () => {
    const request = { prompt: 'Write a haiku about rain.', n: 3, settings: { temperature: 1, maxTokens: 8 }, seed: 11 };
    const answers = await provider.complete(request, never);
    assert.equal(answers.length, 3);
    assert.equal(new Set(answers.map((a) => a.text)).size, 3, 'each row samples from its own stream');
    assert.ok(answers.every((a) => a.completionTokens! <= 8 && a.promptTokens! > 0 && (a.finishReason === 'length' || a.finishReason === 'stop')));
    assert.deepEqual(await provider.complete(request, never), answers);
    assert.notDeepEqual(await provider.complete({ ...request, seed: 12 }, never), answers);
  });

  it('renders prompts with the chat template, the system prompt included', async () => {
    assert.equal(provider.supportsSystemPrompt, true);
    const plain = await provider.complete({ prompt: 'Hi', n: 1, settings: { temperature: 0, maxTokens: 2 }, seed: 0 }, never);
    const withSystem = await provider.complete({ prompt: 'Hi', n: 1, settings: { temperature: 0, maxTokens: 2, system: 'Be brief.' }, seed: 0 }, never);
    // "<|im_start|>system\nBe brief.<|im_end|>\n" adds tokens in front of the same user turn.
    assert.ok(withSystem[0]!.promptTokens! > plain[0]!.promptTokens! + 3);
  });

  it('a model folder that cannot load is a fatal error naming it', async () => {
    await assert.rejects(LocalProvider.load({ modelDir: join(dir, 'missing'), backend: 'cpu' }), (e: unknown) => e instanceof ProviderError && e.fatal && /cannot load the local model: .*missing has no tokenizer\.json/.test(e.message));
  });
});

describe('local model worker process (what the extension runs)', () => {
  before(() => assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build`));

  it('loads once, answers requests, and is ended by cancel', async () => {
    const worker = await LocalProcessProvider.start({ command: process.execPath, cliArgs: [CLI], modelDir: model, modelLabel: 'models/tiny-llama', adapterDir: adapter, adapterLabel: 'runs/adapter', backend: 'cpu' });
    assert.deepEqual(worker.identity, { provider: 'local', model: 'models/tiny-llama', adapter: 'runs/adapter' });
    assert.equal(worker.ready.architecture, 'LlamaForCausalLM');
    assert.equal(worker.supportsSystemPrompt, true);
    const answers = await worker.complete({ prompt: 'Hi', n: 2, settings: { temperature: 1, maxTokens: 4 }, seed: 3 }, never);
    assert.equal(answers.length, 2);
    const cancel = new AbortController();
    const long = worker.complete({ prompt: 'Hi', n: 4, settings: { temperature: 1, maxTokens: 400 }, seed: 3 }, cancel.signal);
    setTimeout(() => cancel.abort(new Error('cancelled by the user')), 50);
    await assert.rejects(long, /cancelled by the user/);
    await assert.rejects(worker.complete({ prompt: 'Hi', n: 1, settings: { temperature: 1, maxTokens: 4 }, seed: 3 }, never), /the local model process was stopped/);
    await worker.dispose();
  });

  it('a model that cannot load fails the start with the reason', async () => {
    await assert.rejects(LocalProcessProvider.start({ command: process.execPath, cliArgs: [CLI], modelDir: join(dir, 'nope'), modelLabel: 'nope', backend: 'cpu' }), /cannot load the local model: .*nope has no tokenizer\.json/);
  });
});

describe('dpo-studio generate', () => {
  it('answers every prompt with the local model, resumes, and compares with an adapter in one file', async () => {
    const out = join(dir, 'out', 'local.candidates.jsonl');
    const first = await cli('--prompts', promptsFile, '--out', out, '--model', model, '--n', '2', '--max-tokens', '6', '--temperature-spread', '0.7,1.3', '--backend', 'cpu');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^Wrote 3 records \(\d candidates(, \d identical dropped)?\) to .*local\.candidates\.jsonl in \d+ s\n$/);
    const written = records(out);
    assert.deepEqual(written.map((r) => r.id ?? null), ['p1', null, null]);
    assert.deepEqual(written[0]!.candidates.map((c: Json) => [c.meta.provider, c.meta.model, c.meta.temperature, c.meta.max_tokens]), [['local', model, 0.7, 6], ['local', model, 1.3, 6]]);
    assert.equal(validateText(readFileSync(out, 'utf8'), out).errorCount, 0);

    const again = await cli('--prompts', promptsFile, '--out', out, '--model', model, '--backend', 'cpu');
    assert.equal(again.code, 0);
    assert.match(again.stdout, /Nothing to do: all 3 prompts of .* are already answered/);

    const compared = join(dir, 'out', 'compare.candidates.jsonl');
    const compare = await cli('--prompts', promptsFile, '--out', compared, '--model', model, '--n', '2', '--max-tokens', '6', '--temperature', '1', '--compare', `adapter=${adapter}`, '--backend', 'cpu');
    assert.equal(compare.code, 0, compare.stderr);
    for (const record of records(compared)) {
      const sources = record.candidates.map((c: Json) => c.meta.adapter ?? 'reference');
      assert.deepEqual(sources, ['reference', 'reference', adapter, adapter], 'the same seeds, but the adapter changes the answers');
    }
  });

  it('asks an OpenAI-compatible server, with the key from the environment variable it names', async () => {
    const server = await OpenAITestDouble.start({ apiKey: 'sk-test', delayMs: 5 });
    try {
      process.env.DPO_TEST_KEY = 'sk-test';
      const out = join(dir, 'http.candidates.jsonl');
      const ok = await cli('--prompts', promptsFile, '--out', out, '--base-url', server.baseUrl, '--model', 'test-model', '--api-key-env', 'DPO_TEST_KEY', '--n', '3', '--system', 'Be brief.');
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(records(out).length, 3);
      assert.deepEqual(server.completionRequests.map((r) => r.body?.n), [3, 3, 3]);

      const refused = await cli('--prompts', promptsFile, '--out', join(dir, 'refused.jsonl'), '--base-url', server.baseUrl, '--model', 'test-model', '--api-key-env', 'DPO_TEST_UNSET');
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /401 Unauthorized from POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions \(model "test-model"\): the server refused the request without an API key \(\$DPO_TEST_UNSET is not set: export the key there, or name another variable with --api-key-env\)/);

      server.script({ status: 500 }, { status: 500 });
      const failing = await cli('--prompts', promptsFile, '--out', join(dir, 'failing.jsonl'), '--base-url', server.baseUrl, '--model', 'test-model', '--api-key-env', 'DPO_TEST_KEY', '--retries', '1', '--concurrency', '1');
      assert.equal(failing.code, 1);
      assert.match(failing.stderr, /prompts\.jsonl:1: failed: POST .* 500 .*gave up after 2 attempts/);
      assert.match(failing.stdout, /Wrote 2 records .*; 1 failed, see above: run again to retry them/);
    } finally {
      delete process.env.DPO_TEST_KEY;
      await server.close();
    }
  });

  it('a run killed mid-way (kill -9) keeps every record it wrote, whole; the next run answers exactly the rest', async () => {
    const server = await OpenAITestDouble.start({ delayMs: 40 });
    try {
      const prompts = join(dir, 'many.txt');
      writeFileSync(prompts, Array.from({ length: 40 }, (_, i) => `Question ${i}?`).join('\n'));
      const out = join(dir, 'killed.candidates.jsonl');
      const child = spawn(process.execPath, [CLI, 'generate', '--prompts', prompts, '--out', out, '--base-url', server.baseUrl, '--model', 'test-model', '--n', '2', '--concurrency', '2'], { stdio: 'ignore' });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      while (!existsSync(out) || records(out).length < 5) await new Promise((resolve) => setTimeout(resolve, 20));
      child.kill('SIGKILL');
      await exited;
      const text = readFileSync(out, 'utf8');
      // Only a line cut in the middle of its write could be partial; records are one write each.
      const whole = text.split('\n').slice(0, -1).map((l) => JSON.parse(l) as Json);
      assert.ok(whole.length >= 5 && whole.length < 40, `${whole.length} records`);
      const rest = await cli('--prompts', prompts, '--out', out, '--base-url', server.baseUrl, '--model', 'test-model', '--n', '2');
      assert.equal(rest.code, 0, rest.stderr);
      assert.match(rest.stderr, new RegExp(`resuming .*: ${whole.length} of 40 prompts already answered`));
      const all = records(out);
      assert.equal(all.length, 40);
      assert.equal(new Set(all.map((r) => r.prompt)).size, 40);
      assert.ok(all.every((r) => r.candidates.length === 2));
    } finally {
      await server.close();
    }
  });

  it('reports usage mistakes with exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--prompts', promptsFile, '--out', 'x.jsonl'], /generate needs --model <model folder>/],
      [['--prompts', promptsFile, '--out', 'x.jsonl', '--model', 'm', '--temperature-spread', '1'], /--temperature-spread: a temperature spread is two temperatures/],
      [['--prompts', promptsFile, '--out', 'x.jsonl', '--model', 'm', '--base-url', 'http://h/v1', '--adapter', 'a'], /--adapter is for a local model/],
      [['--prompts', promptsFile, '--out', 'x.jsonl', '--model', 'm', '--top-p', '2'], /--top-p must be a number from 0 to 1/],
      [['--prompts', promptsFile, '--out', 'x.jsonl', '--model', 'm', '--api-key', 'sk'], /Unknown option '--api-key'/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    }
    const missing = await cli('--prompts', join(dir, 'none.txt'), '--out', join(dir, 'x.jsonl'), '--model', model);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /none\.txt: no such file/);
    const folder = await cli('--prompts', dir, '--out', join(dir, 'x.jsonl'), '--model', model);
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /is a folder: --prompts takes a file of prompts/);
  });

  it('--out must be a candidates file it wrote: notes, a pairs dataset or the prompts file are refused untouched; a failed start leaves no file', async () => {
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'keep me\nand my last line');
    const pairs = join(dir, 'some.pairs.jsonl');
    writeFileSync(pairs, JSON.stringify({ prompt: 'p', chosen: 'a', rejected: 'b' }) + '\n');
    for (const out of [notes, pairs, promptsFile]) {
      const before = readFileSync(out, 'utf8');
      for (const extra of [[], ['--overwrite']]) {
        const r = await cli('--prompts', promptsFile, '--out', out, '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', ...extra);
        assert.equal(r.code, 2, out);
        assert.match(r.stderr, out === promptsFile ? /is the prompts file itself/ : /is not a candidates file \(line 1 /);
        assert.doesNotMatch(r.stderr, /removed a half-written/);
        assert.equal(readFileSync(out, 'utf8'), before, `${out} is untouched`);
      }
    }
    // Nothing listens on port 9: the run fails to start and leaves no empty --out behind.
    const fresh = join(dir, 'unreachable.candidates.jsonl');
    const r = await cli('--prompts', promptsFile, '--out', fresh, '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--retries', '0');
    assert.equal(r.code, 2, r.stderr);
    assert.equal(existsSync(fresh), false);
  });
});

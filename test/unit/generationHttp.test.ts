// The OpenAI-compatible provider and the job runner against a loopback TEST DOUBLE of the
// OpenAI protocol (test/support/openaiTestDouble.ts): real HTTP on 127.0.0.1, real files.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { validateText } from '../../src/core/dataset/validateText.ts';
import { CandidatesWriter } from '../../src/core/generation/candidatesFile.ts';
import { readPromptFile } from '../../src/core/generation/promptFile.ts';
import { OpenAICompatibleProvider, type OpenAICompatibleOptions, type RetryInfo } from '../../src/core/generation/providers/openaiCompatible.ts';
import { runGeneration, type GenerationJob, type GenerationProgress } from '../../src/core/generation/runner.ts';
import { ProviderError } from '../../src/core/generation/types.ts';
import { OpenAITestDouble, type TestDoubleOptions } from '../support/openaiTestDouble.ts';

const dir = mkdtempSync(join(tmpdir(), 'dpo-generation-http-'));
let double: OpenAITestDouble | undefined;
let fileNumber = 0;
after(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await double?.close();
  double = undefined;
});

async function serve(options: TestDoubleOptions = {}): Promise<OpenAITestDouble> {
  double = await OpenAITestDouble.start(options);
  return double;
}

function provider(server: OpenAITestDouble, options: Partial<OpenAICompatibleOptions> = {}) {
  return new OpenAICompatibleProvider({ baseUrl: server.baseUrl, model: 'test-model', backoff: { initialMs: 10 }, ...options });
}

const prompts = (count: number) => readPromptFile(Array.from({ length: count }, (_, i) => `Prompt number ${i + 1}`).join('\n'), 'prompts.txt').items;

type Json = Record<string, any>;
const lines = (path: string): Json[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Json);

/** Runs a job into a fresh (or given) output file, as the CLI does. */
async function run(job: Partial<GenerationJob> & Pick<GenerationJob, 'items' | 'sources'>, out = join(dir, `out-${++fileNumber}.candidates.jsonl`)) {
  const { writer, resume } = CandidatesWriter.open(out);
  const progress: GenerationProgress[] = [];
  try {
    const summary = await runGeneration({
      settings: { temperature: 0.8, topP: 0.95, maxTokens: 64 },
      concurrency: 4,
      done: resume.doneKeys,
      sourceName: 'prompts.txt',
      write: (record) => writer.append(record),
      onProgress: (p) => progress.push(p),
      ...job,
    });
    return { summary, out, progress, records: lines(out) };
  } finally {
    await writer.close();
  }
}

describe('OpenAI-compatible generation', () => {
  it('asks for N answers in one request and writes schema-valid records with per-candidate meta', async () => {
    const server = await serve();
    const { summary, records, out, progress } = await run({ items: prompts(3), sources: [{ provider: provider(server, { apiKey: 'sk-secret-123' }), n: 3 }], settings: { temperature: 0.7, topP: 0.9, maxTokens: 32, system: 'Be brief.' } });
    assert.equal(server.completionRequests.length, 3, 'one request per prompt');
    assert.deepEqual(server.completionRequests.map((r) => r.body?.n), [3, 3, 3]);
    const body = server.completionRequests[0]!.body!;
    assert.deepEqual(body.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Prompt number 1' }]);
    assert.equal(server.completionRequests[0]!.headers.authorization, 'Bearer sk-secret-123');
    assert.deepEqual([body.temperature, body.top_p, body.max_tokens, body.stream], [0.7, 0.9, 32, false]);
    assert.equal(summary.written, 3);
    assert.equal(summary.candidates, 9);
    assert.deepEqual(records.map((r) => r.prompt).sort(), ['Prompt number 1', 'Prompt number 2', 'Prompt number 3']);
    const meta = records[0]!.candidates[0].meta;
    assert.deepEqual(Object.keys(meta), ['provider', 'model', 'base_url', 'temperature', 'top_p', 'max_tokens', 'system', 'finish_reason', 'prompt_tokens', 'latency_ms', 'generated_at']);
    assert.deepEqual([meta.provider, meta.model, meta.base_url, meta.temperature, meta.top_p, meta.max_tokens, meta.finish_reason, meta.prompt_tokens], ['openai', 'test-model', server.baseUrl, 0.7, 0.9, 32, 'stop', 3]);
    assert.ok(meta.latency_ms >= 0 && !Number.isNaN(Date.parse(meta.generated_at)));
    assert.match(records[0]!.meta.source, /^prompts\.txt:[123]$/);
    const text = readFileSync(out, 'utf8');
    assert.ok(!text.includes('sk-secret'), 'the API key is never written');
    const validation = validateText(text, out);
    assert.equal(validation.errorCount, 0);
    assert.equal(validation.warningCount, 0);
    assert.deepEqual(progress.map((p) => p.finished), [0, 1, 2, 3]);
    assert.equal(progress.at(-1)!.etaMs, 0);
  });

  it('a server that ignores n gets single requests, and later prompts spread them over the workers', async () => {
    const server = await serve({ ignoreN: true, delayMs: 30 });
    const p = provider(server);
    const { summary, records } = await run({ items: prompts(4), sources: [{ provider: p, n: 3 }], concurrency: 3 });
    assert.equal(p.ignoresN, true);
    assert.equal(summary.candidates, 12);
    assert.ok(records.every((r) => r.candidates.length === 3));
    // The server gives one answer per request, so each answer costs exactly one request: none is wasted.
    assert.equal(server.completionRequests.length, 12);
    // The first three prompts started together asking n=3; the fourth was planned after the
    // discovery, as three single requests that run side by side.
    assert.deepEqual(server.completionRequests.filter((r) => r.body?.n === 3).length, 3);
    assert.ok(server.completionRequests.slice(-3).every((r) => r.body?.n === undefined));
    assert.equal(server.maxInFlight, 3);
  });

  it('a server that refuses n with a 400 gets the answers one request at a time', async () => {
    const server = await serve({ rejectN: true });
    const p = provider(server);
    const { summary } = await run({ items: prompts(1), sources: [{ provider: p, n: 3 }] });
    assert.equal(summary.candidates, 3);
    assert.deepEqual(server.completionRequests.map((r) => [r.status, r.body?.n]), [[400, 3], [200, undefined], [200, undefined], [200, undefined]]);
  });

  it('retries 429 after the Retry-After the server gave, and 5xx with exponential backoff', async () => {
    const server = await serve();
    server.script({ status: 429, headers: { 'retry-after': '1' } }, { status: 503 }, { status: 502 });
    const retries: RetryInfo[] = [];
    const { summary } = await run({ items: prompts(1), sources: [{ provider: provider(server, { onRetry: (r) => retries.push(r) }), n: 2 }] });
    assert.equal(summary.written, 1);
    const at = server.completionRequests.map((r) => r.at);
    assert.equal(at.length, 4);
    assert.ok(at[1]! - at[0]! >= 950, `waited ${at[1]! - at[0]!} ms after "Retry-After: 1"`);
    assert.deepEqual(retries.map((r) => [r.attempt, r.reason.slice(0, 3)]), [[1, '429'], [2, '503'], [3, '502']]);
    assert.equal(retries[0]!.delayMs, 1000);
    assert.ok(retries[1]!.delayMs >= 10 && retries[1]!.delayMs <= 20, 'second retry: 10 ms × 2, jittered down to half at most');
  });

  it('times out a request that hangs and tries again', async () => {
    const server = await serve();
    server.script({ status: 200, hang: true });
    const retries: RetryInfo[] = [];
    const { summary } = await run({ items: prompts(1), sources: [{ provider: provider(server, { timeoutMs: 200, onRetry: (r) => retries.push(r) }), n: 1 }] });
    assert.equal(summary.written, 1);
    assert.match(retries[0]!.reason, /no answer within 0\.2 s/);
  });

  it('a prompt whose retries run out fails alone: the others are written, the rerun asks for it again', async () => {
    const server = await serve();
    server.script({ status: 500 }, { status: 500 }, { status: 500 });
    const out = join(dir, 'partial.candidates.jsonl');
    const first = await run({ items: prompts(3), sources: [{ provider: provider(server, { maxRetries: 2 }), n: 1 }], concurrency: 1 }, out);
    assert.equal(first.summary.written, 2);
    assert.equal(first.summary.failed, 1);
    assert.match(first.summary.failures[0]!.message, /500 .*gave up after 3 attempts/);
    assert.equal(first.summary.failures[0]!.line, 1);
    const second = await run({ items: prompts(3), sources: [{ provider: provider(server), n: 1 }] }, out);
    assert.equal(second.summary.skipped, 2);
    assert.equal(second.summary.written, 1);
    assert.deepEqual(second.records.map((r) => r.prompt).sort(), ['Prompt number 1', 'Prompt number 2', 'Prompt number 3']);
  });

  it('401 stops the run at once with a message naming the endpoint, the model and how to set the key', async () => {
    const server = await serve({ apiKey: 'right' });
    const { summary, records } = await run({ items: prompts(20), sources: [{ provider: provider(server, { apiKey: 'wrong', keyHint: 'set it with "DPO: Set API Key"' }), n: 2 }], concurrency: 2 });
    assert.match(summary.fatalError!, new RegExp(`^401 Unauthorized from POST ${server.baseUrl}/chat/completions \\(model "test-model"\\): the server refused the API key \\(set it with "DPO: Set API Key"\\)\\. Server said: Incorrect API key provided\\.`));
    assert.equal(records.length, 0);
    assert.ok(server.completionRequests.length <= 2, 'no retries, no further prompts');
    assert.equal(summary.cancelled, false);
  });

  it('404 for an unknown model or a wrong path says to check the base URL and the model', async () => {
    const server = await serve();
    const unknownModel = await run({ items: prompts(2), sources: [{ provider: provider(server, { model: 'gpt-5' }), n: 1 }] });
    assert.match(unknownModel.summary.fatalError!, /404 Not Found from POST .*\/v1\/chat\/completions \(model "gpt-5"\): either the endpoint is wrong \(the base URL usually ends in \/v1\) or the server has no model "gpt-5"\. Server said: The model `gpt-5` does not exist\./);
    const wrongPath = await run({ items: prompts(1), sources: [{ provider: provider(server, { baseUrl: server.baseUrl.replace('/v1', '/api') }), n: 1 }] });
    assert.match(wrongPath.summary.fatalError!, /404 Not Found from POST http:\/\/127\.0\.0\.1:\d+\/api\/chat\/completions/);
  });

  it('a server that cannot be reached stops the run after its retries', async () => {
    const server = await serve();
    const baseUrl = server.baseUrl;
    await server.close();
    double = undefined;
    const { summary } = await run({ items: prompts(3), sources: [{ provider: new OpenAICompatibleProvider({ baseUrl, model: 'm', maxRetries: 1, backoff: { initialMs: 5 } }), n: 1 }], concurrency: 1 });
    assert.match(summary.fatalError!, /cannot reach the server \(ECONNREFUSED\) \(gave up after 2 attempts\)/);
    assert.equal(summary.written, 0);
  });

  it('never has more requests in flight than the concurrency limit', async () => {
    const server = await serve({ delayMs: 40 });
    const { summary } = await run({ items: prompts(12), sources: [{ provider: provider(server), n: 1 }], concurrency: 3 });
    assert.equal(summary.written, 12);
    assert.equal(server.maxInFlight, 3);
  });

  it('cancel keeps every record written so far, whole, and stops the requests in flight', async () => {
    const server = await serve({ delayMs: 60 });
    const controller = new AbortController();
    const out = join(dir, 'cancelled.candidates.jsonl');
    const { writer, resume } = CandidatesWriter.open(out);
    let written = 0;
    const started = Date.now();
    const summary = await runGeneration({
      items: prompts(16),
      sources: [{ provider: provider(server), n: 2 }],
      settings: { temperature: 1, maxTokens: 16 },
      concurrency: 2,
      done: resume.doneKeys,
      signal: controller.signal,
      write: (record) => {
        writer.append(record);
        if (++written === 3) controller.abort();
      },
    });
    await writer.close();
    assert.equal(summary.cancelled, true);
    assert.ok(Date.now() - started < 2000, 'stops without waiting for the remaining prompts');
    const records = lines(out);
    assert.equal(records.length, summary.written);
    assert.ok(summary.written >= 3 && summary.written <= 4);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(server.inFlight, 0, 'the requests in flight were aborted');
    assert.ok(server.completionRequests.length <= summary.written + 2);
    // Resuming answers exactly the rest.
    const rest = await run({ items: prompts(16), sources: [{ provider: provider(server), n: 2 }], concurrency: 8 }, out);
    assert.equal(rest.summary.skipped, summary.written);
    assert.equal(rest.records.length, 16);
    assert.equal(new Set(rest.records.map((r) => r.prompt)).size, 16);
  });

  it('spreads temperatures over a prompt\'s candidates, one request per temperature', async () => {
    const server = await serve();
    const { records } = await run({ items: prompts(1), sources: [{ provider: provider(server), n: 3 }], temperatureSpread: [0.2, 1] });
    assert.deepEqual(server.completionRequests.map((r) => r.body?.temperature).sort(), [0.2, 0.6, 1]);
    assert.deepEqual(records[0]!.candidates.map((c: Json) => c.meta.temperature), [0.2, 0.6, 1]);
  });

  it('drops identical answers and counts them', async () => {
    const server = await serve({ answer: (_r, choice) => (choice === 1 ? 'Different.' : 'Same answer.') });
    const { summary, records } = await run({ items: prompts(2), sources: [{ provider: provider(server), n: 3 }] });
    assert.equal(summary.duplicatesDropped, 2);
    assert.deepEqual(records.map((r) => r.candidates.map((c: Json) => c.text)), [['Same answer.', 'Different.'], ['Same answer.', 'Different.']]);
    assert.equal(records[0]!.meta.duplicates_dropped, 1);
  });

  it('compares two models in one file: each prompt answered by both, meta telling them apart', async () => {
    const server = await serve({ models: ['reference', 'trained'], answer: (r, i) => `${String(r.body?.model)} answer ${i}` });
    const { records } = await run({
      items: prompts(2),
      sources: [
        { provider: provider(server, { model: 'reference' }), n: 2 },
        { provider: provider(server, { model: 'trained' }), n: 2 },
      ],
    });
    for (const record of records) {
      assert.deepEqual(record.candidates.map((c: Json) => [c.meta.model, c.text]), [['reference', 'reference answer 0'], ['reference', 'reference answer 1'], ['trained', 'trained answer 0'], ['trained', 'trained answer 1']]);
    }
  });

  it('the completions API sends the prompt as text, without a system prompt it cannot carry', async () => {
    const server = await serve();
    const p = provider(server, { api: 'completions' });
    assert.equal(p.supportsSystemPrompt, false);
    const items = readPromptFile('{"prompt": {"instruction": "Translate.", "input": "Hello"}}', 'p.jsonl').items;
    const { records } = await run({ items, sources: [{ provider: p, n: 1 }], settings: { temperature: 0, maxTokens: 8, system: 'ignored' } });
    assert.equal(server.completionRequests[0]!.path, '/v1/completions');
    assert.equal(server.completionRequests[0]!.body?.prompt, 'Translate.\n\nHello');
    assert.equal(records[0]!.candidates[0].meta.system, undefined);
    assert.equal(records[0]!.candidates[0].meta.finish_reason, 'length');
  });

  it('complete() rejects with the abort reason when cancelled mid-request', async () => {
    const server = await serve();
    server.script({ status: 200, hang: true });
    const controller = new AbortController();
    const pending = provider(server).complete({ prompt: 'x', n: 1, settings: { temperature: 0, maxTokens: 4 }, seed: 0 }, controller.signal);
    setTimeout(() => controller.abort(new Error('stopped by the user')), 50);
    await assert.rejects(pending, /stopped by the user/);
    assert.ok(!(await pending.catch((e: unknown) => e) instanceof ProviderError));
  });
});

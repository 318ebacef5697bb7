// Candidate generation against a loopback OpenAI-compatible TEST DOUBLE (test/support/
// openaiTestDouble.ts) that answers every request after a fixed delay, run in its own process
// so the server does not share the client's event loop. Measures the whole client: the job
// runner, the HTTP provider, the record building and the durable append (fdatasync per record).
//
// Targets (issue 8):
//   throughput at concurrency C ≥ 0.9 × C × the single-request rate
//   the client adds < 5 ms per request (time per sequential request minus the server's delay)
//
// Run: npm run bench:generate   (BENCH_DELAY_MS=50 BENCH_CONCURRENCY=8 BENCH_PROMPTS=400)
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CandidatesWriter } from '../src/core/generation/candidatesFile.ts';
import { readPromptFile } from '../src/core/generation/promptFile.ts';
import { OpenAICompatibleProvider } from '../src/core/generation/providers/openaiCompatible.ts';
import { runGeneration } from '../src/core/generation/runner.ts';

const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 50);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const PROMPTS = Number(process.env.BENCH_PROMPTS ?? 400);
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 60);
const dir = join(process.cwd(), '.bench', 'generate');

async function startServer(): Promise<{ baseUrl: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/openaiTestDouble.ts', '--delay', String(DELAY_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the test double exited (${code})`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { baseUrl: (JSON.parse(line) as { baseUrl: string }).baseUrl, stop: () => child.kill() };
}

const items = (count: number, tag: string) => readPromptFile(Array.from({ length: count }, (_, i) => `${tag} prompt ${i}: explain step ${i} of preference optimisation`).join('\n'), 'bench.txt').items;

/** Runs `count` prompts (one answer each) through the whole client; returns wall ms and the client's CPU ms. */
async function pipeline(baseUrl: string, count: number, concurrency: number, tag: string): Promise<{ ms: number; cpuMs: number }> {
  const out = join(dir, `${tag}.candidates.jsonl`);
  rmSync(out, { force: true });
  const { writer } = CandidatesWriter.open(out);
  const provider = new OpenAICompatibleProvider({ baseUrl, model: 'test-model' });
  const started = performance.now();
  const cpu = process.cpuUsage();
  const summary = await runGeneration({ items: items(count, tag), sources: [{ provider, n: 1 }], settings: { temperature: 0.8, maxTokens: 64 }, concurrency, write: (r) => writer.append(r) });
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await writer.close();
  if (summary.written !== count) throw new Error(`${tag}: wrote ${summary.written} of ${count} (${summary.failures[0]?.message ?? summary.fatalError})`);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

/** The floor: a bare fetch + JSON parse per request, one after another. */
async function bareFetch(baseUrl: string, count: number): Promise<{ ms: number; cpuMs: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'test-model', messages: [{ role: 'user', content: `bare ${i}` }], temperature: 0.8, max_tokens: 64 }),
    });
    await response.json();
  }
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

mkdirSync(dir, { recursive: true });
const server = await startServer();
try {
  await pipeline(server.baseUrl, 20, 4, 'warmup');
  await bareFetch(server.baseUrl, 10);
  const bare = await bareFetch(server.baseUrl, SEQUENTIAL);
  const sequential = await pipeline(server.baseUrl, SEQUENTIAL, 1, 'sequential');
  const concurrent = await pipeline(server.baseUrl, PROMPTS, CONCURRENCY, 'concurrent');
  const perRequest = sequential.ms / SEQUENTIAL;
  const barePerRequest = bare.ms / SEQUENTIAL;
  const singleRate = 1000 / perRequest;
  const throughput = (PROMPTS / concurrent.ms) * 1000;
  const ratio = throughput / (CONCURRENCY * singleRate);
  const added = perRequest - DELAY_MS;
  const fmt = (n: number, d = 2) => n.toFixed(d);
  process.stdout.write(
    [
      `server delay ${DELAY_MS} ms, ${SEQUENTIAL} sequential requests, ${PROMPTS} prompts at concurrency ${CONCURRENCY}; every record appended and synced to disk`,
      `single request through the client: ${fmt(perRequest)} ms (${fmt(singleRate, 1)} req/s); a bare fetch: ${fmt(barePerRequest)} ms`,
      `client overhead per request: ${fmt(added)} ms over the server's delay, of which ${fmt(perRequest - barePerRequest)} ms over a bare fetch; ` +
        `client CPU ${fmt(concurrent.cpuMs / PROMPTS)} ms/request (bare fetch ${fmt(bare.cpuMs / SEQUENTIAL)})  target < 5 ms: ${added < 5 ? 'PASS' : 'FAIL'}`,
      `throughput at concurrency ${CONCURRENCY}: ${fmt(throughput, 1)} req/s = ${fmt(ratio, 3)} × concurrency × single-request rate  target ≥ 0.9: ${ratio >= 0.9 ? 'PASS' : 'FAIL'}`,
      `machine load average (1 min): ${fmt(loadavg()[0]!)} on ${availableParallelism()} cores`,
    ].join('\n') + '\n',
  );
  process.exitCode = added < 5 && ratio >= 0.9 ? 0 : 1;
} finally {
  server.stop();
}

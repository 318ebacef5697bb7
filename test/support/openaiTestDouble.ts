// TEST DOUBLE of an OpenAI-compatible HTTP server: not a real model server, and not a mock of
// our own code. It stands at the system boundary (the network) so that the real HTTP client
// (src/core/generation/providers/openaiCompatible.ts), the real job runner and the real output
// file are exercised end to end, on 127.0.0.1 only.
//
// It speaks POST /v1/chat/completions, POST /v1/completions and GET /v1/models, and is
// scriptable the ways real servers misbehave: a fixed delay per answer, status codes with
// Retry-After, hanging requests, ignoring `n` (llama.cpp, Ollama) or refusing it with a 400,
// an API key it requires, models it does not know (404). It counts requests and the most that
// were in flight at once.
//
// Run alone (the benchmark does, so that server and client do not share an event loop):
//   node --import tsx test/support/openaiTestDouble.ts --delay 20
// prints {"baseUrl": "http://127.0.0.1:PORT/v1"} and serves until killed.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestDoubleOptions {
  /** Every answer waits this long (ms). */
  delayMs?: number;
  /** Answer one choice whatever `n` asks for. */
  ignoreN?: boolean;
  /** Answer 400 to any request with n > 1. */
  rejectN?: boolean;
  /** Require `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
  /** Models served (default ["test-model"]); another model gets a 404 as OpenAI and vLLM send it. */
  models?: string[];
  /** The text of choice `choice` of a request; default: distinct per request and choice. */
  answer?: (request: ReceivedRequest, choice: number) => string;
}

/** A reply to force on the next completion request(s), in order. */
export interface ScriptedReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  delayMs?: number;
  /** Never answer (the client's timeout or cancel has to end it). */
  hang?: boolean;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | undefined;
  /** 1-based number of this completion request. */
  number: number;
  /** ms since the double started. */
  at: number;
  /** What the prompt said: the last user turn (chat) or the prompt (completions). */
  promptText: string;
  /** The status it was answered with (once answered). */
  status?: number;
}

export class OpenAITestDouble {
  readonly requests: ReceivedRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly scripted: ScriptedReply[] = [];
  private readonly started = Date.now();
  private completions = 0;

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    public options: TestDoubleOptions,
  ) {}

  static async start(options: TestDoubleOptions = {}): Promise<OpenAITestDouble> {
    let double: OpenAITestDouble | undefined;
    const server = createServer((req, res) => void double!.handle(req, res));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    double = new OpenAITestDouble(server, `http://127.0.0.1:${port}/v1`, options);
    return double;
  }

  /** The next completion requests get these replies, in order; then normal answers again. */
  script(...replies: ScriptedReply[]): void {
    this.scripted.push(...replies);
  }

  /** Completion requests only (not /models). */
  get completionRequests(): ReceivedRequest[] {
    return this.requests.filter((r) => r.path.endsWith('/completions'));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> | undefined;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const isCompletion = req.method === 'POST' && (path === '/v1/chat/completions' || path === '/v1/completions');
    const received: ReceivedRequest = {
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body,
      number: isCompletion ? ++this.completions : 0,
      at: Date.now() - this.started,
      promptText: promptTextOf(body),
    };
    this.requests.push(received);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on('close', () => this.inFlight--);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      received.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    const error = (status: number, message: string, type: string, headers?: Record<string, string>) => send(status, { error: { message, type, code: null } }, headers);

    if (this.options.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      error(401, 'Incorrect API key provided.', 'invalid_request_error');
      return;
    }
    const models = this.options.models ?? ['test-model'];
    if (req.method === 'GET' && path === '/v1/models') {
      send(200, { object: 'list', data: models.map((id) => ({ id, object: 'model', owned_by: 'test-double' })) });
      return;
    }
    if (!isCompletion) {
      error(404, `No route ${req.method} ${path}`, 'not_found');
      return;
    }
    const scripted = this.scripted.shift();
    if (scripted) {
      if (scripted.hang) return;
      await wait(scripted.delayMs ?? 0);
      if (!res.destroyed) send(scripted.status, scripted.body ?? { error: { message: `scripted ${scripted.status}`, type: 'scripted' } }, scripted.headers);
      return;
    }
    if (!body) {
      error(400, 'The body is not JSON', 'invalid_request_error');
      return;
    }
    if (typeof body.model !== 'string' || !models.includes(body.model)) {
      error(404, `The model \`${String(body.model)}\` does not exist.`, 'invalid_request_error');
      return;
    }
    const n = typeof body.n === 'number' ? body.n : 1;
    if (this.options.rejectN && n > 1) {
      error(400, "'n' must be 1 for this server", 'invalid_request_error');
      return;
    }
    await wait(this.options.delayMs ?? 0);
    if (res.destroyed) return;
    const count = this.options.ignoreN ? 1 : n;
    const chat = path === '/v1/chat/completions';
    const texts = Array.from({ length: count }, (_, i) => (this.options.answer ?? defaultAnswer)(received, i));
    const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
    send(200, {
      id: `cmpl-${received.number}`,
      object: chat ? 'chat.completion' : 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: texts.map((text, index) => (chat ? { index, message: { role: 'assistant', content: text }, finish_reason: 'stop' } : { index, text, finish_reason: 'length' })),
      usage: { prompt_tokens: words(received.promptText), completion_tokens: texts.reduce((sum, t) => sum + words(t), 0), total_tokens: 0 },
    });
  }
}

function defaultAnswer(request: ReceivedRequest, choice: number): string {
  const t = request.body?.temperature;
  return `Answer ${choice + 1} of request ${request.number} (t=${String(t)}) to: ${request.promptText}`;
}

function promptTextOf(body: Record<string, unknown> | undefined): string {
  if (!body) return '';
  if (typeof body.prompt === 'string') return body.prompt;
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: string; content?: unknown }>) : [];
  const user = [...messages].reverse().find((m) => m.role === 'user');
  return typeof user?.content === 'string' ? user.content : '';
}

function wait(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

// Standalone: `node --import tsx test/support/openaiTestDouble.ts [--delay MS] [--ignore-n]`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const double = await OpenAITestDouble.start({ delayMs: Number(arg('--delay') ?? 0), ignoreN: process.argv.includes('--ignore-n') });
  process.stdout.write(`${JSON.stringify({ baseUrl: double.baseUrl })}\n`);
}

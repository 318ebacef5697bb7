import { promptToText } from '../../dataset/formats.ts';
import type { ChatMessage, PromptValue } from '../../dataset/types.ts';
import { retryAfterMs, retryDelayMs, sleep, type BackoffOptions } from '../backoff.ts';
import { ProviderError, type CandidateProvider, type GeneratedText, type GenerationRequest, type ProviderIdentity } from '../types.ts';

/**
 * Answers from any server that speaks the OpenAI HTTP protocol: vLLM, Ollama, llama.cpp's
 * server, text-generation-inference, LM Studio, OpenAI itself. Only `fetch` is needed, so the
 * same code runs in the CLI and in the extension host.
 *
 * What real servers do that this copes with:
 * - 429 and 5xx (overload, a model still loading) and requests that hang: retried with
 *   exponential backoff, honouring Retry-After; each attempt has its own timeout.
 * - `n` ignored (llama.cpp, Ollama answer once) or refused with a 400: the rest of the answers
 *   are asked one request at a time, and the provider remembers, so later prompts spread their
 *   single requests over the concurrency limit instead.
 * - 401/403 and 404 would fail every request alike: they stop the run with a message naming
 *   the endpoint and the model, instead of retrying or failing prompt after prompt.
 */

export type OpenAIApi = 'chat' | 'completions';

export interface RetryInfo {
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface OpenAICompatibleOptions {
  /** e.g. http://127.0.0.1:8000/v1, http://localhost:11434 (`/v1` is added when the URL has no path). */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer`; never logged, never written. */
  apiKey?: string;
  /** `chat` (/chat/completions, default) or `completions` (/completions, raw text prompts). */
  api?: OpenAIApi;
  /** Per attempt (default 120 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 5). */
  maxRetries?: number;
  backoff?: BackoffOptions;
  /** Sent as `seed` (most servers then sample reproducibly); each single request gets seed + its position. */
  seed?: number;
  /** How the user sets the key, appended to a 401/403 message ("set OPENAI_API_KEY", ...). */
  keyHint?: string;
  onRetry?: (info: RetryInfo) => void;
}

/** The endpoint a base URL means: `<base>/chat/completions` or `<base>/completions`, `/v1` added to a bare host. */
export function endpointUrl(baseUrl: string, api: OpenAIApi = 'chat'): string {
  return `${apiRoot(baseUrl)}/${api === 'chat' ? 'chat/completions' : 'completions'}`;
}

/** The `/v1` root of a base URL, whatever the user pasted (a bare host, `/v1`, or a full endpoint). */
export function apiRoot(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    throw new ProviderError(`"${baseUrl}" is not a URL (expected e.g. http://127.0.0.1:8000/v1)`, true);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ProviderError(`"${baseUrl}" is not an http(s) URL`, true);
  let path = url.pathname.replace(/\/+$/, '');
  path = path.replace(/\/(chat\/completions|completions|models)$/, '');
  if (path === '') path = '/v1';
  return `${url.origin}${path}`;
}

interface Attempted {
  status: number;
  body: unknown;
  text: string;
}

export class OpenAICompatibleProvider implements CandidateProvider {
  readonly identity: ProviderIdentity;
  readonly supportsSampling = true;
  readonly url: string;
  private readonly api: OpenAIApi;
  /** Set once the server has shown it ignores or refuses `n`. */
  private nUnsupported = false;

  constructor(private readonly options: OpenAICompatibleOptions) {
    this.api = options.api ?? 'chat';
    this.url = endpointUrl(options.baseUrl, this.api);
    this.identity = { provider: 'openai', model: options.model, base_url: apiRoot(options.baseUrl) };
  }

  get supportsSystemPrompt(): boolean {
    return this.api === 'chat';
  }

  /** Whether the server was found to ignore or refuse `n` (tests and the benchmark report it). */
  get ignoresN(): boolean {
    return this.nUnsupported;
  }

  maxAnswersPerCall(): number {
    return this.nUnsupported ? 1 : Number.POSITIVE_INFINITY;
  }

  async complete(request: GenerationRequest, signal: AbortSignal): Promise<GeneratedText[]> {
    const answers: GeneratedText[] = [];
    while (answers.length < request.n) {
      const want = request.n - answers.length;
      const n = this.nUnsupported ? 1 : want;
      const got = await this.requestAnswers(request, n, answers.length, signal);
      if (got === 'n-refused') {
        this.nUnsupported = true;
        continue;
      }
      if (got.length === 0) throw new ProviderError(`${this.where()}: the answer held no choices`, false);
      if (got.length < n) this.nUnsupported = true;
      answers.push(...got.slice(0, want));
    }
    return answers;
  }

  /** One request for `n` answers (retried as needed); 'n-refused' when a 400 came back for n > 1. */
  private async requestAnswers(request: GenerationRequest, n: number, position: number, signal: AbortSignal): Promise<GeneratedText[] | 'n-refused'> {
    const { settings } = request;
    const body: Record<string, unknown> = { model: this.options.model };
    if (this.api === 'chat') body.messages = chatMessages(request.prompt, settings.system);
    else body.prompt = promptToText(request.prompt);
    // `n` only when it is more than one: some servers refuse the field altogether.
    if (n > 1) body.n = n;
    body.temperature = settings.temperature;
    if (settings.topP !== undefined) body.top_p = settings.topP;
    body.max_tokens = settings.maxTokens;
    if (this.options.seed !== undefined) body.seed = this.options.seed + request.seed + position;
    body.stream = false;

    const reply = await this.post(JSON.stringify(body), signal);
    if (reply.status === 400 || reply.status === 422) {
      if (n > 1) return 'n-refused';
      throw new ProviderError(`${this.where()} refused the request (${reply.status}): ${serverMessage(reply)}`, false, reply.status);
    }
    return parseChoices(reply.body, this.api);
  }

  /** POSTs with retries; returns a 2xx or a non-retryable 400/422, throws for everything else. */
  private async post(body: string, signal: AbortSignal): Promise<Attempted> {
    const maxRetries = this.options.maxRetries ?? 5;
    const timeoutMs = this.options.timeoutMs ?? 120_000;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    for (let attempt = 0; ; attempt++) {
      signal.throwIfAborted();
      // A timer per attempt, cleared when the attempt ends: AbortSignal.timeout cannot be
      // cleared, and a long run would keep one pending timer per request for the whole timeout.
      const perAttempt = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        perAttempt.abort(new Error('timeout'));
      }, timeoutMs);
      const forward = () => perAttempt.abort(signal.reason);
      signal.addEventListener('abort', forward, { once: true });
      let failure: { reason: string; serverSaysMs?: number; unreachable?: boolean };
      try {
        const response = await fetch(this.url, { method: 'POST', headers, body, signal: perAttempt.signal });
        const text = await response.text();
        const reply: Attempted = { status: response.status, text, body: parseJson(text) };
        if (response.ok) {
          if (reply.body === undefined) throw new ProviderError(`${this.where()} answered ${response.status} with something that is not JSON: ${text.slice(0, 200)}`, false, response.status);
          return reply;
        }
        if (response.status === 400 || response.status === 422) return reply;
        if (response.status === 401 || response.status === 403) {
          throw new ProviderError(
            `${response.status} ${response.status === 401 ? 'Unauthorized' : 'Forbidden'} from ${this.where()}: the server refused ${this.options.apiKey ? 'the API key' : 'the request without an API key'}` +
              (this.options.keyHint ? ` (${this.options.keyHint})` : '') +
              `. Server said: ${serverMessage(reply)}`,
            true,
            response.status,
          );
        }
        if (response.status === 404) {
          throw new ProviderError(
            `404 Not Found from ${this.where()}: either the endpoint is wrong (the base URL usually ends in /v1) or the server has no model "${this.options.model}". Server said: ${serverMessage(reply)}`,
            true,
            404,
          );
        }
        if (response.status !== 408 && response.status !== 409 && response.status !== 429 && response.status < 500) {
          throw new ProviderError(`${this.where()} answered ${response.status}: ${serverMessage(reply)}`, false, response.status);
        }
        const serverSaysMs = retryAfterMs(response.headers);
        failure = { reason: `${response.status} ${response.statusText || 'error'}: ${serverMessage(reply)}`, ...(serverSaysMs !== undefined ? { serverSaysMs } : {}) };
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        if (signal.aborted) throw signal.reason;
        if (timedOut) failure = { reason: `no answer within ${formatSeconds(timeoutMs)}` };
        else failure = { reason: `cannot reach the server (${networkReason(error)})`, unreachable: true };
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', forward);
      }
      if (attempt >= maxRetries) {
        // A server that never answered is as fatal as a wrong URL; one that keeps failing
        // under load may still serve the next prompt.
        throw new ProviderError(`${this.where()}: ${failure.reason} (gave up after ${attempt + 1} attempts)`, failure.unreachable === true);
      }
      const delayMs = retryDelayMs(attempt, this.options.backoff, failure.serverSaysMs);
      this.options.onRetry?.({ attempt: attempt + 1, delayMs, reason: failure.reason });
      await sleep(delayMs, signal);
    }
  }

  private where(): string {
    return `POST ${this.url} (model "${this.options.model}")`;
  }
}

/** The chat turns of a prompt, with the system prompt first unless the prompt brings its own. */
export function chatMessages(prompt: PromptValue, system?: string): ChatMessage[] {
  const turns: ChatMessage[] = Array.isArray(prompt) ? prompt.map((m) => ({ role: m.role, content: m.content })) : [{ role: 'user', content: promptToText(prompt) }];
  if (system && !turns.some((m) => m.role === 'system')) turns.unshift({ role: 'system', content: system });
  return turns;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What the server said went wrong: OpenAI's `{"error": {"message"}}`, Ollama's `{"error": "..."}`, or the text. */
function serverMessage(reply: Attempted): string {
  const body = reply.body as { error?: unknown; message?: unknown; detail?: unknown } | undefined;
  const error = body?.error;
  const message =
    typeof error === 'string'
      ? error
      : error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string'
        ? (error as { message: string }).message
        : typeof body?.message === 'string'
          ? body.message
          : typeof body?.detail === 'string'
            ? body.detail
            : reply.text.trim();
  return message.length > 300 ? `${message.slice(0, 300)}…` : message || '(no message)';
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

interface Choice {
  index?: number;
  text?: unknown;
  message?: { content?: unknown };
  finish_reason?: unknown;
}

function choiceText(choice: Choice, api: OpenAIApi): string {
  if (api === 'completions') return typeof choice.text === 'string' ? choice.text : '';
  const content = choice.message?.content;
  if (typeof content === 'string') return content;
  // Some servers send content parts: [{"type": "text", "text": "..."}].
  if (Array.isArray(content)) return content.map((part) => (part && typeof part.text === 'string' ? part.text : '')).join('');
  return '';
}

function parseChoices(body: unknown, api: OpenAIApi): GeneratedText[] {
  const { choices, usage } = (body ?? {}) as { choices?: unknown; usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } };
  if (!Array.isArray(choices)) return [];
  const ordered = [...(choices as Choice[])].sort((a, b) => (typeof a.index === 'number' && typeof b.index === 'number' ? a.index - b.index : 0));
  const promptTokens = typeof usage?.prompt_tokens === 'number' ? usage.prompt_tokens : undefined;
  // Usage counts the completion tokens of all choices together: per answer only when there is one.
  const completionTokens = ordered.length === 1 && typeof usage?.completion_tokens === 'number' ? usage.completion_tokens : undefined;
  return ordered.map((choice) => ({
    text: choiceText(choice, api),
    ...(typeof choice.finish_reason === 'string' ? { finishReason: choice.finish_reason } : {}),
    ...(promptTokens !== undefined ? { promptTokens } : {}),
    ...(completionTokens !== undefined ? { completionTokens } : {}),
  }));
}

/** The model ids a server offers (GET <root>/models), for a picker; [] when it does not say. */
export async function listModels(baseUrl: string, apiKey: string | undefined, signal: AbortSignal = AbortSignal.timeout(5000)): Promise<string[]> {
  const response = await fetch(`${apiRoot(baseUrl)}/models`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, signal });
  if (!response.ok) return [];
  const body = (await response.json().catch(() => undefined)) as { data?: Array<{ id?: unknown }> } | undefined;
  return Array.isArray(body?.data) ? body.data.map((m) => m.id).filter((id): id is string => typeof id === 'string') : [];
}

import { basename } from 'node:path';
import { promptToText } from '../core/dataset/formats.ts';
import type { ChatMessage } from '../core/dataset/types.ts';
import type { CandidateProvider, GeneratedText, GenerationRequest, ProviderIdentity } from '../core/generation/types.ts';
import { ProviderError } from '../core/generation/types.ts';
import { initBackend, type BackendRequest } from '../trainer/backend/index.ts';
import { generate, type Prompt } from '../trainer/generate/index.ts';
import { disposeModel, loadAdapter, loadModel, parameterCount, type CausalLM } from '../trainer/model/index.ts';
import { TextTokenizer } from '../trainer/tokenizer/textTokenizer.ts';

/**
 * Answers from a model folder on this machine (optionally with a LoRA adapter), through the
 * trainer's own generation code, so what is sampled here is exactly what the model being
 * trained would say.
 *
 * One generate() call answers all of a request's N candidates as one batch: the prompt is
 * repeated N times and each row samples from its own seeded stream, so the answers differ and a
 * rerun of the same prompt gives the same ones. Calls run one at a time: TensorFlow.js computes
 * on one thread, and interleaving two batches would only make both slower.
 */

export interface LocalProviderOptions {
  modelDir: string;
  adapterDir?: string;
  /** How the model and adapter are named in the candidates' meta (default: the folder names). */
  modelLabel?: string;
  adapterLabel?: string;
  backend?: BackendRequest;
  log?: (line: string) => void;
}

/** Batch rows per generate() call; more answers are split over several calls. */
const MAX_BATCH = 8;

export class LocalProvider implements CandidateProvider {
  readonly identity: ProviderIdentity;
  readonly supportsSampling = true;
  readonly supportsSystemPrompt: boolean;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    readonly model: CausalLM,
    readonly tokenizer: TextTokenizer,
    options: LocalProviderOptions,
    readonly backend: string,
  ) {
    this.identity = { provider: 'local', model: options.modelLabel ?? basename(options.modelDir) };
    if (options.adapterDir) this.identity.adapter = options.adapterLabel ?? basename(options.adapterDir);
    this.supportsSystemPrompt = tokenizer.chatTemplate !== undefined;
  }

  /** Starts the backend (auto: the fastest that works here), loads the model and the adapter. */
  static async load(options: LocalProviderOptions): Promise<LocalProvider> {
    const log = options.log ?? (() => {});
    let backend = 'cpu';
    try {
      backend = (await initBackend(options.backend ?? 'auto', log)).name;
    } catch (error) {
      throw new ProviderError((error as Error).message, true);
    }
    let model: CausalLM | undefined;
    try {
      const tokenizer = TextTokenizer.fromFolder(options.modelDir);
      model = loadModel(options.modelDir, { log: (line) => log(`${options.modelDir}: ${line}`) });
      if (options.adapterDir) loadAdapter(options.adapterDir, model, { trainable: false });
      return new LocalProvider(model, tokenizer, options, backend);
    } catch (error) {
      if (model) disposeModel(model);
      throw new ProviderError(`cannot load the local model: ${(error as Error).message}`, true);
    }
  }

  get parameters(): number {
    return parameterCount(this.model);
  }

  maxAnswersPerCall(): number {
    return MAX_BATCH;
  }

  complete(request: GenerationRequest, signal: AbortSignal): Promise<GeneratedText[]> {
    const run = this.queue.then(() => {
      signal.throwIfAborted();
      if (this.disposed) throw new ProviderError('the local model was unloaded', true);
      return this.generateNow(request);
    });
    this.queue = run.catch(() => undefined);
    // generate() cannot stop between tokens: on cancel the caller is released at once and the
    // batch finishes (and is thrown away) in the background.
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      run.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async generateNow(request: GenerationRequest): Promise<GeneratedText[]> {
    const prompt = this.modelPrompt(request);
    const { settings } = request;
    let generations;
    try {
      generations = await generate(this.model, this.tokenizer, new Array<Prompt>(request.n).fill(prompt), {
        maxNewTokens: settings.maxTokens,
        temperature: settings.temperature,
        ...(settings.topP !== undefined ? { topP: settings.topP } : {}),
        seed: request.seed,
      });
    } catch (error) {
      throw new ProviderError((error as Error).message, false);
    }
    return generations.map((g) => ({
      text: g.text,
      // OpenAI's words, so meta reads the same whatever the provider: an end token or a stop string is "stop".
      finishReason: g.finishReason === 'length' ? 'length' : 'stop',
      promptTokens: g.promptIds.length,
      completionTokens: g.tokenIds.length,
    }));
  }

  /** Chat models (a tokenizer with a chat template) get chat turns, with the system prompt; others the plain text. */
  private modelPrompt(request: GenerationRequest): Prompt {
    const { prompt, settings } = request;
    if (!this.supportsSystemPrompt) return promptToText(prompt);
    const turns: ChatMessage[] = Array.isArray(prompt) ? prompt.map((m) => ({ role: m.role, content: m.content })) : [{ role: 'user', content: promptToText(prompt) }];
    if (settings.system && !turns.some((m) => m.role === 'system')) turns.unshift({ role: 'system', content: settings.system });
    return turns;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.queue;
    disposeModel(this.model);
  }
}

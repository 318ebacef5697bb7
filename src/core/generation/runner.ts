import { buildCandidatesRecord } from './candidatesRecord.ts';
import { candidateTemperatures, type TemperatureSpread } from './temperatures.ts';
import { ProviderError, type CandidateEntry, type CandidateProvider, type CandidatesRecord, type GeneratedText, type PromptItem, type SamplingSettings } from './types.ts';

/**
 * Runs a generation job: every prompt not yet answered, N answers from each source (one source
 * normally; two to compare models), at most `concurrency` provider calls at once, each prompt's
 * record handed to `write` the moment its last answer arrives.
 *
 * Work is pulled, not pushed: `concurrency` workers take the next call from a lazy walk over
 * the prompts in file order, so memory holds only what is in flight, however long the file,
 * and a prompt's calls run side by side on free workers. A prompt is written only when all
 * its answers came back; a prompt whose call failed is reported and not written, so a rerun
 * asks again.
 */

export interface GenerationSource {
  provider: CandidateProvider;
  /** Answers wanted from this source per prompt. */
  n: number;
}

export interface GenerationJob {
  items: readonly PromptItem[];
  sources: readonly GenerationSource[];
  settings: SamplingSettings;
  /** Temperatures spread over each prompt's candidates (per source) instead of `settings.temperature`. */
  temperatureSpread?: TemperatureSpread;
  /** Most provider calls in flight at once. */
  concurrency: number;
  /** Keys of prompts already answered (resume): skipped. */
  done?: ReadonlySet<string>;
  /** Base of the per-prompt seeds. */
  seed?: number;
  /** Input file name, written into each record's meta.source as `name:line`. */
  sourceName?: string;
  signal?: AbortSignal;
  write(record: CandidatesRecord): void | Promise<void>;
  onProgress?(progress: GenerationProgress): void;
  /** A prompt failed (it is not written; a rerun asks again). */
  onPromptFailed?(item: PromptItem, message: string): void;
  /** Clock for the ETA (tests). */
  now?: () => number;
}

export interface GenerationProgress {
  /** Prompts this run has to answer (skipped ones not included). */
  total: number;
  /** Written plus failed. */
  finished: number;
  written: number;
  failed: number;
  /** Skipped because the output already answers them. */
  skipped: number;
  candidates: number;
  elapsedMs: number;
  /** Undefined until the first prompt finished. */
  etaMs: number | undefined;
}

export interface GenerationSummary extends GenerationProgress {
  duplicatesDropped: number;
  /** Candidates whose text came back empty (kept: an empty answer is a fine "worst"). */
  emptyAnswers: number;
  failures: Array<{ line: number; key: string; message: string }>;
  cancelled: boolean;
  /** Set when a fatal provider error stopped the run. */
  fatalError?: string;
}

interface Call {
  prompt: PromptState;
  source: number;
  /** Position of the call's first answer among the source's answers for the prompt. */
  first: number;
  temperature: number;
  n: number;
}

interface PromptState {
  item: PromptItem;
  /** Answers per source, by position. */
  answers: Array<Array<CandidateEntry | undefined>>;
  pending: number;
  failed: boolean;
}

export async function runGeneration(job: GenerationJob): Promise<GenerationSummary> {
  const now = job.now ?? Date.now;
  const started = now();
  const todo = job.items.filter((item) => !job.done?.has(item.key));
  const summary: GenerationSummary = {
    total: todo.length,
    finished: 0,
    written: 0,
    failed: 0,
    skipped: job.items.length - todo.length,
    candidates: 0,
    elapsedMs: 0,
    etaMs: undefined,
    duplicatesDropped: 0,
    emptyAnswers: 0,
    failures: [],
    cancelled: false,
  };
  // One controller stops everything in flight, for the user's cancel and for a fatal error alike.
  const stop = new AbortController();
  const onAbort = () => stop.abort(job.signal!.reason);
  job.signal?.addEventListener('abort', onAbort, { once: true });
  if (job.signal?.aborted) stop.abort(job.signal.reason);

  const progress = (): GenerationProgress => {
    const elapsedMs = now() - started;
    const remaining = summary.total - summary.finished;
    return {
      total: summary.total,
      finished: summary.finished,
      written: summary.written,
      failed: summary.failed,
      skipped: summary.skipped,
      candidates: summary.candidates,
      elapsedMs,
      // Whole-run average: prompts finish out of order and in bursts, so a short window would jump.
      etaMs: summary.finished > 0 ? Math.round((elapsedMs / summary.finished) * remaining) : undefined,
    };
  };
  job.onProgress?.(progress());

  const calls = planCalls(todo, job);
  let writing = Promise.resolve();
  let writeError: unknown;

  const finishPrompt = async (state: PromptState) => {
    if (state.failed) return;
    const entries = state.answers.flat().filter((e): e is CandidateEntry => e !== undefined);
    const { record, dropped } = buildCandidatesRecord(state.item, entries, job.sourceName);
    // Writes happen one after another, in the order prompts finish.
    writing = writing.then(() => job.write(record));
    await writing;
    summary.duplicatesDropped += dropped;
    summary.candidates += record.candidates.length;
    summary.written++;
    summary.finished++;
    job.onProgress?.(progress());
  };

  const failPrompt = (state: PromptState, message: string) => {
    if (state.failed) return;
    state.failed = true;
    summary.failed++;
    summary.finished++;
    summary.failures.push({ line: state.item.line, key: state.item.key, message });
    job.onPromptFailed?.(state.item, message);
    job.onProgress?.(progress());
  };

  const runCall = async (call: Call) => {
    const { provider } = job.sources[call.source]!;
    const state = call.prompt;
    if (state.failed) return;
    const settings: SamplingSettings = { ...job.settings, temperature: call.temperature };
    if (!provider.supportsSystemPrompt) delete settings.system;
    const callStarted = now();
    let answers: GeneratedText[];
    try {
      answers = await provider.complete({ prompt: state.item.prompt, n: call.n, settings, seed: seedFor(job.seed ?? 0, state.item.key, call.source, call.first) }, stop.signal);
    } catch (error) {
      if (stop.signal.aborted) return;
      if (error instanceof ProviderError && error.fatal) {
        summary.fatalError = error.message;
        stop.abort(error);
        return;
      }
      failPrompt(state, (error as Error).message);
      return;
    }
    if (stop.signal.aborted) return;
    const latencyMs = now() - callStarted;
    const generatedAt = new Date().toISOString();
    answers.slice(0, call.n).forEach((answer, i) => {
      if (answer.text.trim() === '') summary.emptyAnswers++;
      state.answers[call.source]![call.first + i] = { text: answer.text, meta: candidateMeta(provider, settings, answer, latencyMs, generatedAt) };
    });
    if (--state.pending === 0) {
      try {
        await finishPrompt(state);
      } catch (error) {
        // The output cannot be written (disk full, file removed): nothing more is worth asking.
        writeError ??= error;
        stop.abort(error);
      }
    }
  };

  const worker = async () => {
    for (let next = calls.next(); !next.done && !stop.signal.aborted; next = calls.next()) await runCall(next.value);
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, job.concurrency) }, worker));
  } finally {
    job.signal?.removeEventListener('abort', onAbort);
  }
  if (writeError !== undefined) throw writeError;
  summary.cancelled = job.signal?.aborted === true;
  Object.assign(summary, progress());
  return summary;
}

/** The calls of every prompt, lazily, prompt by prompt: one per run of equal temperatures, split to what the provider takes per call. */
function* planCalls(items: readonly PromptItem[], job: GenerationJob): Generator<Call> {
  for (const item of items) {
    const state: PromptState = { item, answers: job.sources.map((s) => new Array<CandidateEntry | undefined>(s.n)), pending: 0, failed: false };
    const calls: Call[] = [];
    job.sources.forEach((source, s) => {
      const temperatures = candidateTemperatures(source.n, job.settings.temperature, job.temperatureSpread);
      for (let first = 0; first < temperatures.length; ) {
        // Asked when the call is planned, so a server found to ignore `n` a moment ago already
        // gets single requests spread over the workers.
        const perCall = Math.max(1, source.provider.maxAnswersPerCall());
        let n = 1;
        while (first + n < temperatures.length && n < perCall && temperatures[first + n] === temperatures[first]) n++;
        calls.push({ prompt: state, source: s, first, temperature: temperatures[first]!, n });
        first += n;
      }
    });
    state.pending = calls.length;
    yield* calls;
  }
}

/** What each candidate records about how it was made. */
function candidateMeta(provider: CandidateProvider, settings: SamplingSettings, answer: GeneratedText, latencyMs: number, generatedAt: string): Record<string, unknown> {
  const meta: Record<string, unknown> = { ...provider.identity };
  if (provider.supportsSampling) {
    meta.temperature = settings.temperature;
    if (settings.topP !== undefined) meta.top_p = settings.topP;
  }
  meta.max_tokens = settings.maxTokens;
  if (settings.system) meta.system = settings.system;
  if (answer.finishReason !== undefined) meta.finish_reason = answer.finishReason;
  if (answer.promptTokens !== undefined) meta.prompt_tokens = answer.promptTokens;
  if (answer.completionTokens !== undefined) meta.completion_tokens = answer.completionTokens;
  meta.latency_ms = latencyMs;
  meta.generated_at = generatedAt;
  return { ...meta, ...answer.extra };
}

/** A 31-bit seed from the run's seed, the prompt and the answer's place: the same on every rerun. */
export function seedFor(base: number, key: string, source: number, first: number): number {
  let h = (base ^ 0x9e3779b9) >>> 0;
  for (const c of `${key}/${source}/${first}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h & 0x7fffffff;
}

/** "1 h 02 min", "3 min 05 s", "12 s": for progress lines. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

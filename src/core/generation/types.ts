import type { PromptValue } from '../dataset/types.ts';

/**
 * Candidate generation's shared shapes. Everything here is plain data: the same types serve the
 * CLI, the extension (HTTP and VS Code language models) and the local-model worker process.
 */

/** One prompt to answer, read from the input file. */
export interface PromptItem {
  /**
   * Stable identity of the prompt (a hash of its canonical JSON), the same in the input and in
   * the output file: resuming skips the prompts whose key is already in the output.
   */
  key: string;
  /** The prompt exactly as the input holds it; written back unchanged into the output. */
  prompt: PromptValue;
  /** 1-based line of the input where the prompt is. */
  line: number;
  /** The input record's `id`, carried over so a candidates record can be traced back. */
  id?: string | number;
}

/** Sampling settings of one provider call. */
export interface SamplingSettings {
  /** 0 is greedy. */
  temperature: number;
  /** Nucleus sampling; undefined leaves the provider's default. */
  topP?: number;
  /** Most new tokens per answer. */
  maxTokens: number;
  /** Sent as the system turn where the provider has one. */
  system?: string;
}

/** What a provider is asked for: `n` answers to one prompt with one set of settings. */
export interface GenerationRequest {
  prompt: PromptValue;
  n: number;
  settings: SamplingSettings;
  /**
   * A seed derived from the prompt's key and the candidate's position, for providers that can
   * sample reproducibly (the local model): a rerun of the same prompt draws the same answers.
   */
  seed: number;
}

/** One answer as a provider returns it, before it becomes a candidate. */
export interface GeneratedText {
  text: string;
  finishReason?: string;
  promptTokens?: number;
  completionTokens?: number;
  /** Anything else the provider wants in the candidate's meta (written as given). */
  extra?: Record<string, unknown>;
}

/** Who answered: copied into every candidate's meta. Never holds a secret. */
export interface ProviderIdentity {
  provider: 'local' | 'openai' | 'vscode-lm';
  model: string;
  adapter?: string;
  base_url?: string;
}

export interface CandidateProvider {
  readonly identity: ProviderIdentity;
  /** Whether `settings.system` reaches the model (false: it is left out, and the caller says so). */
  readonly supportsSystemPrompt: boolean;
  /** Whether temperature and top_p are honoured (VS Code's language models do not take them). */
  readonly supportsSampling: boolean;
  /**
   * Most answers one call should ask for. A server found to ignore `n` says 1 from then on,
   * so the runner spreads the remaining answers over parallel calls instead.
   */
  maxAnswersPerCall(): number;
  /** Answers to one request; rejects with a ProviderError, or the signal's reason when aborted. */
  complete(request: GenerationRequest, signal: AbortSignal): Promise<GeneratedText[]>;
  dispose?(): void | Promise<void>;
}

/**
 * A failure a provider could not retry its way out of. `fatal` ones (a refused key, an unknown
 * model or endpoint, a server that cannot be reached) would fail every other prompt the same
 * way, so the whole run stops with this message; the others fail only their prompt.
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly fatal: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** A candidate as written: its text and where it came from. */
export interface CandidateEntry {
  text: string;
  meta: Record<string, unknown>;
}

/** One output line (schemas/candidates-record.schema.json). */
export interface CandidatesRecord {
  id?: string | number;
  prompt: PromptValue;
  candidates: CandidateEntry[];
  meta?: Record<string, unknown>;
}

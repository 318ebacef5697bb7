import * as tf from '@tensorflow/tfjs-core';
import type { ChatMessage } from '../../core/dataset/types.ts';
import type { CausalLM } from '../model/causalLM.ts';
import { SeededRandom, deriveSeed } from '../model/random.ts';
import { forward, lmHead, type KvCache } from '../model/transformer.ts';
import type { TextTokenizer } from '../tokenizer/textTokenizer.ts';
import { sampleToken, type SamplingOptions } from './sampling.ts';

/**
 * Text generation for a batch of prompts: the prompts are left-padded into one batch, run once
 * (prefill), then extended one token per step reusing every layer's keys and values (KV cache).
 * A sequence stops at an end token, at a stop string or at maxNewTokens; the batch stops when
 * all have.
 */

export type Prompt = string | readonly ChatMessage[];

export interface GenerateOptions extends SamplingOptions {
  /** Default 64. */
  maxNewTokens?: number;
  /** Generation ends when the decoded text contains one of these; the text is cut before it. */
  stopStrings?: readonly string[];
  /** Ids that end a sequence. Default: the tokenizer's EOS and generation_config's eos ids. */
  stopTokenIds?: readonly number[];
  /** Seed of the sampling; each prompt draws from its own stream, so a prompt's sample does not
   * depend on the others in the batch. Default 0. */
  seed?: number;
  /** Recompute the whole sequence every step instead of using the KV cache (for checking). */
  useCache?: boolean;
}

export type FinishReason = 'eos' | 'stop' | 'length';

export interface Generation {
  /** The prompt as the model saw it (after the chat template). */
  promptText: string;
  promptIds: number[];
  /** Generated text, without the end token and cut before a stop string. */
  text: string;
  /** Generated ids, without the end token (a stop string's tokens are included). */
  tokenIds: number[];
  finishReason: FinishReason;
}

interface Row {
  promptIds: number[];
  generated: number[];
  random: SeededRandom;
  done: FinishReason | undefined;
  text: string;
}

export async function generate(model: CausalLM, tokenizer: TextTokenizer, prompts: readonly Prompt[], options: GenerateOptions = {}): Promise<Generation[]> {
  const maxNewTokens = options.maxNewTokens ?? 64;
  const stopIds = new Set(options.stopTokenIds ?? tokenizer.stopTokenIds);
  const stopStrings = (options.stopStrings ?? []).filter((s) => s.length > 0);
  const promptTexts = prompts.map((p) => (typeof p === 'string' ? p : tokenizer.applyChatTemplate(p, { addGenerationPrompt: true })));
  const rows: Row[] = promptTexts.map((text, i) => ({
    promptIds: tokenizer.encode(text),
    generated: [],
    random: new SeededRandom(deriveSeed(options.seed ?? 0, i)),
    done: undefined,
    text: '',
  }));
  for (const [i, row] of rows.entries()) if (row.promptIds.length === 0) throw new Error(`prompt ${i} is empty: there is nothing to continue from`);
  const batch = rows.length;
  if (batch === 0) return [];

  // Left padding keeps every row's last token in the last column, where the next token is read.
  const promptLength = Math.max(...rows.map((r) => r.promptIds.length));
  const ids: number[][] = rows.map((r) => [...new Array<number>(promptLength - r.promptIds.length).fill(tokenizer.padTokenId), ...r.promptIds]);
  const mask: number[][] = rows.map((r) => [...new Array<number>(promptLength - r.promptIds.length).fill(0), ...new Array<number>(r.promptIds.length).fill(1)]);
  const useCache = options.useCache ?? true;
  let cache: KvCache | undefined;
  let stepIds = ids;

  try {
    for (let step = 0; step < maxNewTokens && rows.some((r) => !r.done); step++) {
      let nextCache: KvCache | undefined;
      const logitsTensor = tf.tidy(() => {
        const input = tf.tensor2d(stepIds, [batch, stepIds[0]!.length], 'int32');
        const out = forward(model, input, { attentionMask: mask, ...(useCache && cache ? { cache } : {}) });
        if (useCache) {
          nextCache = out.cache;
          for (const layer of out.cache.layers) {
            tf.keep(layer.k);
            tf.keep(layer.v);
          }
        }
        const last = tf.squeeze(tf.slice(out.hidden, [0, out.hidden.shape[1] - 1, 0], [batch, 1, -1]), [1]);
        return lmHead(model, last);
      });
      if (cache) disposeCache(cache);
      cache = nextCache;
      const logits = (await logitsTensor.data()) as Float32Array;
      logitsTensor.dispose();
      const vocab = model.config.vocabSize;
      // Embedding rows past the tokenizer's vocabulary (padding to a round size, as Qwen2 and
      // init-model's small models have) are no tokens: never pick them.
      const usable = Math.min(vocab, tokenizer.vocabSize);
      const next: number[] = [];
      rows.forEach((row, b) => {
        if (row.done) {
          next.push(tokenizer.padTokenId);
          return;
        }
        const token = sampleToken(logits.subarray(b * vocab, b * vocab + usable), options, row.random);
        next.push(token);
        if (stopIds.has(token)) {
          row.done = 'eos';
          return;
        }
        row.generated.push(token);
        row.text = tokenizer.decode(row.generated);
        const cut = firstStop(row.text, stopStrings);
        if (cut >= 0) {
          row.text = row.text.slice(0, cut);
          row.done = 'stop';
        } else if (row.generated.length >= maxNewTokens) row.done = 'length';
      });
      // Finished rows keep running on filler tokens so the batch keeps its shape; rows never
      // attend to each other, so what they compute does not matter.
      for (const row of mask) row.push(1);
      if (useCache) stepIds = next.map((t) => [t]);
      else {
        ids.forEach((row, b) => row.push(next[b]!));
        stepIds = ids;
      }
    }
  } finally {
    if (cache) disposeCache(cache);
  }
  return rows.map((row, i) => ({ promptText: promptTexts[i]!, promptIds: row.promptIds, text: row.text, tokenIds: row.generated, finishReason: row.done ?? 'length' }));
}

function firstStop(text: string, stops: readonly string[]): number {
  let first = -1;
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  return first;
}

function disposeCache(cache: KvCache): void {
  for (const layer of cache.layers) tf.dispose([layer.k, layer.v]);
}

import * as tf from '@tensorflow/tfjs-core';
import { attentionLayout, packedAttentionLayout } from './attentionLayout.ts';
import { param, type CausalLM } from './causalLM.ts';
import type { Activation } from './modelConfig.ts';
import { GPT2_PREFIX, lmHeadName } from './parameterSpecs.ts';
import { ropeCosSin } from './rope.ts';

/**
 * The decoder-only transformer, read top to bottom like nanoGPT's model.py: small blocks, then
 * the Llama block (Llama, Qwen2, Mistral), then the GPT-2 block, then the whole model. Names
 * follow the papers and the checkpoint keys. Everything is tf ops on the model's variables, so
 * the forward pass is differentiable with tf.grad / tf.variableGrads; call it inside tf.tidy.
 */

/** Keys and values of every layer for the tokens seen so far (after RoPE): [batch, kvHeads, length, headDim]. */
export interface KvCache {
  layers: Array<{ k: tf.Tensor4D; v: tf.Tensor4D }>;
  length: number;
}

export interface ForwardOptions {
  /** [batch, cached + new tokens]: 1 for a token, 0 for padding (left or right). Default: no padding. */
  attentionMask?: tf.Tensor2D | ArrayLike<number>[];
  /** Past keys and values; the result carries them extended by the new tokens. */
  cache?: KvCache;
  /** Turns on LoRA dropout. */
  training?: boolean;
  /**
   * Packed rows, instead of `attentionMask` (and without a cache): [batch * tokens], each token's
   * record in its row (1, 2, ...; 0 for padding), see packedAttentionLayout.
   */
  segmentIds?: ArrayLike<number>;
}

interface Context {
  model: CausalLM;
  /** [batch, 1, tokens, keys], added to attention scores. */
  mask: tf.Tensor4D;
  /** Llama: [batch, 1, tokens, headDim]. */
  cos?: tf.Tensor4D;
  sin?: tf.Tensor4D;
  /** Llama on wasm: [headDim, headDim], see rotateHalf. */
  rotation?: tf.Tensor2D;
  past: KvCache | undefined;
  next: KvCache['layers'];
  training: boolean;
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

/**
 * y = x W^T + b, plus the LoRA delta (alpha/r) (x A^T) B^T when an adapter targets this layer.
 * GPT-2's Conv1D stores W as [in, out], hence no transpose there.
 */
function linear(ctx: Context, x: tf.Tensor, path: string): tf.Tensor {
  const spec = ctx.model.linears.get(path);
  if (!spec) throw new Error(`no linear layer "${path}"`);
  const lead = x.shape.slice(0, -1);
  const x2 = tf.reshape(x, [-1, spec.inFeatures]);
  const frozen = ctx.model.frozenLinears?.get(path);
  let y = frozen ? frozen(x2 as tf.Tensor2D) : tf.matMul(x2, param(ctx.model, `${path}.weight`), false, !spec.conv1d);
  if (spec.hasBias) y = tf.add(y, param(ctx.model, `${path}.bias`));
  const lora = ctx.model.adapter?.layers.get(path);
  if (lora) {
    const rate = ctx.model.adapter!.config.dropout;
    const xin = ctx.training && rate > 0 ? tf.dropout(x2, rate, undefined, ctx.model.adapter!.dropoutSeed?.()) : x2;
    y = tf.add(y, tf.mul(tf.matMul(tf.matMul(xin, lora.a, false, true), lora.b, false, true), lora.scale));
  }
  return tf.reshape(y, [...lead, spec.outFeatures]);
}

/** RMSNorm (Zhang & Sennrich 2019): x / sqrt(mean(x^2) + eps) * weight. */
function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  const variance = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), weight);
}

/** LayerNorm (Ba et al. 2016) with a learned gain and bias. */
function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), weight), bias);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

function activation(x: tf.Tensor, kind: Activation): tf.Tensor {
  switch (kind) {
    case 'silu':
      return tf.mul(x, tf.sigmoid(x));
    case 'gelu_new': // GPT-2's tanh approximation of GELU
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), SQRT_2_OVER_PI))));
    case 'gelu':
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'relu':
      return tf.relu(x);
  }
}

/** [batch, tokens, heads * headDim] → [batch, heads, tokens, headDim] */
function splitHeads(x: tf.Tensor, heads: number, headDim: number): tf.Tensor4D {
  const [batch, tokens] = x.shape as [number, number];
  return tf.transpose(tf.reshape(x, [batch, tokens, heads, headDim]), [0, 2, 1, 3]);
}

/** [batch, heads, tokens, headDim] → [batch, tokens, heads * headDim] */
function mergeHeads(x: tf.Tensor4D): tf.Tensor3D {
  const [batch, heads, tokens, headDim] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [batch, tokens, heads * headDim]);
}

/**
 * Llama's RoPE layout: pairs (i, i + d/2), rotated by concatenating (-x2, x1). Given `rotation`
 * (rotateHalfMatrix(d), on wasm), computed as x @ R instead: exact (one nonzero term per
 * output) and, forward and backward, about 40% cheaper there than a split, a negation and a
 * concat, whose slices run as JavaScript loops on wasm. (On the cpu backend the product is the
 * slower one.)
 */
function rotateHalf(x: tf.Tensor, rotation: tf.Tensor2D | undefined): tf.Tensor {
  const d = x.shape[x.rank - 1]!;
  if (rotation) return tf.reshape(tf.matMul(tf.reshape(x, [-1, d]), rotation), x.shape);
  const [x1, x2] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor];
  return tf.concat([tf.neg(x2), x1], -1);
}

/** R [d, d] with (x @ R)[i] = -x[i + d/2] for i < d/2 and x[i - d/2] otherwise. */
function rotateHalfMatrix(d: number): tf.Tensor2D {
  const half = d / 2;
  const r = new Float32Array(d * d);
  for (let i = 0; i < half; i++) {
    r[(i + half) * d + i] = -1;
    r[i * d + i + half] = 1;
  }
  return tf.tensor2d(r, [d, d]);
}

function applyRotaryEmb(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D, rotation: tf.Tensor2D | undefined): tf.Tensor4D {
  return tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x, rotation), sin)) as tf.Tensor4D;
}

/** Appends the new keys and values to the layer's cache and records the result for the next step. */
function withCache(ctx: Context, layer: number, k: tf.Tensor4D, v: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
  const past = ctx.past?.layers[layer];
  const keys = past ? tf.concat([past.k, k], 2) : k;
  const values = past ? tf.concat([past.v, v], 2) : v;
  ctx.next[layer] = { k: keys, v: values };
  return [keys, values];
}

/**
 * softmax(q k^T * scale + mask) v, with grouped-query attention (Ainslie et al. 2023): the
 * query heads sharing a key/value head are stacked along the token axis, so the shared keys
 * and values are used as they are instead of being repeated per query head.
 */
function scaledDotProductAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor4D, scale: number): tf.Tensor4D {
  const [batch, heads, tokens, headDim] = q.shape;
  const kvHeads = k.shape[1];
  const keys = k.shape[2];
  const grouped = tf.reshape(q, [batch, kvHeads, (heads / kvHeads) * tokens, headDim]);
  const scores = tf.add(tf.mul(tf.reshape(tf.matMul(grouped, k, false, true), [batch, heads, tokens, keys]), scale), mask);
  const probs = tf.softmax(scores);
  const out = tf.matMul(tf.reshape(probs, [batch, kvHeads, (heads / kvHeads) * tokens, keys]), v);
  return tf.reshape(out, [batch, heads, tokens, headDim]);
}

// ---------------------------------------------------------------------------------------------
// Llama family (Llama, Qwen2, Qwen3, Mistral): pre-norm RMSNorm, RoPE, GQA, SwiGLU
// ---------------------------------------------------------------------------------------------

function llamaAttention(ctx: Context, x: tf.Tensor, layer: number): tf.Tensor {
  const c = ctx.model.config;
  const p = `model.layers.${layer}.self_attn`;
  // Qwen3 normalises each head's query and key over head_dim before the rotation.
  const headNorm = (heads: tf.Tensor4D, name: 'q_norm' | 'k_norm') => (c.qkNorm ? (rmsNorm(heads, param(ctx.model, `${p}.${name}.weight`), c.normEps) as tf.Tensor4D) : heads);
  const q = applyRotaryEmb(headNorm(splitHeads(linear(ctx, x, `${p}.q_proj`), c.numHeads, c.headDim), 'q_norm'), ctx.cos!, ctx.sin!, ctx.rotation);
  const k = applyRotaryEmb(headNorm(splitHeads(linear(ctx, x, `${p}.k_proj`), c.numKvHeads, c.headDim), 'k_norm'), ctx.cos!, ctx.sin!, ctx.rotation);
  const v = splitHeads(linear(ctx, x, `${p}.v_proj`), c.numKvHeads, c.headDim);
  const [keys, values] = withCache(ctx, layer, k, v);
  const y = scaledDotProductAttention(q, keys, values, ctx.mask, 1 / Math.sqrt(c.headDim));
  return linear(ctx, mergeHeads(y), `${p}.o_proj`);
}

/** SwiGLU (Shazeer 2020): down(act(gate(x)) * up(x)). */
function llamaMlp(ctx: Context, x: tf.Tensor, layer: number): tf.Tensor {
  const p = `model.layers.${layer}.mlp`;
  const gate = activation(linear(ctx, x, `${p}.gate_proj`), ctx.model.config.activation);
  return linear(ctx, tf.mul(gate, linear(ctx, x, `${p}.up_proj`)), `${p}.down_proj`);
}

function llamaBlock(ctx: Context, x: tf.Tensor, layer: number): tf.Tensor {
  const { model } = ctx;
  const eps = model.config.normEps;
  const p = `model.layers.${layer}`;
  const h = tf.add(x, llamaAttention(ctx, rmsNorm(x, param(model, `${p}.input_layernorm.weight`), eps), layer));
  return tf.add(h, llamaMlp(ctx, rmsNorm(h, param(model, `${p}.post_attention_layernorm.weight`), eps), layer));
}

// ---------------------------------------------------------------------------------------------
// GPT-2: pre-norm LayerNorm, learned positions, fused qkv (Conv1D), GELU MLP
// ---------------------------------------------------------------------------------------------

function gpt2Attention(ctx: Context, x: tf.Tensor, layer: number): tf.Tensor {
  const c = ctx.model.config;
  const p = `${GPT2_PREFIX}h.${layer}.attn`;
  const [q, k, v] = tf.split(linear(ctx, x, `${p}.c_attn`), 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const [keys, values] = withCache(ctx, layer, splitHeads(k, c.numHeads, c.headDim), splitHeads(v, c.numHeads, c.headDim));
  const scale = 1 / Math.sqrt(c.headDim) / (c.scaleAttnByInverseLayerIdx ? layer + 1 : 1);
  const y = scaledDotProductAttention(splitHeads(q, c.numHeads, c.headDim), keys, values, ctx.mask, scale);
  return linear(ctx, mergeHeads(y), `${p}.c_proj`);
}

function gpt2Mlp(ctx: Context, x: tf.Tensor, layer: number): tf.Tensor {
  const p = `${GPT2_PREFIX}h.${layer}.mlp`;
  return linear(ctx, activation(linear(ctx, x, `${p}.c_fc`), ctx.model.config.activation), `${p}.c_proj`);
}

function gpt2Block(ctx: Context, x: tf.Tensor, layer: number): tf.Tensor {
  const { model } = ctx;
  const eps = model.config.normEps;
  const p = `${GPT2_PREFIX}h.${layer}`;
  const h = tf.add(x, gpt2Attention(ctx, layerNorm(x, param(model, `${p}.ln_1.weight`), param(model, `${p}.ln_1.bias`), eps), layer));
  return tf.add(h, gpt2Mlp(ctx, layerNorm(h, param(model, `${p}.ln_2.weight`), param(model, `${p}.ln_2.bias`), eps), layer));
}

// ---------------------------------------------------------------------------------------------
// The whole model
// ---------------------------------------------------------------------------------------------

function maskValues(mask: ForwardOptions['attentionMask'], batch: number, keyLength: number): ArrayLike<number> {
  if (mask === undefined) return new Int32Array(batch * keyLength).fill(1);
  if (mask instanceof tf.Tensor) {
    if (mask.shape[0] !== batch || mask.shape[1] !== keyLength) throw new Error(`attention mask is [${mask.shape}], expected [${batch}, ${keyLength}]`);
    return mask.dataSync();
  }
  if (mask.length !== batch || mask.some((row) => row.length !== keyLength)) throw new Error(`attention mask rows must be ${batch} rows of ${keyLength}`);
  const flat = new Int32Array(batch * keyLength);
  mask.forEach((row, b) => flat.set(Array.from(row), b * keyLength));
  return flat;
}

/**
 * Runs the decoder on `inputIds` [batch, tokens] (int32) and returns the final hidden states
 * [batch, tokens, hidden] (after the last norm) and the key/value cache extended by these
 * tokens. Padding positions produce values that callers must mask out.
 */
export function forward(model: CausalLM, inputIds: tf.Tensor2D, options: ForwardOptions = {}): { hidden: tf.Tensor3D; cache: KvCache } {
  const c = model.config;
  const [batch, tokens] = inputIds.shape;
  const pastLength = options.cache?.length ?? 0;
  const keyLength = pastLength + tokens;
  if (options.segmentIds && (options.cache || options.attentionMask)) throw new Error('segmentIds replace the attention mask and take no cache');
  const layout = options.segmentIds
    ? packedAttentionLayout(options.segmentIds, batch, tokens, c.slidingWindow)
    : attentionLayout(maskValues(options.attentionMask, batch, keyLength), batch, tokens, c.slidingWindow);
  const ctx: Context = {
    model,
    mask: tf.tensor4d(layout.additiveMask, [batch, 1, tokens, keyLength]),
    past: options.cache,
    next: [],
    training: options.training ?? false,
  };
  let x: tf.Tensor;
  if (c.family === 'gpt2') {
    const last = layout.positions.reduce((a, b) => Math.max(a, b), 0);
    if (last >= c.maxPositions) throw new Error(`position ${last} is past GPT-2's n_positions (${c.maxPositions})`);
    const wte = tf.gather(param(model, `${GPT2_PREFIX}wte.weight`), inputIds);
    x = tf.add(wte, tf.gather(param(model, `${GPT2_PREFIX}wpe.weight`), tf.tensor2d(layout.positions, [batch, tokens], 'int32')));
    for (let i = 0; i < c.numLayers; i++) x = gpt2Block(ctx, x, i);
    x = layerNorm(x, param(model, `${GPT2_PREFIX}ln_f.weight`), param(model, `${GPT2_PREFIX}ln_f.bias`), c.normEps);
  } else {
    const { cos, sin } = ropeCosSin(model.ropeInvFreq, layout.positions);
    ctx.cos = tf.tensor4d(cos, [batch, 1, tokens, c.headDim]);
    ctx.sin = tf.tensor4d(sin, [batch, 1, tokens, c.headDim]);
    if (tf.getBackend() === 'wasm') ctx.rotation = rotateHalfMatrix(c.headDim);
    x = tf.gather(param(model, 'model.embed_tokens.weight'), inputIds);
    for (let i = 0; i < c.numLayers; i++) x = llamaBlock(ctx, x, i);
    x = rmsNorm(x, param(model, 'model.norm.weight'), c.normEps);
  }
  return { hidden: x as tf.Tensor3D, cache: { layers: ctx.next, length: keyLength } };
}

/** Output projection: hidden [..., hidden] → logits [..., vocab]. */
export function lmHead(model: CausalLM, hidden: tf.Tensor): tf.Tensor {
  const lead = hidden.shape.slice(0, -1);
  const h2 = tf.reshape(hidden, [-1, model.config.hiddenSize]);
  return tf.reshape(tf.matMul(h2, param(model, lmHeadName(model.config)), false, true), [...lead, model.config.vocabSize]);
}

export function logits(model: CausalLM, inputIds: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D {
  return lmHead(model, forward(model, inputIds, options).hidden) as tf.Tensor3D;
}

/** Filled by targetLogProbs' forward pass when asked: per row, 1 where the target is the model's top token (its logit is the largest), else 0. Kept: the caller disposes it. */
export interface TargetHits {
  value?: tf.Tensor1D;
}

/** Cap on the logits materialised at once when scoring tokens (floats): 16M = 64 MB. */
const LOGIT_CHUNK_ELEMENTS = 16 * 1024 * 1024;

/**
 * log p(targets[r] | hidden[r]) for rows of hidden states [rows, hidden]: the target's logit
 * minus logsumexp over the vocabulary. The [rows, vocab] logits are never alive beyond one
 * chunk of `chunkElements`, in the forward pass (row chunks) or the backward pass: a custom
 * gradient uses d logp / d logits = onehot - softmax, keeping the forward pass's softmax when
 * all rows fit in one chunk and recomputing each chunk's otherwise. With a 49k vocabulary that
 * is the difference between gigabytes and megabytes; with a small one, the recomputation (a
 * quarter of the head's work) is saved.
 *
 * The head weight is differentiated only when it is trainable: a frozen head (LoRA, whose
 * base weights are not trainable) gets no [vocab, hidden] weight gradient computed and thrown
 * away, so tf.grads / tf.variableGrads with respect to a non-trainable head weight finds no
 * path to it (tf.variableGrads skips non-trainable variables anyway).
 */
export function targetLogProbs(model: CausalLM, hidden: tf.Tensor2D, targets: ArrayLike<number>, chunkElements = LOGIT_CHUNK_ELEMENTS, hits?: TargetHits): tf.Tensor1D {
  const rows = hidden.shape[0];
  const vocab = model.config.vocabSize;
  if (targets.length !== rows) throw new Error(`${targets.length} targets for ${rows} rows`);
  const chunk = Math.max(1, Math.floor(chunkElements / vocab));
  const targetIds = Int32Array.from(targets);
  const chunks: Array<[start: number, size: number]> = [];
  for (let start = 0; start < rows; start += chunk) chunks.push([start, Math.min(chunk, rows - start)]);
  const single = chunks.length === 1;
  const rowsOf = (x: tf.Tensor2D, start: number, size: number) => (single ? x : tf.slice(x, [start, 0], [size, -1]));
  const weight = param(model, lmHeadName(model.config)) as tf.Variable<tf.Rank.R2>;

  /** Target log-probs of rows [start, start + size) of h, and their softmax [size, vocab]. */
  const chunkLogProbs = (h: tf.Tensor2D, w: tf.Tensor2D, start: number, size: number): [tf.Tensor1D, tf.Tensor2D] => {
    const z = tf.matMul(rowsOf(h, start, size), w, false, true);
    const probs = tf.softmax(z);
    const zMax = tf.max(z, -1);
    // logsumexp(z) = max(z) - log(max(softmax(z))), since softmax's largest entry is exactly
    // 1 / sum(exp(z - max(z))): one vectorised softmax instead of a separate exp pass over
    // [rows, vocab] (elementwise Exp is scalar code on wasm), and the softmax is the gradient's.
    const logSumExp = tf.sub(zMax, tf.log(tf.max(probs, -1)));
    const flatIndex = new Int32Array(size);
    for (let r = 0; r < size; r++) flatIndex[r] = r * vocab + targetIds[start + r]!;
    const targetLogit = tf.gather(tf.reshape(z, [-1]), tf.tensor1d(flatIndex, 'int32'));
    // The target is the top token when its logit is the largest (argmax up to exact ties), read off the logits already here.
    if (hits) hitChunks.push(tf.keep(tf.cast(tf.greaterEqual(targetLogit, zMax), 'float32') as tf.Tensor1D));
    return [tf.sub(targetLogit, logSumExp) as tf.Tensor1D, probs as tf.Tensor2D];
  };
  const hitChunks: tf.Tensor1D[] = [];
  const collectHits = () => {
    if (!hits) return;
    hits.value = hitChunks.length === 1 ? hitChunks[0]! : tf.keep(tf.concat(hitChunks) as tf.Tensor1D);
    if (hitChunks.length > 1) tf.dispose(hitChunks);
  };

  /** Forward over all chunks: the log-probs, and the softmax when there is a single chunk. */
  const forwardChunks = (h: tf.Tensor2D, w: tf.Tensor2D): { value: tf.Tensor1D; probs?: tf.Tensor2D } => {
    if (single) {
      const [value, probs] = chunkLogProbs(h, w, 0, rows);
      collectHits();
      return { value, probs };
    }
    const parts = chunks.map(([start, size]) => tf.tidy(() => chunkLogProbs(h, w, start, size)[0]));
    const value = tf.concat(parts) as tf.Tensor1D;
    tf.dispose(parts);
    collectHits();
    return { value };
  };

  /** d hidden, and d weight when the weight is differentiated. */
  const backward = (dy: tf.Tensor1D, hs: tf.Tensor2D, ws: tf.Tensor2D, kept: tf.Tensor2D | undefined, withWeight: boolean): [tf.Tensor2D, tf.Tensor2D | undefined] => {
    let dW: tf.Tensor2D | undefined;
    const dh: tf.Tensor2D[] = [];
    for (const [start, size] of chunks) {
      const result = tf.tidy(() => {
        const hc = rowsOf(hs, start, size);
        const p = kept ?? tf.softmax(tf.matMul(hc, ws, false, true));
        const g = tf.mul(tf.sub(tf.oneHot(tf.tensor1d(targetIds.subarray(start, start + size), 'int32'), vocab), p), tf.reshape(single ? dy : tf.slice(dy, [start], [size]), [size, 1]));
        const out: tf.Tensor2D[] = [tf.matMul(g, ws)];
        if (withWeight) {
          const dWChunk = tf.matMul(g, hc, true, false) as tf.Tensor2D;
          out.push(dW ? (tf.add(dW, dWChunk) as tf.Tensor2D) : dWChunk);
        }
        return out;
      });
      dh.push(result[0]!);
      if (withWeight) {
        dW?.dispose();
        dW = result[1]!;
      }
    }
    const dHidden = dh.length === 1 ? dh[0]! : (tf.concat(dh) as tf.Tensor2D);
    if (dh.length > 1) tf.dispose(dh);
    return [dHidden, dW];
  };

  if (weight.trainable) {
    const headLogProbs = tf.customGrad((h, w, save) => {
      const { value, probs } = forwardChunks(h as tf.Tensor2D, w as tf.Tensor2D);
      (save as tf.GradSaveFunc)(probs ? [h as tf.Tensor2D, w as tf.Tensor2D, probs] : [h as tf.Tensor2D, w as tf.Tensor2D]);
      return {
        value,
        gradFunc: (dy: tf.Tensor1D, saved: tf.Tensor[]) => {
          const [hs, ws, kept] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D | undefined];
          const [dHidden, dW] = backward(dy, hs, ws, kept, true);
          return [dHidden, dW!];
        },
      };
    });
    return headLogProbs(hidden, weight);
  }
  const frozenHeadLogProbs = tf.customGrad((h, save) => {
    const { value, probs } = forwardChunks(h as tf.Tensor2D, weight);
    (save as tf.GradSaveFunc)(probs ? [h as tf.Tensor2D, probs] : [h as tf.Tensor2D]);
    return {
      value,
      gradFunc: (dy: tf.Tensor1D, saved: tf.Tensor[]) => {
        const [hs, kept] = saved as [tf.Tensor2D, tf.Tensor2D | undefined];
        return [backward(dy, hs, weight, kept, false)[0]];
      },
    };
  });
  return frozenHeadLogProbs(hidden);
}

/**
 * Next-token log-probabilities: entry [b, t] is log p(inputIds[b, t+1] | inputIds[b, ..t]),
 * shape [batch, tokens - 1]. Entries whose target or context is padding are meaningless and
 * must be masked by the caller.
 */
export function tokenLogProbs(model: CausalLM, inputIds: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor2D {
  const [batch, tokens] = inputIds.shape;
  if (tokens < 2) return tf.zeros([batch, 0]);
  const { hidden } = forward(model, inputIds, options);
  const h = tf.reshape(tf.slice(hidden, [0, 0, 0], [batch, tokens - 1, -1]), [batch * (tokens - 1), model.config.hiddenSize]) as tf.Tensor2D;
  const ids = inputIds.dataSync();
  const targets = new Int32Array(batch * (tokens - 1));
  for (let b = 0; b < batch; b++) targets.set(ids.subarray(b * tokens + 1, (b + 1) * tokens), b * (tokens - 1));
  return tf.reshape(targetLogProbs(model, h, targets), [batch, tokens - 1]);
}

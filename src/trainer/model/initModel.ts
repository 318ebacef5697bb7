import { ARCHITECTURE_TRAITS, SUPPORTED_ARCHITECTURES } from './architectures.ts';
import { makeDirs } from '../../core/files/makeDirs.ts';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SAMPLE_ITEMS } from '../../core/dataset/sampleContent.ts';
import { byteLevelTokenizerJson, trainByteLevelBpe, type TrainedBpe } from '../tokenizer/byteLevelBpe.ts';
import { CHATML_SPECIAL_TOKENS, ENDOFTEXT, IM_END, chatmlTokenizerConfig } from '../tokenizer/chatml.ts';
import { parseModelConfig, type ModelConfig } from './modelConfig.ts';
import { CONFIG_FILE, GENERATION_CONFIG_FILE, WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from './modelFolder.ts';
import { parameterSpecs, type ParameterSpec } from './parameterSpecs.ts';
import { SeededRandom, deriveSeed } from './random.ts';
import { writeSafetensors, type TensorToWrite, type WritableDtype } from './safetensors.ts';

/**
 * `init-model`: a randomly initialised model in exactly the Hugging Face layout, with a real
 * byte-level BPE tokenizer trained on the built-in sample texts, for tests, demos and trying
 * the training loop end to end without downloading anything.
 */

export const INIT_ARCHS = ['llama', 'qwen2', 'qwen3', 'mistral', 'gpt2'] as const;
export type InitArch = (typeof INIT_ARCHS)[number];
export const INIT_SIZES = ['tiny', 'small'] as const;
export type InitSize = (typeof INIT_SIZES)[number];

export interface InitModelOptions {
  arch: InitArch;
  size?: InitSize;
  seed?: number;
  /** Merged into config.json last (tests use it for rope_scaling, initializer_range, ...). */
  configOverrides?: Record<string, unknown>;
  /** Stored weight type (default F32). */
  dtype?: WritableDtype;
  /** Split the weights over this many shards with an index (default 1: model.safetensors). */
  shards?: number;
  /** Replace a non-empty folder. */
  overwrite?: boolean;
  /**
   * Draw norm gains (1 + noise) and biases (noise) at random too, instead of ones and zeros,
   * so that a test can tell apart mistakes the standard init would hide (a norm gain or a bias
   * applied wrongly changes nothing when it is 1 or 0).
   */
  randomizeAll?: boolean;
}

export interface InitModelResult {
  config: ModelConfig;
  parameters: number;
  weightBytes: number;
}

const SPECIAL_IDS = { endoftext: 0, imStart: 1, imEnd: 2 };

/** Tokenizer vocabulary for each size; `small` is then padded to its model's embedding size. */
const TOKENIZER_VOCAB: Record<InitSize, number> = { tiny: 1024, small: 8192 };

const trainedTokenizers = new Map<InitSize, TrainedBpe>();

/** The tokenizer of a size, trained once per process (it is the same every time). */
function sizeTokenizer(size: InitSize): TrainedBpe {
  let bpe = trainedTokenizers.get(size);
  if (!bpe) {
    const text = SAMPLE_ITEMS.map((item) => [item.system ?? '', item.instruction, item.input ?? '', item.chosen, item.rejected].join('\n')).join('\n\n');
    bpe = trainByteLevelBpe(text, { vocabSize: TOKENIZER_VOCAB[size], specialTokens: CHATML_SPECIAL_TOKENS });
    trainedTokenizers.set(size, bpe);
  }
  return bpe;
}

/** config.json for an architecture and size, before overrides. `small` follows SmolLM2-135M (GPT-2: GPT-2 124M). */
export function initConfigJson(arch: InitArch, size: InitSize, tokenizerVocab: number): Record<string, unknown> {
  const ids = { bos_token_id: SPECIAL_IDS.endoftext, eos_token_id: SPECIAL_IDS.imEnd, pad_token_id: SPECIAL_IDS.endoftext };
  if (arch === 'gpt2') {
    const dims = size === 'tiny' ? { n_embd: 64, n_layer: 2, n_head: 4, n_positions: 512, vocab_size: tokenizerVocab } : { n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, vocab_size: 50257 };
    return {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      ...dims,
      n_inner: null,
      activation_function: 'gelu_new',
      layer_norm_epsilon: 1e-5,
      initializer_range: 0.02,
      resid_pdrop: 0.1,
      embd_pdrop: 0.1,
      attn_pdrop: 0.1,
      scale_attn_weights: true,
      tie_word_embeddings: true,
      ...ids,
      torch_dtype: 'float32',
    };
  }
  const dims =
    size === 'tiny'
      ? { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 192, vocab_size: tokenizerVocab, max_position_embeddings: 512, rope_theta: 10000 }
      : { hidden_size: 576, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, intermediate_size: 1536, vocab_size: 49152, max_position_embeddings: 8192, rope_theta: 100000 };
  const architecture = SUPPORTED_ARCHITECTURES.find((a) => ARCHITECTURE_TRAITS[a].modelType === arch)!;
  return {
    architectures: [architecture],
    model_type: arch,
    ...dims,
    hidden_act: 'silu',
    rms_norm_eps: 1e-5,
    initializer_range: 0.02,
    tie_word_embeddings: true,
    rope_scaling: null,
    attention_dropout: 0,
    ...(arch === 'llama' ? { attention_bias: false, mlp_bias: false } : {}),
    ...(arch === 'qwen2' ? { use_sliding_window: false, sliding_window: null, max_window_layers: dims.num_hidden_layers } : {}),
    // Qwen3 sets head_dim on its own (Qwen3-4B: 128 with hidden 2560 and 32 heads); the tiny one
    // makes it differ from hidden / heads too, so nothing can silently assume they are equal.
    ...(arch === 'qwen3'
      ? { head_dim: size === 'tiny' ? 32 : 64, attention_bias: false, use_sliding_window: false, sliding_window: null, max_window_layers: dims.num_hidden_layers }
      : {}),
    ...(arch === 'mistral' ? { sliding_window: 4096 } : {}),
    ...ids,
    torch_dtype: 'float32',
  };
}

function initialValues(spec: ParameterSpec, seed: number, randomizeAll: boolean): () => Float32Array {
  return () => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    // One stream per tensor: the weights do not depend on the order they are made in.
    const random = new SeededRandom(deriveSeed(seed, spec.name));
    if (spec.init === 'normal') return random.fillNormal(new Float32Array(size), spec.std);
    if (!randomizeAll) return new Float32Array(size).fill(spec.init === 'ones' ? 1 : 0);
    const values = random.fillNormal(new Float32Array(size), 0.2);
    if (spec.init === 'ones') for (let i = 0; i < size; i++) values[i]! += 1;
    return values;
  };
}

/**
 * Writes the folder: config.json, generation_config.json, tokenizer.json,
 * tokenizer_config.json and the weights, all into a temporary sibling folder that is renamed
 * into place at the end, so `dir` is never seen half-written. Weights are made and written one
 * tensor at a time.
 */
export function initModel(dir: string, options: InitModelOptions): InitModelResult {
  const size = options.size ?? 'tiny';
  const seed = options.seed ?? 0;
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0 && !options.overwrite) throw new Error(`${dir} already exists and is not empty`);

  const bpe = sizeTokenizer(size);
  const tokenizerVocab = Object.keys(bpe.vocab).length;
  if (bpe.vocab[ENDOFTEXT] !== SPECIAL_IDS.endoftext || bpe.vocab[IM_END] !== SPECIAL_IDS.imEnd) throw new Error('special token ids moved');
  const configJson = { ...initConfigJson(options.arch, size, tokenizerVocab), ...options.configOverrides };
  const config = parseModelConfig(configJson, 'generated config');
  if (config.vocabSize < tokenizerVocab) throw new Error(`vocab_size ${config.vocabSize} is smaller than the tokenizer's ${tokenizerVocab} tokens`);
  const specs = parameterSpecs(config);

  makeDirs(dirname(target));
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  mkdirSync(temp);
  try {
    const json = (name: string, value: unknown) => writeFileSync(join(temp, name), JSON.stringify(value, null, 2) + '\n');
    json(CONFIG_FILE, configJson);
    json(GENERATION_CONFIG_FILE, { bos_token_id: SPECIAL_IDS.endoftext, eos_token_id: [SPECIAL_IDS.imEnd, SPECIAL_IDS.endoftext], pad_token_id: SPECIAL_IDS.endoftext, do_sample: false });
    json('tokenizer.json', byteLevelTokenizerJson(bpe));
    json('tokenizer_config.json', chatmlTokenizerConfig(config.family === 'gpt2' ? config.maxPositions : Math.min(config.maxPositions, 8192)));

    const dtype = options.dtype ?? 'F32';
    const bytesPer = dtype === 'F32' ? 4 : 2;
    const tensors: TensorToWrite[] = specs.map((spec) => ({ name: spec.name, shape: spec.shape, dtype, data: initialValues(spec, seed, options.randomizeAll ?? false) }));
    const metadata = { format: 'pt' };
    const shards = Math.max(1, Math.min(options.shards ?? 1, tensors.length));
    if (shards === 1) {
      writeSafetensors(join(temp, WEIGHTS_FILE), tensors, metadata);
    } else {
      const weightMap: Record<string, string> = {};
      const per = Math.ceil(tensors.length / shards);
      for (let s = 0; s < shards; s++) {
        const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
        const part = tensors.slice(s * per, (s + 1) * per);
        for (const t of part) weightMap[t.name] = file;
        writeSafetensors(join(temp, file), part, metadata);
      }
      const totalSize = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPer, 0);
      json(WEIGHTS_INDEX_FILE, { metadata: { total_size: totalSize }, weight_map: weightMap });
    }
    if (existsSync(target)) rmSync(target, { recursive: true, force: true });
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  const parameters = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  return { config, parameters, weightBytes: parameters * (options.dtype === undefined || options.dtype === 'F32' ? 4 : 2) };
}

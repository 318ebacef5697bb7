import { initModel } from '../src/trainer/model/initModel.ts';

/**
 * The small Llama the training benchmarks share (hidden 256, 4 layers, 4 heads, 2 KV heads,
 * intermediate 688, vocab 8192), so their figures describe the same model and can be read
 * side by side.
 */
export const BENCH_SHAPE = { hidden: 256, layers: 4, heads: 4, kvHeads: 2, intermediate: 688, vocab: 8192 };

/** Writes that model (random weights, the tiny tokenizer padded to its vocabulary) into `dir`. */
export function writeBenchModel(dir: string): string {
  const s = BENCH_SHAPE;
  initModel(dir, {
    arch: 'llama',
    size: 'tiny',
    configOverrides: { hidden_size: s.hidden, num_hidden_layers: s.layers, num_attention_heads: s.heads, num_key_value_heads: s.kvHeads, intermediate_size: s.intermediate, vocab_size: s.vocab },
  });
  return dir;
}

/**
 * A real, small byte-level BPE tokenizer (GPT-2's scheme, Sennrich et al. 2016 on bytes), trained
 * here on a built-in text so that `init-model` can write a complete Hugging Face folder without
 * downloading anything. The output is a `tokenizer.json` that @huggingface/tokenizers (and the
 * Rust `tokenizers` library) load.
 */

/** GPT-2's bytes_to_unicode: each byte gets a printable character, so tokens are readable strings. */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = '!'.charCodeAt(0); b <= '~'.charCodeAt(0); b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table: string[] = new Array(256);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    if (printable.includes(b)) table[b] = String.fromCharCode(b);
    else table[b] = String.fromCharCode(256 + next++);
  }
  return table;
}

/** The ByteLevel pre-tokenizer's split (GPT-2's pattern): words keep their leading space. */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface BpeTrainingOptions {
  /** Size of the tokenizer's vocabulary: special tokens + 256 bytes + merges. */
  vocabSize: number;
  /** Added first, with ids 0, 1, ... */
  specialTokens: readonly string[];
}

export interface TrainedBpe {
  vocab: Record<string, number>;
  merges: string[];
  specialTokens: Array<{ id: number; content: string }>;
}

/** Max-heap of candidate pairs: most frequent first, then the pair that sorts first. */
class PairHeap {
  private items: Array<[number, string]> = [];
  push(count: number, pair: string): void {
    const items = this.items;
    items.push([count, pair]);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): [number, string] | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && this.before(items[l]!, items[best]!)) best = l;
        if (r < items.length && this.before(items[r]!, items[best]!)) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top;
  }
  private before(a: [number, string], b: [number, string]): boolean {
    return a[0] !== b[0] ? a[0] > b[0] : a[1] < b[1];
  }
}

/**
 * Learns merges from `text`: repeatedly joins the most frequent adjacent pair of symbols inside
 * pre-tokenized words, until the vocabulary is full or no pair occurs twice. Deterministic.
 */
export function trainByteLevelBpe(text: string, options: BpeTrainingOptions): TrainedBpe {
  const byteChars = bytesToUnicode();
  const encoder = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const match of text.matchAll(GPT2_SPLIT)) {
    const word = Array.from(encoder.encode(match[0]), (b) => byteChars[b]!).join('');
    wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
  }
  const words = [...wordCounts].map(([word, count]) => ({ symbols: [...word], count }));

  const vocab: Record<string, number> = {};
  const specialTokens = options.specialTokens.map((content, id) => ({ id, content }));
  for (const { id, content } of specialTokens) vocab[content] = id;
  let nextId = specialTokens.length;
  for (const ch of byteChars) vocab[ch] = nextId++;

  // Pair statistics, updated incrementally as merges rewrite the words that contain them.
  const pairCounts = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1) => {
    const { symbols, count } = words[w]!;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const pair = `${symbols[i]} ${symbols[i + 1]}`;
      pairCounts.set(pair, (pairCounts.get(pair) ?? 0) + sign * count);
      if (sign > 0) {
        let set = pairWords.get(pair);
        if (!set) pairWords.set(pair, (set = new Set()));
        set.add(w);
      }
    }
  };
  words.forEach((_, w) => addPairs(w, 1));
  const heap = new PairHeap();
  for (const [pair, count] of pairCounts) heap.push(count, pair);

  const merges: string[] = [];
  while (nextId < options.vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const [count, pair] = top;
    if (pairCounts.get(pair) !== count) continue; // stale entry
    if (count < 2) break;
    const [left, right] = pair.split(' ') as [string, string];
    const merged = left + right;
    merges.push(pair);
    if (!(merged in vocab)) vocab[merged] = nextId++;
    const touched = new Set<string>();
    for (const w of pairWords.get(pair) ?? []) {
      const word = words[w]!;
      for (let i = 0; i + 1 < word.symbols.length; i++) touched.add(`${word.symbols[i]} ${word.symbols[i + 1]}`);
      addPairs(w, -1);
      const out: string[] = [];
      for (let i = 0; i < word.symbols.length; i++) {
        if (i + 1 < word.symbols.length && word.symbols[i] === left && word.symbols[i + 1] === right) {
          out.push(merged);
          i++;
        } else out.push(word.symbols[i]!);
      }
      word.symbols = out;
      addPairs(w, 1);
      for (let i = 0; i + 1 < out.length; i++) touched.add(`${out[i]} ${out[i + 1]}`);
    }
    pairCounts.delete(pair);
    pairWords.delete(pair);
    touched.delete(pair);
    for (const p of touched) {
      const c = pairCounts.get(p);
      if (c !== undefined && c > 0) heap.push(c, p);
    }
  }
  return { vocab, merges, specialTokens };
}

/** The tokenizer.json of a GPT-2-style byte-level BPE (no normalizer, no automatic BOS/EOS). */
export function byteLevelTokenizerJson(bpe: TrainedBpe): Record<string, unknown> {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: bpe.specialTokens.map(({ id, content }) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: bpe.vocab,
      merges: bpe.merges,
    },
  };
}

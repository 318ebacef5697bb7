import type { TextTokenizer } from '../src/trainer/tokenizer/textTokenizer.ts';

/** Words the tokenizer keeps as one token each, so texts have exactly the lengths wanted. */
export function singleTokenWords(tokenizer: TextTokenizer): string[] {
  const words: string[] = [];
  for (let id = 0; id < tokenizer.vocabSize && words.length < 200; id++) {
    const token = tokenizer.idToToken(id);
    if (!token || !/^Ġ[a-z]{3,}$/.test(token)) continue;
    const word = token.slice(1);
    if (tokenizer.encode(` ${word}`).length === 1) words.push(word);
  }
  return words;
}

/** `n` of those words (so `n` tokens), picked by `seed`. */
export function text(words: string[], n: number, seed: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += ` ${words[(i * 7919 + seed * 104729) % words.length]}`;
  return out;
}

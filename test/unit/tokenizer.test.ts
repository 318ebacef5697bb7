import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { byteLevelTokenizerJson, bytesToUnicode, trainByteLevelBpe } from '../../src/trainer/tokenizer/byteLevelBpe.ts';
import { CHATML_TEMPLATE } from '../../src/trainer/tokenizer/chatml.ts';
import { tokenizePair, truncatePair } from '../../src/trainer/tokenizer/pairTokens.ts';
import { TextTokenizer } from '../../src/trainer/tokenizer/textTokenizer.ts';

const dir = mkdtempSync(join(tmpdir(), 'dpo-tokenizer-'));
let tokenizer: TextTokenizer;

before(() => {
  initModel(join(dir, 'm'), { arch: 'llama' });
  tokenizer = TextTokenizer.fromFolder(join(dir, 'm'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('byte-level BPE written by init-model', () => {

  it('learns the most frequent pairs first, deterministically', () => {
    const bpe = trainByteLevelBpe('ab ab ab xy', { vocabSize: 300, specialTokens: ['<s>'] });
    // "ab" occurs 3 times (once bare, twice after a space, 'Ġ'), then "Ġab" twice.
    assert.deepEqual(bpe.merges, ['a b', 'Ġ ab']);
    assert.equal(bpe.vocab['<s>'], 0);
    assert.equal(bpe.vocab[bytesToUnicode()[0]!], 1);
    assert.equal(bpe.vocab['ab'], 257);
    assert.equal(bpe.vocab['Ġab'], 258);
    assert.deepEqual(trainByteLevelBpe('ab ab ab xy', { vocabSize: 300, specialTokens: ['<s>'] }), bpe);
    assert.deepEqual(Object.keys(byteLevelTokenizerJson(bpe)).sort(), ['added_tokens', 'decoder', 'model', 'normalizer', 'padding', 'post_processor', 'pre_tokenizer', 'truncation', 'version']);
  });

  it('round-trips any text exactly and merges common English', () => {
    for (const text of ['Hello, world!', '  two  spaces\tand a tab\n\nnewlines ', 'ünïcödé — 한국어 — emoji 🙂', "it's don't we'll", 'x = [1, 2, 3]; print(x)']) {
      assert.equal(tokenizer.decode(tokenizer.encode(text)), text);
    }
    const english = 'The function returns the sum of the numbers in the list.';
    assert.ok(tokenizer.encode(english).length < english.length / 2, 'merges shorten English text');
    assert.equal(tokenizer.vocabSize, 1024);
  });

  it('keeps special tokens whole and knows EOS, padding and stop ids', () => {
    assert.deepEqual(tokenizer.encode('<|im_start|>user\nhi<|im_end|>').filter((id) => id < 3), [1, 2]);
    assert.equal(tokenizer.eosToken, '<|im_end|>');
    assert.equal(tokenizer.eosTokenId, 2);
    assert.equal(tokenizer.padTokenId, 0);
    assert.equal(tokenizer.bosTokenId, 0);
    assert.deepEqual([...tokenizer.stopTokenIds].sort(), [0, 2]);
    assert.equal(tokenizer.decode([1, 2], { skipSpecialTokens: true }), '');
    const config = JSON.parse(readFileSync(join(dir, 'm', 'tokenizer_config.json'), 'utf8'));
    assert.equal(config.chat_template, CHATML_TEMPLATE);
  });

  it('renders ChatML with and without the generation prompt', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ];
    assert.equal(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }), '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    assert.equal(tokenizer.applyChatTemplate([...messages, { role: 'assistant', content: 'Hello.' }]), '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n');
  });
});

describe('preference records to tokens (as TRL)', () => {
  const text = (ids: number[]) => tokenizer.decode(ids);

  it('standard: prompt and answers tokenized apart, EOS after each answer', () => {
    const pair = tokenizePair(tokenizer, { prompt: 'What is 2+2?', chosen: ' 4', rejected: ' 5' }, 'standard');
    assert.deepEqual(pair.promptIds, tokenizer.encode('What is 2+2?'));
    assert.deepEqual(pair.chosenIds, [...tokenizer.encode(' 4'), 2]);
    assert.deepEqual(pair.rejectedIds, [...tokenizer.encode(' 5'), 2]);
    assert.deepEqual(pair.warnings, []);
  });

  it('instruction: instruction, a blank line, then the input', () => {
    const pair = tokenizePair(tokenizer, { prompt: { instruction: 'Translate to French.', input: 'Good morning' }, chosen: 'Bonjour', rejected: 'Hola' }, 'instruction');
    assert.equal(text(pair.promptIds), 'Translate to French.\n\nGood morning');
  });

  it('conversational: the answer is the templated conversation minus the templated prompt', () => {
    const prompt = [{ role: 'user', content: 'Name a color.' }];
    const pair = tokenizePair(tokenizer, { prompt, chosen: [{ role: 'assistant', content: 'Blue.' }], rejected: [{ role: 'assistant', content: 'Seven.' }] }, 'conversational');
    assert.equal(text(pair.promptIds), '<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\n');
    assert.equal(text(pair.chosenIds), 'Blue.<|im_end|>\n');
    assert.equal(text(pair.rejectedIds), 'Seven.<|im_end|>\n');
    assert.deepEqual(pair.warnings, []);
  });

  it('warns when the prompt tokens are not a prefix of the whole conversation', () => {
    // The generation prompt ends with a space that BPE joins to the answer's first word.
    const tokenizerJson = JSON.parse(readFileSync(join(dir, 'm', 'tokenizer.json'), 'utf8'));
    const template = "{% for m in messages %}{{ m['role'] + ': ' + m['content'] + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}";
    const odd = new TextTokenizer({ tokenizerJson, tokenizerConfig: { chat_template: template, eos_token: '<|im_end|>' } });
    const pair = tokenizePair(odd, { prompt: [{ role: 'user', content: 'hi' }], chosen: [{ role: 'assistant', content: 'hello' }], rejected: [{ role: 'assistant', content: 'bye' }] }, 'conversational');
    assert.equal(pair.warnings.length, 2);
    assert.match(pair.warnings[0]!, /tokens of the prompt are not a prefix of the tokens of prompt \+ chosen/);
  });

  it('implicit prompts are split off the shared start; labelled candidates become pairs', () => {
    const implicit = tokenizePair(tokenizer, { chosen: '\n\nHuman: Hi\n\nAssistant: Hello there.', rejected: '\n\nHuman: Hi\n\nAssistant: Go away.' }, 'implicit');
    assert.equal(text(implicit.promptIds), '\n\nHuman: Hi\n\nAssistant:');
    assert.equal(text(implicit.chosenIds), ' Hello there.<|im_end|>');
    const turns = tokenizePair(
      tokenizer,
      { chosen: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello.' }], rejected: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'No.' }] },
      'implicit',
    );
    assert.equal(text(turns.promptIds), '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    assert.equal(text(turns.rejectedIds), 'No.<|im_end|>\n');
    const candidates = tokenizePair(tokenizer, { prompt: 'Pick', candidates: ['a', { text: 'b' }, 'c'], best: 1, worst: 2 }, 'candidates');
    assert.equal(text(candidates.chosenIds), 'b<|im_end|>');
    assert.equal(text(candidates.rejectedIds), 'c<|im_end|>');
    assert.throws(() => tokenizePair(tokenizer, { prompt: 'Pick', candidates: ['a', 'b'] }, 'candidates'), /label it first/);
  });

  it('truncates like TRL: max_prompt_length keeps the end, max_length trims the prompt start or the answers', () => {
    const pair = { promptIds: [1, 2, 3, 4, 5, 6], chosenIds: [10, 11, 12], rejectedIds: [20, 21, 22, 23, 24], warnings: [] };
    assert.deepEqual(truncatePair(pair, { maxPromptLength: 4 }).promptIds, [3, 4, 5, 6]);
    assert.deepEqual(truncatePair(pair, { maxPromptLength: 4, truncationMode: 'keep_start' }).promptIds, [1, 2, 3, 4]);
    const end = truncatePair(pair, { maxLength: 8 });
    assert.deepEqual([end.promptIds, end.chosenIds, end.rejectedIds], [[4, 5, 6], [10, 11, 12], [20, 21, 22, 23, 24]]);
    assert.equal(end.warnings.length, 1);
    const start = truncatePair(pair, { maxLength: 8, truncationMode: 'keep_start' });
    assert.deepEqual([start.promptIds, start.chosenIds, start.rejectedIds], [[1, 2, 3, 4, 5, 6], [10, 11], [20, 21]]);
    // The prompt keeps one token even when it alone is too long.
    const tight = truncatePair(pair, { maxLength: 3 });
    assert.deepEqual([tight.promptIds, tight.chosenIds, tight.rejectedIds], [[6], [10, 11], [20, 21]]);
    assert.deepEqual(truncatePair(pair, { maxLength: 100 }), pair);
  });
});

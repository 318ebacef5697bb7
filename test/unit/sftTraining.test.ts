import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { packBestFitDecreasing, packingReport } from '../../src/core/training/packing.ts';
import { parseTrainingConfig } from '../../src/core/config/trainingConfig.ts';
import { sftConfigTemplate } from '../../src/core/training/configTemplate.ts';
import { stageConfigs } from '../../src/core/config/stages.ts';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { disposeModel, type CausalLM } from '../../src/trainer/model/causalLM.ts';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';
import { packedAttentionLayout, MASKED } from '../../src/trainer/model/attentionLayout.ts';
import { tokenizeSft, truncateSft } from '../../src/trainer/tokenizer/sftTokens.ts';
import { TextTokenizer } from '../../src/trainer/tokenizer/textTokenizer.ts';
import { sftMicroBatchEval } from '../../src/trainer/train/sftStep.ts';
import type { SftExample } from '../../src/trainer/train/trainingData.ts';

describe('packing (best-fit decreasing, as TRL packs)', () => {
  it('puts each record, longest first, into the open sequence with the least room that holds it', () => {
    // 10 → new A (room 2); 7 → new B (room 5); 6 → new C (room 6); 3 → B (5 is the least room that holds it; B has 2 left);
    // 2 → A (rooms of 2: A opened first); 2 → B.
    assert.deepEqual(packBestFitDecreasing([3, 10, 2, 7, 6, 2], 12), [[1, 2], [3, 0, 5], [4]]);
  });

  it('keeps file order among equal lengths and fills equal rooms in the order they opened', () => {
    assert.deepEqual(packBestFitDecreasing([4, 4, 4, 4, 4], 8), [[0, 1], [2, 3], [4]]);
    assert.deepEqual(packBestFitDecreasing([5, 5, 3, 3], 8), [[0, 2], [1, 3]]);
  });

  it('says how much padding packing saves', () => {
    const lengths = [3, 10, 2, 7, 6, 2];
    const report = packingReport(lengths, packBestFitDecreasing(lengths, 12), 12);
    assert.deepEqual(report, { records: 6, sequences: 3, tokens: 30, unpackedPadding: 6 * 12 - 30, packedPadding: 3 * 12 - 30 });
  });

  it('refuses a record longer than a sequence (records are cut to max_length first)', () => {
    assert.throws(() => packBestFitDecreasing([13], 12), /record 0 has 13 tokens/);
  });
});

describe('packed attention', () => {
  it('is block-diagonal and causal, with positions restarting per record and padding seeing nothing', () => {
    const layout = packedAttentionLayout([1, 1, 2, 2, 2, 0], 1, 6);
    assert.deepEqual([...layout.positions], [0, 1, 0, 1, 2, 0]);
    const visible = (q: number) => [...layout.additiveMask.subarray(q * 6, q * 6 + 6)].map((v) => (v === MASKED ? 0 : 1));
    assert.deepEqual(visible(1), [1, 1, 0, 0, 0, 0]);
    assert.deepEqual(visible(2), [0, 0, 1, 0, 0, 0]);
    assert.deepEqual(visible(4), [0, 0, 1, 1, 1, 0]);
    assert.deepEqual(visible(5), [0, 0, 0, 0, 0, 0]);
  });
});

describe('SFT on the tiny model', () => {
  let dir: string;
  let model: CausalLM;
  let tokenizer: TextTokenizer;
  before(async () => {
    await initBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'dpo-sft-unit-'));
    initModel(join(dir, 'model'), { arch: 'llama', size: 'tiny', seed: 3 });
    model = loadModel(join(dir, 'model'));
    tokenizer = TextTokenizer.fromFolder(join(dir, 'model'));
  });
  after(() => {
    disposeModel(model);
    rmSync(dir, { recursive: true, force: true });
  });

  it('trains on the assistant turns of a conversation, every one of them, and on nothing else', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Colour of the sky?' },
      { role: 'assistant', content: 'blue' },
      { role: 'user', content: 'And grass?' },
      { role: 'assistant', content: 'green' },
    ];
    const tokens = tokenizeSft(tokenizer, { messages }, 'messages', { completionOnlyLoss: true });
    assert.deepEqual(tokens.warnings, []);
    const trained: number[][] = [];
    tokens.labelMask.forEach((bit, i) => {
      if (bit !== 1) return;
      if (i > 0 && tokens.labelMask[i - 1] === 1) trained.at(-1)!.push(tokens.inputIds[i]!);
      else trained.push([tokens.inputIds[i]!]);
    });
    assert.deepEqual(trained.map((ids) => tokenizer.decode(ids)), ['blue<|im_end|>\n', 'green<|im_end|>\n']);
    assert.equal(tokenizer.decode(tokens.inputIds), tokenizer.applyChatTemplate(messages));
  });

  it('trains the output of an instruction record after its prompt, EOS included, and everything without completion_only_loss', () => {
    const record = { instruction: 'Name a colour.', output: 'red' };
    const masked = tokenizeSft(tokenizer, record, 'alpaca', { completionOnlyLoss: true });
    const trained = masked.inputIds.filter((_, i) => masked.labelMask[i] === 1);
    assert.equal(tokenizer.decode(trained), `red${tokenizer.eosToken}`);
    const all = tokenizeSft(tokenizer, record, 'alpaca', { completionOnlyLoss: false });
    assert.ok(all.labelMask.every((bit) => bit === 1));
  });

  it('cuts an over-long record at its end, as TRL does, and says so', () => {
    const tokens = tokenizeSft(tokenizer, { text: 'one two three four five six seven eight' }, 'text', { completionOnlyLoss: true });
    const cut = truncateSft(tokens, 4);
    assert.deepEqual(cut.inputIds, tokens.inputIds.slice(0, 4));
    assert.match(cut.warnings.at(-1)!, /cut from \d+ to 4 tokens \(max_length\)/);
  });

  it('gives a packed record exactly the loss it has alone', () => {
    const a = tokenizeSft(tokenizer, { prompt: 'The sky is', completion: ' blue.' }, 'prompt-completion', { completionOnlyLoss: true });
    const b = tokenizeSft(tokenizer, { text: 'Grass is green and the sea is wide.' }, 'text', { completionOnlyLoss: true });
    const ctx = { policy: model, trainables: new Map<string, tf.Variable>(), padTokenId: tokenizer.padTokenId };
    const alone = (t: typeof a): SftExample => ({ index: 0, line: 1, inputIds: t.inputIds, labelMask: t.labelMask });
    const separate = sftMicroBatchEval(ctx, [alone(a), alone(b)]);
    const packed = sftMicroBatchEval(ctx, [{ index: 0, line: 1, inputIds: [...a.inputIds, ...b.inputIds], labelMask: [...a.labelMask, ...b.labelMask], seqLengths: [a.inputIds.length, b.inputIds.length] }]);
    assert.equal(packed.targets, separate.targets);
    assert.ok(Math.abs(packed.nll - separate.nll) < 1e-4 * separate.nll, `packed ${packed.nll} vs separate ${separate.nll}`);
    assert.equal(packed.correct, separate.correct);
  });
});

describe('SFT config', () => {
  it('the SFT template is a valid config that trains SFT, as written', () => {
    for (const evalPath of ['data/eval.jsonl', undefined]) {
      const text = sftConfigTemplate({ modelName: 'models/tiny-llama', trainPath: 'data/train.jsonl', evalPath, outputDir: 'outputs/sft' });
      const { config, problems } = parseTrainingConfig(text, 'my-run.sft.yaml');
      assert.deepEqual(problems, []);
      assert.equal(config?.training.stage, 'sft');
      assert.equal(config?.sft.completion_only_loss, true);
      assert.equal(config?.data.eval_path, evalPath);
    }
  });

  it('takes the guide train.py flags, and says which keys of the other stage are ignored', () => {
    const { config } = parseTrainingConfig('model:\n  name: m\n', 'x.yaml', { stage: 'sft', model_name: 'meta-llama/Llama-2-7b-hf', dataset_path: 'data/train.json', output_dir: 'outputs/sft_model', use_lora: 'true', num_epochs: '3', packing: 'true' });
    assert.equal(config?.training.stage, 'sft');
    assert.equal(config?.model.name, 'meta-llama/Llama-2-7b-hf');
    assert.equal(config?.sft.packing, true);
    const sftWithDpoKeys = parseTrainingConfig('model:\n  name: m\ndata:\n  train_path: t.jsonl\ndpo:\n  beta: 0.3\ntraining:\n  stage: sft\n  learning_rate: 2.0e-4\n', 'x.yaml');
    assert.deepEqual(sftWithDpoKeys.problems.map((p) => [p.code, p.line, p.pointer]), [['config-unused-option', 6, '/dpo/beta']]);
    const dpoWithSftKeys = parseTrainingConfig('model:\n  name: m\ndata:\n  train_path: t.jsonl\nsft:\n  packing: true\n', 'x.yaml');
    assert.deepEqual(dpoWithSftKeys.problems.map((p) => [p.code, p.pointer]), [['config-unused-option', '/sft/packing']]);
  });
});

describe('stages: [sft, dpo] in one config', () => {
  const STAGED = [
    'model:',
    '  name: base/model',
    'stages: [sft, dpo]',
    'sft:',
    '  packing: true',
    '  data:',
    '    train_path: data/sft.jsonl',
    '  training:',
    '    output_dir: outputs/sft',
    '    learning_rate: 2.0e-4',
    '  lora:',
    '    r: 4',
    'dpo:',
    '  beta: 0.2',
    'data:',
    '  train_path: data/pairs.jsonl',
    '  max_length: 128',
    'training:',
    '  output_dir: outputs/dpo',
    '  learning_rate: 5.0e-7',
    '  batch_size: 2',
    '',
  ].join('\n');

  it("gives each stage the shared sections with its own keys over them, and DPO the SFT run's output to start from", () => {
    const { config, problems } = parseTrainingConfig(STAGED, 'pipeline.yaml');
    assert.deepEqual(problems, []);
    const [sft, dpo] = stageConfigs(config!);
    assert.equal(sft!.training.stage, 'sft');
    assert.equal(sft!.data.train_path, 'data/sft.jsonl');
    assert.equal(sft!.data.max_length, 128, 'shared');
    assert.equal(sft!.training.output_dir, 'outputs/sft');
    assert.equal(sft!.training.learning_rate, 2e-4);
    assert.equal(sft!.training.batch_size, 2, 'shared');
    assert.deepEqual([sft!.lora.use_lora, sft!.lora.r], [true, 4], 'its own lora section turns LoRA on');
    assert.equal(sft!.sft.packing, true);
    assert.equal(sft!.dpo.beta, 0.1, "DPO's knobs are not SFT's");
    assert.equal(dpo!.training.stage, 'dpo');
    assert.equal(dpo!.data.train_path, 'data/pairs.jsonl');
    assert.equal(dpo!.training.output_dir, 'outputs/dpo');
    assert.deepEqual(dpo!.model, { name: 'outputs/sft', base_model: 'base/model' });
    assert.equal(dpo!.dpo.beta, 0.2);
    assert.equal(dpo!.sft.packing, false);
    assert.equal(dpo!.lora.use_lora, false, 'no shared lora section: full fine-tuning');
    assert.equal('stages' in dpo!, false);
  });

  it("locates a stage's problem at the key that caused it, and refuses two stages in one output_dir", () => {
    const highRate = parseTrainingConfig(STAGED.replace('  learning_rate: 5.0e-7', '  learning_rate: 1.0e-3'), 'pipeline.yaml');
    assert.deepEqual(highRate.problems.map((p) => [p.code, p.pointer, p.line]), [['config-learning-rate-high', '/training/learning_rate', 20]]);
    const sameDir = parseTrainingConfig(STAGED.replace('    output_dir: outputs/sft', '    output_dir: outputs/dpo'), 'pipeline.yaml');
    assert.equal(sameDir.config, undefined);
    assert.deepEqual(sameDir.problems.map((p) => [p.code, p.pointer, p.line]), [['config-stage-output-dir', '/training/output_dir', 19]]);
    const dpoRate = parseTrainingConfig(STAGED.replace("dpo:\n  beta: 0.2", "dpo:\n  beta: 0.2\n  training:\n    learning_rate: 1.0e-3"), 'pipeline.yaml');
    assert.deepEqual(dpoRate.problems.map((p) => [p.code, p.pointer, p.line]), [['config-learning-rate-high', '/dpo/training/learning_rate', 16]]);
  });

  it("says a stage's own section is unused in a config without stages", () => {
    const { problems } = parseTrainingConfig('model:\n  name: m\ndata:\n  train_path: t.jsonl\nsft:\n  training:\n    num_epochs: 3\n', 'x.yaml');
    assert.deepEqual(problems.map((p) => [p.code, p.pointer]), [['config-unused-option', '/sft/training']]);
  });
});

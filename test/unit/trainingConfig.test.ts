import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isLikelyTrainingConfig, parseTrainingConfig, trainSources, type ConfigProblem } from '../../src/core/config/index.ts';

// The complete example of dpo-guide-ko.md, verbatim.
const GUIDE_EXAMPLE = `# configs/dpo_config.yaml

model:
  name: "outputs/checkpoints/final_model"  # SFT 모델 경로

data:
  train_path: "data/preference_train.json"
  eval_path: "data/preference_eval.json"
  max_length: 512
  max_prompt_length: 256

dpo:
  beta: 0.1
  loss_type: "sigmoid"
  use_peft_for_reference: true

training:
  output_dir: "outputs/dpo_checkpoints"
  num_epochs: 1
  batch_size: 4
  learning_rate: 5.0e-7

lora:
  use_lora: true
  r: 16
  lora_alpha: 32
`;

// The standard config of dpo-zh.md, verbatim: Hugging Face key names, unquoted 1e-6, no data.
const ZH_EXAMPLE = `model:
  base_model: "Qwen/Qwen3-4B"
  # DPO 需要先有 SFT 模型
  sft_model: "path/to/sft_model"

dpo:
  beta: 0.1  # 溫度參數

lora:
  r: 16
  lora_alpha: 32
  target_modules:
    - q_proj
    - k_proj
    - v_proj
    - o_proj
    - gate_proj
    - up_proj
    - down_proj

training:
  num_train_epochs: 3
  per_device_train_batch_size: 2
  gradient_accumulation_steps: 8
  learning_rate: 1e-6  # DPO 需要很低的學習率
  warmup_ratio: 0.1
  max_seq_length: 2048
`;

const MINIMAL = 'model:\n  name: m\ndata:\n  train_path: d.jsonl\n';

const errors = (problems: ConfigProblem[]) => problems.filter((p) => p.severity === 'error');

/** The problem with `code`, asserting there is exactly one. */
function single(problems: ConfigProblem[], code: string): ConfigProblem {
  const found = problems.filter((p) => p.code === code);
  assert.equal(found.length, 1, `expected one ${code}, got ${JSON.stringify(problems, null, 1)}`);
  return found[0];
}

/** Asserts a problem underlines exactly `snippet`, found at its `nth` occurrence in `text`. */
function assertUnderlines(text: string, problem: ConfigProblem, snippet: string, line: number, column: number) {
  assert.equal(text.slice(problem.offset, problem.offset + problem.length), snippet);
  assert.equal(problem.line, line);
  assert.equal(problem.column, column);
}

describe('parseTrainingConfig: the guides', () => {
  it("validates the Korean guide's complete example with no problems and fills defaults", () => {
    const { config, problems } = parseTrainingConfig(GUIDE_EXAMPLE, 'dpo_config.yaml');
    assert.deepEqual(problems, []);
    assert.ok(config);
    assert.equal(config.model.name, 'outputs/checkpoints/final_model');
    assert.equal(config.data.train_path, 'data/preference_train.json');
    assert.equal(config.training.learning_rate, 5e-7);
    assert.equal(config.lora.use_lora, true);
    // Not written in the file: from the schema's defaults.
    assert.equal(config.data.truncation_mode, 'keep_end');
    assert.equal(config.dpo.label_smoothing, 0);
    assert.equal(config.dpo.simpo_gamma, 0.5);
    assert.equal(config.training.gradient_accumulation_steps, 1);
    assert.equal(config.training.lr_scheduler_type, 'linear');
    assert.equal(config.training.max_steps, -1);
    assert.equal(config.training.backend, 'auto');
    assert.equal(config.lora.lora_dropout, 0.05);
    assert.equal(config.lora.bias, 'none');
    assert.deepEqual(config.quantization, { use_quantization: false, bits: 4 });
    assert.deepEqual(config.review, { score_after: 'eval' });
    assert.deepEqual(Object.keys(config), ['model', 'data', 'dpo', 'sft', 'training', 'lora', 'quantization', 'review']);
  });

  it('validates the shipped sample config, which carries the same values', () => {
    const text = readFileSync(new URL('../../samples/configs/dpo_config.yaml', import.meta.url), 'utf8');
    const sample = parseTrainingConfig(text, 'dpo_config.yaml');
    assert.deepEqual(sample.problems, []);
    assert.deepEqual(sample.config, parseTrainingConfig(GUIDE_EXAMPLE, 'dpo_config.yaml').config);
  });

  it('validates the Chinese example, folding Hugging Face names into canonical keys', () => {
    const { config, problems } = parseTrainingConfig(ZH_EXAMPLE, 'dpo.yaml');
    assert.deepEqual(errors(problems), []);
    // It names no data, which a file may leave to --dataset_path: a warning, not an error.
    const warning = single(problems, 'config-no-train-data');
    assert.equal(warning.severity, 'warning');
    assert.equal(problems.length, 1);
    assert.ok(config);
    assert.equal(config.model.name, 'path/to/sft_model');
    assert.equal(config.model.base_model, 'Qwen/Qwen3-4B');
    assert.equal(config.training.num_epochs, 3);
    assert.equal(config.training.batch_size, 2);
    assert.equal(config.training.learning_rate, 1e-6);
    assert.equal(typeof config.training.learning_rate, 'number');
    assert.equal(config.training.warmup_ratio, 0.1);
    assert.equal(config.data.max_length, 2048);
    assert.equal(config.data.max_prompt_length, 256);
    assert.equal(config.lora.use_lora, true, 'a written lora section turns LoRA on');
    assert.equal(config.lora.target_modules?.length, 7);
    const training = config.training as unknown as Record<string, unknown>;
    assert.ok(!('num_train_epochs' in training) && !('per_device_train_batch_size' in training) && !('max_seq_length' in training));
    assert.ok(!('sft_model' in (config.model as unknown as Record<string, unknown>)));
  });
});

describe('parseTrainingConfig: located errors', () => {
  it('reports a wrong type at the value, with its pointer', () => {
    const text = GUIDE_EXAMPLE.replace('beta: 0.1', 'beta: "high"');
    const { config, problems } = parseTrainingConfig(text, 'dpo_config.yaml');
    assert.equal(config, undefined);
    const problem = single(problems, 'config-type');
    assert.equal(problem.severity, 'error');
    assert.equal(problem.pointer, '/dpo/beta');
    assertUnderlines(text, problem, '"high"', 13, 9);
    assert.match(problem.message, /dpo\.beta.*number.*"high"/);
  });

  it('reports an unknown key on the key, suggesting the closest one', () => {
    const text = GUIDE_EXAMPLE.replace('training:', 'trainig:');
    const { config, problems } = parseTrainingConfig(text, 'dpo_config.yaml');
    assert.equal(config, undefined);
    const problem = single(problems, 'config-unknown-key');
    assert.equal(problem.pointer, '/trainig');
    assert.match(problem.message, /did you mean "training"\?/);
    assertUnderlines(text, problem, 'trainig', 17, 1);
  });

  it('says where a key of another section belongs', () => {
    const text = 'model:\n  name: m\ndpo:\n  learning_rate: 1e-6\nbeta: 0.2\n';
    const { problems } = parseTrainingConfig(text, 'c.yaml');
    const [misplaced, flat] = problems.filter((p) => p.code === 'config-unknown-key');
    assert.equal(misplaced.pointer, '/dpo/learning_rate');
    assert.match(misplaced.message, /belongs in the "training" section/);
    assertUnderlines(text, misplaced, 'learning_rate', 4, 3);
    assert.equal(flat.pointer, '/beta');
    assert.match(flat.message, /"dpo" section/);

    const nested = single(parseTrainingConfig(MINIMAL + 'lora:\n  r: 8\n  trainng:\n    seed: 1\n', 'c.yaml').problems, 'config-unknown-key');
    assert.equal(nested.pointer, '/lora/trainng');
    assert.match(nested.message, /"training" is a top-level section: check its indentation/);
  });

  it('reports a bad enum value with the allowed values and a suggestion', () => {
    const text = GUIDE_EXAMPLE.replace('loss_type: "sigmoid"', 'loss_type: sigmod');
    const problem = single(parseTrainingConfig(text, 'c.yaml').problems, 'config-enum');
    assert.equal(problem.pointer, '/dpo/loss_type');
    assert.match(problem.message, /"hinge", "ipo", "kto_pair"/);
    assert.match(problem.message, /did you mean "sigmoid"\?/);
    assertUnderlines(text, problem, 'sigmod', 14, 14);
  });

  it('reports range errors from the schema', () => {
    const text = MINIMAL + 'dpo:\n  label_smoothing: 0.7\n  beta: 0\n';
    const problems = parseTrainingConfig(text, 'c.yaml').problems.filter((p) => p.code === 'config-range');
    assert.deepEqual(problems.map((p) => p.pointer), ['/dpo/label_smoothing', '/dpo/beta']);
    assert.match(problems[0].message, /at most 0\.5/);
    assert.match(problems[1].message, /greater than 0/);
  });

  it('locates a YAML syntax error and returns no config', () => {
    const text = 'model:\n  name: m\ndpo:\n  beta: 0.1\n loss_type: sigmoid\n';
    const { config, problems } = parseTrainingConfig(text, 'c.yaml');
    assert.equal(config, undefined);
    const problem = single(problems, 'config-yaml-syntax');
    assert.equal(problem.severity, 'error');
    assert.equal(problem.line, 5);
    assert.equal(problem.column, 1);
  });

  it('reports a duplicate key on its second occurrence', () => {
    const text = 'model:\n  name: a\n  name: b\n';
    const problem = single(parseTrainingConfig(text, 'c.yaml').problems, 'config-duplicate-key');
    assert.equal(problem.line, 3);
    assert.equal(problem.column, 3);
  });

  it('reports an empty or comment-only file', () => {
    for (const text of ['', '   \n', '# nothing yet\n']) {
      const { config, problems } = parseTrainingConfig(text, 'configs/dpo_config.yaml');
      assert.equal(config, undefined);
      const problem = single(problems, 'config-empty');
      assert.equal(problem.line, 1);
      assert.match(problem.message, /^dpo_config\.yaml is empty/);
    }
  });

  it('reports a file that is not a mapping', () => {
    const problem = single(parseTrainingConfig('- model\n- dpo\n', 'c.yaml').problems, 'config-not-mapping');
    assert.equal(problem.line, 1);
  });

  it('requires the model', () => {
    const text = 'dpo:\n  beta: 0.1\n';
    const problem = single(parseTrainingConfig(text, 'c.yaml').problems, 'config-missing-key');
    assert.equal(problem.pointer, '/model');
    const empty = single(parseTrainingConfig('model:\n  revision: main\n', 'c.yaml').problems, 'config-missing-key');
    assert.equal(empty.pointer, '/model/name');
    assert.equal(empty.line, 1);
    assert.match(empty.message, /needs "name"/);
  });

  it('hints that YAML 1.2 reads yes/no as strings', () => {
    const problem = single(parseTrainingConfig(MINIMAL + 'lora:\n  use_lora: yes\n', 'c.yaml').problems, 'config-type');
    assert.equal(problem.pointer, '/lora/use_lora');
    assert.match(problem.message, /true or false without quotes/);
  });

  it('refuses infinite numbers', () => {
    const problem = single(parseTrainingConfig(MINIMAL + 'dpo:\n  beta: .inf\n', 'c.yaml').problems, 'config-non-finite');
    assert.equal(problem.pointer, '/dpo/beta');
  });
});

describe('parseTrainingConfig: numbers, aliases, defaults', () => {
  it('reads 1e-6 and 5.0e-7 as numbers, and a quoted number with a warning', () => {
    const plain = parseTrainingConfig(MINIMAL + 'training:\n  learning_rate: 1e-6\n', 'c.yaml');
    assert.deepEqual(plain.problems, []);
    assert.equal(plain.config?.training.learning_rate, 0.000001);

    const text = MINIMAL + 'training:\n  learning_rate: "1e-6"\n';
    const quoted = parseTrainingConfig(text, 'c.yaml');
    assert.equal(quoted.config?.training.learning_rate, 0.000001);
    const warning = single(quoted.problems, 'config-quoted-number');
    assert.equal(warning.severity, 'warning');
    assertUnderlines(text, warning, '"1e-6"', 6, 18);
  });

  it('reports an alias and its canonical key with different values, on the alias', () => {
    const text = MINIMAL + 'training:\n  num_epochs: 1\n  num_train_epochs: 3\n';
    const { config, problems } = parseTrainingConfig(text, 'c.yaml');
    assert.equal(config, undefined);
    const problem = single(problems, 'config-alias-conflict');
    assert.equal(problem.pointer, '/training/num_train_epochs');
    assertUnderlines(text, problem, 'num_train_epochs', 7, 3);

    const agreeing = parseTrainingConfig(MINIMAL + 'training:\n  num_epochs: 2\n  num_train_epochs: 2\n', 'c.yaml');
    assert.deepEqual(agreeing.problems, []);
    assert.equal(agreeing.config?.training.num_epochs, 2);
  });

  it('locates errors on an alias where it is written', () => {
    const text = MINIMAL + 'training:\n  max_seq_length: 1\n';
    const problem = single(parseTrainingConfig(text, 'c.yaml').problems, 'config-range');
    assert.equal(problem.pointer, '/training/max_seq_length');
    assertUnderlines(text, problem, '1', 6, 19);
  });

  it('checks max_prompt_length against max_length, halving the default when it would not fit', () => {
    const text = MINIMAL.replace('d.jsonl\n', 'd.jsonl\n  max_prompt_length: 300\n') + 'training:\n  max_seq_length: 256\n';
    const problem = single(parseTrainingConfig(text, 'c.yaml').problems, 'config-range');
    assert.equal(problem.pointer, '/data/max_prompt_length');
    assertUnderlines(text, problem, '300', 5, 22);

    const short = parseTrainingConfig(MINIMAL + '  max_length: 128\n', 'c.yaml');
    assert.deepEqual(short.problems, []);
    assert.equal(short.config?.data.max_prompt_length, 64);
  });

  it('turns LoRA and quantization on only when their section is written', () => {
    const none = parseTrainingConfig(MINIMAL, 'c.yaml').config;
    assert.equal(none?.lora.use_lora, false);
    assert.equal(none?.quantization.use_quantization, false);
    const some = parseTrainingConfig(MINIMAL + 'lora:\n  r: 8\nquantization:\n  bits: 8\n', 'c.yaml').config;
    assert.equal(some?.lora.use_lora, true);
    assert.equal(some?.lora.r, 8);
    assert.deepEqual(some?.quantization, { use_quantization: true, bits: 8 });
    const off = parseTrainingConfig(MINIMAL + 'lora:\n  use_lora: false\n', 'c.yaml').config;
    assert.equal(off?.lora.use_lora, false);
  });

  it('mixes several datasets with weights', () => {
    const text = 'model:\n  name: m\ndata:\n  train_path:\n    - path: a.jsonl\n      weight: 3\n    - path: b.json\n';
    const { config, problems } = parseTrainingConfig(text, 'c.yaml');
    assert.deepEqual(problems, []);
    assert.ok(config);
    assert.deepEqual(trainSources(config), [
      { path: 'a.jsonl', weight: 3 },
      { path: 'b.json', weight: 1 },
    ]);
    assert.deepEqual(trainSources(parseTrainingConfig(MINIMAL, 'c.yaml').config!), [{ path: 'd.jsonl', weight: 1 }]);

    const bad = 'model:\n  name: m\ndata:\n  train_path:\n    - weight: 3\n    - path: b.json\n      weight: -1\n';
    const found = parseTrainingConfig(bad, 'c.yaml').problems;
    const missing = single(found, 'config-missing-key');
    assert.equal(missing.pointer, '/data/train_path/0/path');
    assert.equal(missing.line, 5);
    const negative = single(found, 'config-range');
    assert.equal(negative.pointer, '/data/train_path/1/weight');
    assertUnderlines(bad, negative, '-1', 7, 15);
  });

  it('resolves YAML anchors, aliases and merge keys', () => {
    const text =
      'model:\n  name: &sft path/to/sft\ndpo:\n  reference_model: *sft\ndata:\n  train_path:\n' +
      '    - &src {path: a.jsonl, weight: 2}\n    - <<: *src\n      path: b.jsonl\n';
    const { config, problems } = parseTrainingConfig(text, 'c.yaml');
    assert.deepEqual(problems, []);
    assert.equal(config?.dpo.reference_model, 'path/to/sft');
    assert.deepEqual(config?.data.train_path, [
      { path: 'a.jsonl', weight: 2 },
      { path: 'b.jsonl', weight: 2 },
    ]);
  });

  it('lints contradictory or ignored settings', () => {
    const quantized = parseTrainingConfig(MINIMAL + 'lora:\n  use_lora: false\nquantization:\n  bits: 4\n', 'c.yaml');
    assert.equal(single(quantized.problems, 'config-conflicting-options').pointer, '/quantization/use_quantization');
    assert.ok(quantized.config, 'warnings leave the config usable');

    const high = parseTrainingConfig(MINIMAL + 'training:\n  learning_rate: 1e-4\n', 'c.yaml');
    assert.equal(single(high.problems, 'config-learning-rate-high').severity, 'info');

    const ipo = parseTrainingConfig(MINIMAL + 'dpo:\n  loss_type: ipo\n  label_smoothing: 0.1\n', 'c.yaml');
    assert.equal(single(ipo.problems, 'config-unused-option').pointer, '/dpo/label_smoothing');
  });
});

describe('parseTrainingConfig: JSON files', () => {
  const json = JSON.stringify(
    { model: { name: 'm' }, data: { train_path: 'd.jsonl' }, dpo: { beta: 0.2, loss_type: 'ipo' }, training: { num_train_epochs: 2 } },
    null,
    '\t',
  );

  it('validates a JSON config like a YAML one', () => {
    const { config, problems } = parseTrainingConfig(json, 'dpo_config.json');
    assert.deepEqual(problems, []);
    assert.equal(config?.dpo.beta, 0.2);
    assert.equal(config?.dpo.loss_type, 'ipo');
    assert.equal(config?.training.num_epochs, 2);
    assert.equal(config?.training.learning_rate, 5e-7);
  });

  it('locates errors in a JSON config', () => {
    const text = json.replace('"beta": 0.2', '"beta": "high"').replace('"loss_type"', '"los_type"');
    const { problems } = parseTrainingConfig(text, 'dpo_config.json');
    const type = single(problems, 'config-type');
    assert.equal(type.pointer, '/dpo/beta');
    const line = text.split('\n').findIndex((l) => l.includes('"high"')) + 1;
    assertUnderlines(text, type, '"high"', line, text.split('\n')[line - 1].indexOf('"high"') + 1);
    const unknown = single(problems, 'config-unknown-key');
    assert.equal(text.slice(unknown.offset, unknown.offset + unknown.length), '"los_type"');
    assert.match(unknown.message, /did you mean "loss_type"/);
  });
});

describe('isLikelyTrainingConfig', () => {
  it('recognises training configs', () => {
    assert.equal(isLikelyTrainingConfig(GUIDE_EXAMPLE), true);
    assert.equal(isLikelyTrainingConfig(ZH_EXAMPLE), true);
    assert.equal(isLikelyTrainingConfig('dpo:\n  beta: 0.1\n'), true);
    assert.equal(isLikelyTrainingConfig('"model":\n  name: m\n"training": {}\n'), true);
    assert.equal(isLikelyTrainingConfig('{"model": {"name": "m"}, "training": {}}'), true);
  });

  it('leaves other YAML and JSON alone', () => {
    assert.equal(isLikelyTrainingConfig('name: CI\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n'), false);
    assert.equal(isLikelyTrainingConfig('model:\n  name: m\n'), false);
    assert.equal(isLikelyTrainingConfig('jobs:\n  dpo:\n    training: x\n'), false, 'nested keys are not top-level');
    assert.equal(isLikelyTrainingConfig('{"name": "pkg", "version": "1.0.0"}'), false);
    assert.equal(isLikelyTrainingConfig(''), false);
  });
});

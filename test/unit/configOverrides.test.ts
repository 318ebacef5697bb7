import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyOverrides, overrideTarget, parseTrainingConfig, type ConfigProblem, type TrainingConfig } from '../../src/core/config/index.ts';

const BASE = 'model:\n  name: outputs/sft\ndata:\n  train_path: data/train.json\nlora:\n  r: 16\n';

function baseConfig(): TrainingConfig {
  const { config, problems } = parseTrainingConfig(BASE, 'c.yaml');
  assert.deepEqual(problems, []);
  return config!;
}

function single(problems: ConfigProblem[], code: string): ConfigProblem {
  const found = problems.filter((p) => p.code === code);
  assert.equal(found.length, 1, `expected one ${code}, got ${JSON.stringify(problems, null, 1)}`);
  return found[0];
}

describe('overrideTarget', () => {
  it("maps the guide's flags, dotted paths, aliases and unique bare keys", () => {
    assert.equal(overrideTarget('--model_name'), 'model.name');
    assert.equal(overrideTarget('--dataset_path'), 'data.train_path');
    assert.equal(overrideTarget('--output_dir'), 'training.output_dir');
    assert.equal(overrideTarget('--num_epochs'), 'training.num_epochs');
    assert.equal(overrideTarget('--batch_size'), 'training.batch_size');
    assert.equal(overrideTarget('--learning_rate'), 'training.learning_rate');
    assert.equal(overrideTarget('--learning-rate'), 'training.learning_rate');
    assert.equal(overrideTarget('--beta'), 'dpo.beta');
    assert.equal(overrideTarget('training.learning_rate'), 'training.learning_rate');
    assert.equal(overrideTarget('lora.r'), 'lora.r');
    assert.equal(overrideTarget('--loss_type'), 'dpo.loss_type');
    assert.equal(overrideTarget('--num_train_epochs'), 'training.num_epochs');
    assert.equal(overrideTarget('training.max_seq_length'), 'data.max_length');
    assert.equal(overrideTarget('--config'), undefined);
    assert.equal(overrideTarget('dpo.learning_rate'), undefined);
    assert.equal(overrideTarget('a.b.c'), undefined);
  });
});

describe('applyOverrides', () => {
  it("applies the guide's command-line flags with typed values", () => {
    const config = baseConfig();
    const { config: next, problems } = applyOverrides(config, {
      '--model_name': 'your-sft-model-path',
      '--dataset_path': 'data/preference_train.json',
      '--output_dir': 'outputs/dpo_model',
      '--num_epochs': '1',
      '--batch_size': '4',
      '--learning_rate': '5e-7',
      '--beta': '0.1',
    });
    assert.deepEqual(problems, []);
    assert.ok(next);
    assert.equal(next.model.name, 'your-sft-model-path');
    assert.equal(next.data.train_path, 'data/preference_train.json');
    assert.equal(next.training.output_dir, 'outputs/dpo_model');
    assert.equal(next.training.num_epochs, 1);
    assert.equal(next.training.batch_size, 4);
    assert.equal(next.training.learning_rate, 5e-7);
    assert.equal(next.dpo.beta, 0.1);
    assert.equal(config.model.name, 'outputs/sft', 'the input config is not modified');
  });

  it('applies any key by dotted path, parsing values as YAML', () => {
    const { config, problems } = applyOverrides(baseConfig(), {
      'training.learning_rate': '1e-6',
      'lora.r': '8',
      'lora.target_modules': '[q_proj, v_proj]',
      'dpo.loss_type': 'ipo',
      'lora.use_lora': 'false',
    });
    assert.deepEqual(problems, []);
    assert.equal(config?.training.learning_rate, 1e-6);
    assert.equal(config?.lora.r, 8);
    assert.deepEqual(config?.lora.target_modules, ['q_proj', 'v_proj']);
    assert.equal(config?.dpo.loss_type, 'ipo');
    assert.equal(config?.lora.use_lora, false);
  });

  it('keeps text verbatim for text keys and reads a bare boolean flag as true', () => {
    const off = applyOverrides(baseConfig(), { 'lora.use_lora': 'false' }).config!;
    const { config, problems } = applyOverrides(off, { '--model_name': '123', '--use_lora': '' });
    assert.deepEqual(problems, []);
    assert.equal(config?.model.name, '123');
    assert.equal(config?.lora.use_lora, true);
  });

  it('locates a bad value to its flag and names it', () => {
    const { config, problems } = applyOverrides(baseConfig(), { '--beta': '0.2', 'lora.r': 'eight' });
    assert.equal(config, undefined);
    const problem = single(problems, 'config-type');
    assert.equal(problem.flag, '--lora.r');
    assert.equal(problem.pointer, '/lora/r');
    assert.match(problem.message, /^--lora\.r=eight: "lora\.r" must be a whole number/);
    // Positions are within the overrides rendered as one command line.
    const commandLine = '--beta=0.2 --lora.r=eight';
    assert.equal(problem.line, 1);
    assert.equal(commandLine.slice(problem.offset, problem.offset + problem.length), '--lora.r=eight');
    assert.equal(problem.column, problem.offset + 1);
  });

  it('reports out-of-range and enum values given by flag', () => {
    const { problems } = applyOverrides(baseConfig(), { '--beta': '-1', '--loss_type': 'dpo' });
    assert.equal(single(problems, 'config-range').flag, '--beta');
    assert.equal(single(problems, 'config-enum').flag, '--loss_type');
  });

  it('gives a flag the cross-key problems it causes', () => {
    const { problems } = applyOverrides(baseConfig(), { '--max_length': '128' });
    const problem = single(problems, 'config-range');
    assert.equal(problem.flag, '--max_length');
    assert.equal(problem.pointer, '/data/max_prompt_length');
    assert.match(problem.message, /^--max_length=128: .*less than "data\.max_length" \(128\)/);
    // Read with the file, the unwritten max_prompt_length simply follows the flag.
    const fromFile = parseTrainingConfig(BASE, 'c.yaml', { '--max_length': '128' });
    assert.deepEqual(fromFile.problems, []);
    assert.equal(fromFile.config?.data.max_prompt_length, 64);
  });

  it('reports an unknown flag with a suggestion, and a malformed value', () => {
    const { config, problems } = applyOverrides(baseConfig(), { '--learning_rat': '1e-6', 'lora.target_modules': '[q_proj' });
    assert.equal(config, undefined);
    const unknown = single(problems, 'config-unknown-override');
    assert.equal(unknown.flag, '--learning_rat');
    assert.match(unknown.message, /did you mean --learning_rate\?/);
    assert.equal(unknown.offset, 0);
    const malformed = single(problems, 'config-bad-override');
    assert.equal(malformed.flag, '--lora.target_modules');
    assert.equal(malformed.pointer, '/lora/target_modules');
  });
});

describe('parseTrainingConfig with overrides', () => {
  it('lets a flag replace a key written under an alias, without a conflict', () => {
    const text = BASE + 'training:\n  num_train_epochs: 3\n';
    const { config, problems } = parseTrainingConfig(text, 'c.yaml', { '--num_epochs': '2' });
    assert.deepEqual(problems, []);
    assert.equal(config?.training.num_epochs, 2);
  });

  it('lets flags supply what the file omits, and start from no file at all', () => {
    const partial = parseTrainingConfig('dpo:\n  beta: 0.3\n', 'c.yaml', { '--model_name': 'm', '--dataset_path': 'd.jsonl' });
    assert.deepEqual(partial.problems, []);
    assert.equal(partial.config?.model.name, 'm');
    assert.equal(partial.config?.dpo.beta, 0.3);

    const none = parseTrainingConfig('', '<command line>', { '--model_name': 'm', '--dataset_path': 'd.jsonl' });
    assert.deepEqual(none.problems, []);
    assert.equal(none.config?.training.learning_rate, 5e-7);
  });

  it('keeps file problems located in the file and flag problems on the flag', () => {
    const text = BASE + 'dpo:\n  beta: high\n';
    const { problems } = parseTrainingConfig(text, 'c.yaml', { '--learning_rate': 'fast' });
    const [fileProblem, flagProblem] = problems;
    assert.equal(fileProblem.pointer, '/dpo/beta');
    assert.equal(fileProblem.flag, undefined);
    assert.equal(fileProblem.line, 8);
    assert.equal(flagProblem.pointer, '/training/learning_rate');
    assert.equal(flagProblem.flag, '--learning_rate');
    assert.equal(problems.length, 2);
  });
});

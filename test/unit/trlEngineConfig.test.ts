import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrainingConfig } from '../../src/core/config/index.ts';
import { trlRankLaunch } from '../../src/core/training/engineContract.ts';
import { crc32c, encodeEvent, tensorboardTag, tfRecord } from '../../src/core/training/tensorboardEvents.ts';
import { trlArguments } from '../../src/core/training/trlArguments.ts';

const base = (extra: string) => `model:\n  name: models/m\ndata:\n  train_path: d.jsonl\ntraining:\n  engine: trl\n${extra}`;

function errors(text: string) {
  return parseTrainingConfig(text, 'c.yaml').problems.filter((p) => p.severity === 'error');
}

describe('engine trl: what TRL cannot do is a located config error before anything starts', () => {
  for (const [what, yaml, key, pattern] of [
    ['loss orpo', base('dpo:\n  loss_type: orpo\n'), 'orpo', /not a DPOTrainer loss in TRL 1\.x.*engine tfjs/],
    ['loss simpo', base('dpo:\n  loss_type: simpo\n'), 'simpo', /CPO trainer/],
    ['loss kto_pair', base('dpo:\n  loss_type: kto_pair\n'), 'kto_pair', /not in TRL 1\.x/],
    ['a beta schedule', base('dpo:\n  beta_end: 0.05\n'), '0.05', /beta schedule.*no TRL equivalent/],
    ['cDPO label smoothing', base('dpo:\n  label_smoothing: 0.1\n'), '0.1', /sigmoid loss ignores it.*robust/],
    ['length normalisation of hinge', base('dpo:\n  loss_type: hinge\n  length_normalize: true\n'), 'true', /length_normalize.*hinge/],
  ] as const) {
    it(what, () => {
      const found = errors(yaml);
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.match(found[0]!.message, pattern);
      const line = yaml.split('\n')[found[0]!.line - 1]!;
      assert.ok(line.includes(key), `located at the key's line: ${line}`);
    });
  }

  it('the same keys train on engine tfjs, and the TRL-only keys are flagged there as unused', () => {
    const { config, problems } = parseTrainingConfig('model:\n  name: m\ndpo:\n  loss_type: orpo\ntraining:\n  python: /usr/bin/python3\n', 'c.yaml');
    assert.ok(config);
    assert.equal(config.training.engine, 'tfjs');
    assert.ok(problems.some((p) => p.code === 'config-unused-option' && /training\.python.*engine trl/.test(p.message)));
  });

  it('--engine trl on the command line is checked like the file', () => {
    const { problems } = parseTrainingConfig('model:\n  name: m\ndpo:\n  loss_type: simpo\n', 'c.yaml', { engine: 'trl' });
    const error = problems.find((p) => p.severity === 'error');
    assert.ok(error && /simpo/.test(error.message));
  });
});

describe("our config in TRL's words", () => {
  const facts = { totalSteps: 40, stepsPerEpoch: 10, defaultTargets: ['q_proj', 'v_proj'], outputDir: '/out' };
  const configOf = (yaml: string) => parseTrainingConfig(yaml, 'c.yaml').config!;

  it("sets every value TRL would otherwise default differently, and keeps ours", () => {
    const args = trlArguments(configOf(base('  logging_steps: 3\n  warmup_ratio: 0.1\n  lr_scheduler_type: constant\n')), facts).trainer;
    assert.equal(args.bf16, false);
    assert.equal(args.gradient_checkpointing, false);
    assert.equal(args.logging_steps, 3);
    assert.equal(args.warmup_steps, 4, 'ceil(40 x 0.1), as transformers counts it');
    assert.equal(args.lr_scheduler_type, 'constant_with_warmup');
    assert.equal(args.max_steps, 40);
    assert.equal(args.save_steps, 10, 'each epoch, when save_steps is not set');
    assert.equal(args.eval_strategy, 'no');
    assert.equal(args.max_length, null, 'records arrive truncated by our rule');
    assert.equal(args.disable_dropout, false);
    assert.deepEqual(args.loss_type, ['sigmoid']);
  });

  it("SFT is SFTConfig: TRL's packing and completion-only loss as configured, records cut at their end to max_length, no DPO keys", () => {
    const args = trlArguments(configOf('model:\n  name: m\ndata:\n  max_length: 96\nsft:\n  packing: true\ntraining:\n  stage: sft\n  logging_steps: 2\n'), facts).trainer;
    assert.equal(args.packing, true);
    assert.equal(args.packing_strategy, 'bfd');
    assert.equal(args.padding_free, true, "TRL's bfd packing runs padding-free");
    assert.equal(args.completion_only_loss, true);
    assert.equal(args.max_length, 96);
    assert.equal(args.truncation_mode, 'keep_start');
    assert.equal(args.shuffle_dataset, false, 'the batch plan orders the records, as for DPO');
    assert.equal(args.gradient_checkpointing, false);
    assert.equal(args.logging_steps, 2);
    for (const key of ['beta', 'loss_weights', 'precompute_ref_log_probs', 'disable_dropout']) assert.ok(!(key in args), `${key} is a DPOConfig key`);
    assert.equal(args.loss_type, 'nll');
  });

  it('RPO is sigmoid plus a weighted sft loss; length-normalised sigmoid is sigmoid_norm', () => {
    assert.deepEqual(trlArguments(configOf(base('dpo:\n  rpo_alpha: 0.5\n')), facts).trainer.loss_weights, [1, 0.5]);
    assert.deepEqual(trlArguments(configOf(base('dpo:\n  rpo_alpha: 0.5\n')), facts).trainer.loss_type, ['sigmoid', 'sft']);
    assert.deepEqual(trlArguments(configOf(base('dpo:\n  length_normalize: true\n')), facts).trainer.loss_type, ['sigmoid_norm']);
  });

  it("LoRA's targets default to the architecture's attention projections; quantization rides on LoRA", () => {
    const args = trlArguments(configOf(base('lora:\n  r: 4\nquantization:\n  use_quantization: true\n  bits: 8\n')), facts);
    assert.deepEqual(args.lora?.target_modules, ['q_proj', 'v_proj']);
    assert.equal(args.lora?.r, 4);
    assert.deepEqual(args.quantization, { bits: 8 });
    assert.equal(trlArguments(configOf(base('lora:\n  use_lora: false\n')), facts).lora, undefined);
  });
});

describe('how the ranks start', () => {
  it('one process runs the module; several go through torchrun; an accelerate config goes to accelerate launch', () => {
    assert.deepEqual(trlRankLaunch({ python: 'py', specPath: 's.json', processes: 1 }).args, ['-m', 'dpo_studio_trl', 'run', 's.json']);
    assert.deepEqual(trlRankLaunch({ python: 'py', specPath: 's.json', processes: 2 }).args.slice(0, 8), ['-m', 'torch.distributed.run', '--standalone', '--nnodes', '1', '--nproc_per_node', '2', '-m']);
    assert.deepEqual(trlRankLaunch({ python: 'py', specPath: 's.json', processes: 4, accelerateConfig: '/a.yaml' }).args.slice(0, 4), ['-m', 'accelerate.commands.launch', '--config_file', '/a.yaml']);
  });
});

describe('TensorBoard event files', () => {
  it('frame records with the masked CRC-32C of TFRecord', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283, 'the CRC-32C check value');
    const record = tfRecord(encodeEvent(1.5, 3, { scalars: [['train/loss', 0.5]] }));
    assert.equal(Number(record.readBigUInt64LE(0)), record.length - 16);
  });

  it("tags metrics as TRL's TensorBoard callback does", () => {
    assert.equal(tensorboardTag('rewards/margins', 'metrics'), 'train/rewards/margins');
    assert.equal(tensorboardTag('eval_loss', 'eval'), 'eval/loss');
  });
});

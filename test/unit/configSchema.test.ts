import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KEY_ALIASES, trainingConfigSchema } from '../../src/core/config/index.ts';
import { getConfigValidator, schemaAt, type SchemaNode } from '../../src/core/config/configSchema.ts';
import type { DataSection, DpoSection, LoraSection, ModelSection, QuantizationSection, SftSection, TrainingSection } from '../../src/core/config/types.ts';

// Written against the TypeScript interfaces (a missing or extra key fails to compile), then
// compared with the schema at run time: the two can't drift apart unnoticed.
const MODEL: Record<keyof ModelSection, true> = { name: true, base_model: true, revision: true };
const DATA: Record<keyof DataSection, true> = { train_path: true, eval_path: true, columns: true, train_split: true, eval_split: true, revision: true, max_length: true, max_prompt_length: true, truncation_mode: true };
const DPO: Record<keyof DpoSection, true> = {
  beta: true,
  beta_end: true,
  loss_type: true,
  label_smoothing: true,
  use_peft_for_reference: true,
  reference_model: true,
  precompute_ref_log_probs: true,
  simpo_gamma: true,
  rpo_alpha: true,
  length_normalize: true,
  data: true,
  training: true,
  lora: true,
};
const SFT: Record<keyof SftSection, true> = { completion_only_loss: true, packing: true, data: true, training: true, lora: true };
const TRAINING: Record<keyof TrainingSection, true> = {
  stage: true,
  output_dir: true,
  num_epochs: true,
  batch_size: true,
  gradient_accumulation_steps: true,
  learning_rate: true,
  weight_decay: true,
  warmup_ratio: true,
  warmup_steps: true,
  lr_scheduler_type: true,
  max_grad_norm: true,
  seed: true,
  logging_steps: true,
  eval_steps: true,
  save_steps: true,
  max_steps: true,
  backend: true,
  engine: true,
  python: true,
  processes: true,
  accelerate_config: true,
};
const LORA: Record<keyof LoraSection, true> = { use_lora: true, r: true, lora_alpha: true, lora_dropout: true, target_modules: true, bias: true };
const QUANTIZATION: Record<keyof QuantizationSection, true> = { use_quantization: true, bits: true };
const TYPED: Record<string, Record<string, true>> = { model: MODEL, data: DATA, dpo: DPO, sft: SFT, training: TRAINING, lora: LORA, quantization: QUANTIZATION };

function walk(node: SchemaNode, path: string, visit: (node: SchemaNode, path: string) => void) {
  visit(node, path);
  for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, `${path}/${key}`, visit);
  if (node.items) walk(node.items, `${path}/items`, visit);
}

describe('training-config schema', () => {
  it('is a draft 2020-12 schema with an $id that ajv compiles in strict mode', () => {
    assert.equal(trainingConfigSchema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.match(trainingConfigSchema.$id, /^https:\/\/.+training-config\.schema\.json$/);
    assert.equal(typeof getConfigValidator(), 'function');
  });

  it('describes every property and forbids unknown keys in every mapping', () => {
    walk(trainingConfigSchema, '', (node, path) => {
      if (path !== '' && !path.endsWith('/items')) assert.ok(node.description, `${path} has no description`);
      if (node.properties) assert.equal((node as { additionalProperties?: unknown }).additionalProperties, false, `${path} allows unknown keys`);
    });
  });

  it('has exactly the keys of the typed config, plus the aliases', () => {
    const aliasKeys = new Set(KEY_ALIASES.map((a) => a.alias));
    for (const [section, keys] of Object.entries(TYPED)) {
      const inSchema = Object.keys(schemaAt([section])?.properties ?? {}).filter((k) => !aliasKeys.has(`${section}.${k}`));
      assert.deepEqual(inSchema.sort(), Object.keys(keys).sort(), section);
    }
  });

  it('declares each alias with no default of its own, naming its canonical key', () => {
    for (const { alias, canonical } of KEY_ALIASES) {
      const node = schemaAt(alias.split('.'));
      assert.ok(node, alias);
      assert.equal(node.default, undefined, `${alias} must not have a default`);
      assert.ok(node.description?.includes(`\`${canonical}\``), `${alias} should name ${canonical}`);
      assert.ok(schemaAt(canonical.split('.')), canonical);
    }
  });

  it("carries the guide's defaults", () => {
    const defaults: Record<string, unknown> = {
      'dpo.beta': 0.1,
      'dpo.loss_type': 'sigmoid',
      'training.learning_rate': 5e-7,
      'training.num_epochs': 1,
      'training.batch_size': 4,
      'lora.r': 16,
      'lora.lora_alpha': 32,
      'data.max_length': 512,
      'data.max_prompt_length': 256,
      'quantization.bits': 4,
    };
    for (const [path, value] of Object.entries(defaults)) assert.equal(schemaAt(path.split('.'))?.default, value, path);
    assert.deepEqual(schemaAt(['dpo', 'loss_type'])?.enum, ['sigmoid', 'hinge', 'ipo', 'kto_pair', 'robust', 'simpo', 'orpo', 'sft']);
  });

  it('has defaults that themselves validate', () => {
    const validate = getConfigValidator();
    const config = { model: { name: 'm' } };
    assert.equal(validate(config), true);
    walk(trainingConfigSchema, '', (node, path) => {
      if (node.default === undefined || path === '' || path.includes('/items')) return;
      const [, section, key] = path.split('/') as [string, string, string | undefined];
      const candidate = key ? { model: { name: 'm' }, [section]: { [key]: node.default } } : { model: { name: 'm' }, [section]: node.default };
      assert.equal(validate(candidate), true, `${path}: ${JSON.stringify(validate.errors)}`);
    });
  });
});

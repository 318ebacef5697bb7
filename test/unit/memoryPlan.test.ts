import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseModelConfig } from '../../src/trainer/model/modelConfig.ts';
import { parameterSpecs } from '../../src/trainer/model/parameterSpecs.ts';

// A Qwen3-4B-shaped checkpoint made of its config.json and a safetensors *header* (the 8 GB of
// bfloat16 data is absent): the plan reads nothing else, so it needs nothing else.
const QWEN3_4B = {
  architectures: ['Qwen3ForCausalLM'],
  model_type: 'qwen3',
  hidden_size: 2560,
  intermediate_size: 9728,
  num_hidden_layers: 36,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 128,
  vocab_size: 151936,
  max_position_embeddings: 40960,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  attention_bias: false,
  hidden_act: 'silu',
  torch_dtype: 'bfloat16',
};

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'memory-plan-'));
const cli = (args: string[]) => spawnSync(process.execPath, [join(root, 'dist', 'cli.cjs'), ...args], { cwd: dir, encoding: 'utf8' });

function headerOnlyCheckpoint(folder: string, config: Record<string, unknown>): number {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  let parameters = 0;
  for (const spec of parameterSpecs(parseModelConfig(config))) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    header[spec.name] = { dtype: 'BF16', shape: spec.shape, data_offsets: [offset, offset + 2 * count] };
    offset += 2 * count;
    parameters += count;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(join(folder, 'model.safetensors'), Buffer.concat([length, json]));
  return parameters;
}

describe('memory planning before loading', () => {
  let parameters = 0;
  before(() => {
    parameters = headerOnlyCheckpoint(join(dir, 'Qwen', 'Qwen3-4B'), QWEN3_4B);
    writeFileSync(join(dir, 'pairs.jsonl'), '{"prompt": "p", "chosen": "a", "rejected": "b"}\n');
    writeFileSync(
      join(dir, 'c.yaml'),
      'model:\n  name: Qwen/Qwen3-4B\ndata:\n  train_path: pairs.jsonl\n  max_length: 32\n  max_prompt_length: 16\ntraining:\n  batch_size: 1\n  backend: wasm\n  output_dir: out\nlora:\n  r: 8\n',
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a 4B model in float32 on wasm, saying what to change', () => {
    assert.ok(parameters > 4.0e9 && parameters < 4.1e9, `a 4B shape: ${parameters}`);
    const run = cli(['plan', '--config', 'c.yaml']);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /^Qwen\/Qwen3-4B needs about 1[5-9](\.\d)? GiB in float32 on wasm \(limit 4\.0 GiB, wasm32's address space\): set quantization\.bits: 4, or training\.engine: trl\n$/);
    assert.match(run.stdout, /weights \(float32\): 1[45] GiB/);
  });

  it('accepts it with 4-bit quantization', () => {
    const run = cli(['plan', '--config', 'c.yaml', '--quantization.use_quantization', 'true', '--quantization.bits', '4']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /memory plan: about [0-3]\.\d GiB on wasm \(limit 4\.0 GiB/);
    assert.match(run.stdout, /weights \(4-bit linears, float32 rest\)/);
  });

  it('training refuses before loading a byte of weights (exit 2, nothing written)', () => {
    const run = cli(['train', '--config', 'c.yaml']);
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /error: Qwen\/Qwen3-4B needs about 1\d(\.\d)? GiB in float32 on wasm/);
    assert.equal(spawnSync('ls', [join(dir, 'out')]).status !== 0, true, 'no output folder left behind');
  });
});

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../../src/cli/main.ts';
import { saveAdapter } from '../../src/trainer/model/adapterFolder.ts';
import { disposeModel } from '../../src/trainer/model/causalLM.ts';
import { createLoraAdapter, defaultLoraConfig } from '../../src/trainer/model/lora.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';

const dir = mkdtempSync(join(tmpdir(), 'dpo-logps-cli-'));

async function run(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { out: { write: (t: string) => (stdout += t) }, err: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

describe('dpo-studio init-model and logps', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));
  const model = join(dir, 'tiny');
  const data = join(dir, 'pairs.jsonl');
  const out = join(dir, 'scores', 'logps.jsonl');

  it('init-model writes a complete Hugging Face folder', async () => {
    const r = await run('init-model', model, '--arch', 'gpt2', '--seed', '3');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Wrote a tiny GPT2LMHeadModel \(198,400 parameters, 0\.8 MB of F32 weights\) to /);
    assert.deepEqual(readdirSync(model).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    assert.deepEqual(JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')).architectures, ['GPT2LMHeadModel']);
    const again = await run('init-model', model, '--arch', 'gpt2');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists and is not empty \(use --force to replace it\)/);
    assert.equal((await run('init-model', model, '--arch', 'bert')).code, 2);
  });

  it('logps writes one line per valid record, skips and locates the rest, exit 1', async () => {
    writeFileSync(
      data,
      [
        '{"prompt":"What is 2+2?","chosen":"4","rejected":"5"}',
        '{"prompt":"Hi","chosen":5,"rejected":"x"}',
        '{"prompt":[{"role":"user","content":"Name a color."}],"chosen":[{"role":"assistant","content":"Blue."}],"rejected":[{"role":"assistant","content":"Seven."}]}',
      ].join('\n') + '\n',
    );
    const r = await run('logps', '--model', model, '--data', data, '--out', out, '--backend', 'cpu', '--batch-size', '2');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /pairs\.jsonl:2:25: skipped record 1: "chosen" must be a string \[schema-type\]/);
    assert.match(r.stdout, /Wrote log-probabilities of 2 records to .*logps\.jsonl .*\(1 skipped, see above\)/);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.index), [0, 2]);
    assert.deepEqual(Object.keys(lines[0]), ['index', 'prompt_ids', 'chosen_ids', 'rejected_ids', 'chosen_logps', 'rejected_logps']);
    for (const l of lines) assert.ok(l.chosen_logps < 0 && l.rejected_logps < 0);
    // Standard answers get EOS appended; chat answers end with the template's "<|im_end|>\n".
    assert.equal(lines[0].chosen_ids.at(-1), 2);
    assert.deepEqual(lines[1].chosen_ids.slice(-2), [2, 13]);
    assert.ok(!readdirSync(join(dir, 'scores')).some((f) => f.endsWith('.tmp')));
  });

  it('an adapter that starts at zero changes nothing; --max-length truncates', async () => {
    const base = readFileSync(out, 'utf8');
    const m = loadModel(model);
    saveAdapter(join(dir, 'adapter'), createLoraAdapter(m, defaultLoraConfig({ targetModules: ['c_attn'] }), 1));
    disposeModel(m);
    const withAdapter = join(dir, 'adapter.jsonl');
    const r = await run('logps', '--model', model, '--adapter', join(dir, 'adapter'), '--data', data, '--out', withAdapter, '--backend', 'cpu');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /applied LoRA adapter .* \(r=8, 2 layers\)/);
    assert.equal(readFileSync(withAdapter, 'utf8'), base);
    const short = join(dir, 'short.jsonl');
    assert.equal((await run('logps', '--model', model, '--data', data, '--out', short, '--backend', 'cpu', '--max-length', '6')).code, 1);
    for (const line of readFileSync(short, 'utf8').trim().split('\n').map((l) => JSON.parse(l))) {
      assert.ok(line.prompt_ids.length + Math.max(line.chosen_ids.length, line.rejected_ids.length) <= 6);
    }
  });

  it('usage mistakes exit 2 with help; a bad model folder exits 2 with the reason', async () => {
    const missing = await run('logps', '--data', data, '--out', out);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /logps needs --model/);
    const bad = join(dir, 'bad');
    assert.equal((await run('init-model', bad, '--arch', 'llama')).code, 0);
    const config = JSON.parse(readFileSync(join(bad, 'config.json'), 'utf8'));
    writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...config, architectures: ['FalconForCausalLM'] }));
    const r = await run('logps', '--model', bad, '--data', data, '--out', join(dir, 'never.jsonl'), '--backend', 'cpu');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /architecture "FalconForCausalLM" is not supported; supported: LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, MistralForCausalLM, GPT2LMHeadModel/);
    assert.ok(!existsSync(join(dir, 'never.jsonl')));
  });
});

// `dpo-studio export` and `logps` as a hurried user runs them: the shipped bundle in its own
// process, in a working directory of its own, so a wrong --out could only ever hit these files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { saveAdapter } from '../../src/trainer/model/adapterFolder.ts';
import { disposeModel } from '../../src/trainer/model/causalLM.ts';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { createLoraAdapter, defaultLoraConfig } from '../../src/trainer/model/lora.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/trainer/model/safetensors.ts';

const CLI = resolve('dist/cli.cjs');
const dir = mkdtempSync(join(tmpdir(), 'dpo-export-safety-'));
const home = join(dir, 'home');
const work = join(home, 'project');
const model = join(work, 'model');

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: work, env: { ...process.env, HOME: home } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every file under `root`, with its content, to show that nothing changed. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else out[path] = readFileSync(path).toString('base64');
    }
  };
  walk(root);
  return out;
}

/** Rewrites one tensor of a safetensors file through `change`. */
function editTensors(path: string, change: (name: string, values: Float32Array, shape: number[]) => { values: Float32Array; shape: number[] }) {
  const file = SafetensorsFile.open(path);
  const tensors = file.names.map((name) => ({ name, ...change(name, file.readFloat32(name), file.entry(name).shape) }));
  file.close();
  writeSafetensors(path, tensors.map((t) => ({ name: t.name, shape: t.shape, data: t.values })), { format: 'pt' });
}

describe('export and logps never destroy or mislead', () => {
  let adapterDir: string;
  before(async () => {
    await initBackend('wasm');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'notes.md'), 'my notes\n');
    writeFileSync(join(home, '.bashrc'), '# mine\n');
    initModel(model, { arch: 'llama', size: 'tiny', seed: 3 });
    const loaded = loadModel(model);
    const adapter = createLoraAdapter(loaded, defaultLoraConfig({ r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] }), 5);
    adapterDir = join(work, 'runs', 'a', 'final');
    saveAdapter(adapterDir, adapter);
    disposeModel(loaded);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--force never replaces the working directory, its parents, the source, a parent of it, $HOME or /', () => {
    const before = snapshot(home);
    const cases: Array<[string, RegExp]> = [
      ['.', /is the working directory/],
      ['..', /is your home folder|working directory or one of its parents/],
      [home, /is your home folder/],
      ['/', /is the root folder/],
      [adapterDir, /is the folder being exported/],
      [join(work, 'runs'), /holds the folder being exported/],
    ];
    for (const [out, message] of cases) {
      const r = run('export', adapterDir, '--out', out, '--force');
      assert.equal(r.code, 2, `${out}: ${r.stdout}`);
      assert.match(r.stderr, message, out);
    }
    assert.deepEqual(snapshot(home), before, 'nothing was deleted or changed');
  });

  it('--force replaces only a folder an earlier export wrote', () => {
    const mine = join(work, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'keep.txt'), 'keep');
    const refused = run('export', adapterDir, '--out', 'mine', '--force');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /mine was not written by dpo-studio export .*--force replaces only an earlier export/);
    assert.equal(readFileSync(join(mine, 'keep.txt'), 'utf8'), 'keep');

    assert.equal(run('export', adapterDir, '--out', 'exported').code, 0);
    const again = run('export', adapterDir, '--out', 'exported');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists and is not empty/);
    const replaced = run('export', adapterDir, '--out', 'exported', '--force');
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.deepEqual(readdirSync(join(work, 'exported')).sort(), ['.dpo-studio-export.json', 'adapter_config.json', 'adapter_model.safetensors']);
  });

  it('an adapter holding NaN, or whose tensors disagree with its r, is an error naming the tensor; nothing is written', () => {
    const nan = join(work, 'nan-adapter');
    copyFolder(adapterDir, nan);
    editTensors(join(nan, 'adapter_model.safetensors'), (name, values, shape) => {
      if (name.endsWith('layers.1.self_attn.v_proj.lora_A.weight')) values[7] = Number.NaN;
      return { values, shape };
    });
    const merged = run('export', nan, '--out', 'merged-nan', '--merge', '--model', model);
    assert.equal(merged.code, 2);
    assert.match(merged.stderr, /tensor "base_model\.model\.model\.layers\.1\.self_attn\.v_proj\.lora_A\.weight" holds NaN \(at index 7 of \d+\)/);
    assert.equal(existsSync(join(work, 'merged-nan')), false);

    // adapter_config.json says r 2 while the tensors have rank 4: merged at twice the scale before.
    const wrongRank = join(work, 'wrong-rank');
    copyFolder(adapterDir, wrongRank);
    const configPath = join(wrongRank, 'adapter_config.json');
    writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), r: 2 }));
    const scaled = run('export', wrongRank, '--out', 'merged-rank', '--merge', '--model', model);
    assert.equal(scaled.code, 2);
    assert.match(scaled.stderr, /tensor "base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight" has shape \[4,\d+\], rank 4, but adapter_config\.json says r = 2/);
    assert.equal(existsSync(join(work, 'merged-rank')), false);
  });

  it('logps exits non-zero when a record is not scored, and names a missing model folder as such', () => {
    const data = join(work, 'pairs.jsonl');
    writeFileSync(data, JSON.stringify({ prompt: 'Say hi', chosen: 'hi', rejected: 'no' }) + '\n');
    // Finite weights so large that the activations overflow: every log-probability is NaN.
    const huge = join(work, 'huge-model');
    copyFolder(model, huge);
    editTensors(join(huge, 'model.safetensors'), (name, values, shape) => ({ values: name === 'model.norm.weight' ? values.map(() => 3e38) : values, shape }));
    const r = run('logps', '--model', huge, '--data', data, '--out', 'scores.jsonl');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /pairs\.jsonl:1: record 0: not scored: the model gives a NaN or infinite log-probability/);

    const missing = run('logps', '--model', 'no-such-model', '--data', data, '--out', 'scores.jsonl');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--model "no-such-model" is not a model folder \(resolved to .*no-such-model\) nor a Hugging Face model id/);
    assert.doesNotMatch(missing.stderr, /tokenizer/);
  });
});

function copyFolder(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) writeFileSync(join(to, name), readFileSync(join(from, name)));
}

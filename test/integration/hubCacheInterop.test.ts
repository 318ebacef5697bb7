import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { LoopbackHub } from '../unit/loopbackHub.ts';
import { requireTrl } from './trlFixtures.ts';

// The cache is the real one: huggingface_hub (from PyPI, in the TRL environment) finds what DPO
// Studio downloaded, and DPO Studio uses what huggingface_hub downloaded without a request.
const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'hub-interop-'));
const model = join(dir, 'tiny');
const hub = new LoopbackHub([{ id: 'acme/tiny-llama', dir: model }]);
let endpoint = '';

/** Spawned asynchronously: the hub double answers from this process, which must not block. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: dir, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

const cli = (args: string[], env: Record<string, string>) => run(process.execPath, [join(root, 'dist', 'cli.cjs'), ...args], { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '', ...env });

describe('the Hugging Face cache, shared with huggingface_hub', () => {
  before(async () => {
    initModel(model, { arch: 'llama', size: 'tiny', seed: 5 });
    endpoint = await hub.start();
    writeFileSync(join(dir, 'pairs.jsonl'), '{"prompt": "Say red.", "chosen": "red red", "rejected": "blue blue"}\n');
  });
  after(async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("huggingface_hub's snapshot_download(local_files_only=True) finds a model DPO Studio downloaded", async (t) => {
    const python = requireTrl(t);
    if (!python) return;
    const cache = join(dir, 'cache-ours');
    const ours = await cli(['download', 'acme/tiny-llama'], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache });
    assert.equal(ours.status, 0, ours.stderr);
    const found = spawnSync(python, ['-c', 'import sys; from huggingface_hub import snapshot_download; print(snapshot_download(sys.argv[1], local_files_only=True))', 'acme/tiny-llama'], { encoding: 'utf8', env: { ...process.env, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' } });
    assert.equal(found.status, 0, found.stderr);
    assert.equal(found.stdout.trim(), ours.stdout.trim());
    const loads = spawnSync(python, ['-c', 'import sys; from transformers import AutoModelForCausalLM; print(type(AutoModelForCausalLM.from_pretrained(sys.argv[1])).__name__)', 'acme/tiny-llama'], { encoding: 'utf8', env: { ...process.env, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' } });
    assert.equal(loads.status, 0, loads.stderr);
    assert.equal(loads.stdout.trim().split('\n').pop(), 'LlamaForCausalLM', 'transformers loads it from the cache by name, offline');
  });

  it('DPO Studio uses a model huggingface_hub downloaded, without a request', async (t) => {
    const python = requireTrl(t);
    if (!python) return;
    const cache = join(dir, 'cache-theirs');
    const theirs = await run(python, ['-c', 'import sys; from huggingface_hub import snapshot_download; print(snapshot_download(sys.argv[1], allow_patterns=["*.json", "*.safetensors"]))', 'acme/tiny-llama'], { ...process.env, HF_HUB_CACHE: cache, HF_ENDPOINT: endpoint, HF_HUB_DISABLE_XET: '1', HF_HUB_OFFLINE: '' });
    assert.equal(theirs.status, 0, theirs.stderr.slice(-3000));
    const before = hub.requests.length;
    const ours = await cli(['logps', '--model', 'acme/tiny-llama', '--data', 'pairs.jsonl', '--out', 'theirs.jsonl', '--backend', 'wasm'], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache });
    assert.equal(ours.status, 0, ours.stderr);
    assert.match(ours.stderr, /from the Hugging Face cache/);
    assert.deepEqual(hub.requests.slice(before), [], 'no request reached the hub');
    const direct = await cli(['logps', '--model', model, '--data', 'pairs.jsonl', '--out', 'direct.jsonl', '--backend', 'wasm'], {});
    assert.equal(direct.status, 0, direct.stderr);
    assert.equal(readFileSync(join(dir, 'theirs.jsonl'), 'utf8'), readFileSync(join(dir, 'direct.jsonl'), 'utf8'));
  });
});

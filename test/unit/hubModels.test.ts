import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { LoopbackHub } from './loopbackHub.ts';

// Models by their Hub name against a loopback test double of the Hub (loopbackHub.ts), with the
// real cache layout on disk and the real CLI (spawned, so environment variables apply as for a user).
const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'hub-models-'));
const model = join(dir, 'tiny');
const hub = new LoopbackHub([
  { id: 'acme/tiny-llama', dir: model },
  { id: 'acme/gated-llama', dir: model, gated: true },
]);
let endpoint = '';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>, cwd = dir): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, 'dist', 'cli.cjs'), ...args], { cwd, env: { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '', HF_HOME: join(dir, 'hf-home'), ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

const cacheOf = (name: string) => join(dir, name);

describe('models by their Hugging Face name', () => {
  before(async () => {
    initModel(model, { arch: 'llama', size: 'tiny', seed: 5 });
    // Files a model repo also carries that must not be downloaded.
    writeFileSync(join(model, 'pytorch_model.bin'), Buffer.alloc(4096, 1));
    writeFileSync(join(model, 'README.md'), '# tiny\n');
    endpoint = await hub.start();
    writeFileSync(join(dir, 'pairs.jsonl'), '{"prompt": "Say red.", "chosen": "red red", "rejected": "blue blue"}\n{"prompt": "Say blue.", "chosen": "blue", "rejected": "red"}\n');
  });
  after(async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('download writes the HF cache layout (refs, snapshots linked to blobs), only what a model needs', async () => {
    const run = await cli(['download', 'acme/tiny-llama'], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cacheOf('cache-a') });
    assert.equal(run.status, 0, run.stderr);
    const repoDir = join(cacheOf('cache-a'), 'models--acme--tiny-llama');
    const sha = readFileSync(join(repoDir, 'refs', 'main'), 'utf8');
    assert.equal(sha, hub.commit('acme/tiny-llama'));
    const snapshot = join(repoDir, 'snapshots', sha);
    assert.equal(run.stdout.trim(), snapshot);
    assert.deepEqual(readdirSync(snapshot).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    assert.ok(lstatSync(join(snapshot, 'model.safetensors')).isSymbolicLink());
    assert.deepEqual(readFileSync(join(snapshot, 'model.safetensors')), readFileSync(join(model, 'model.safetensors')));
    assert.match(run.stderr, /downloading acme\/tiny-llama: .* of .* \(100%\)/);
    assert.ok(!hub.requests.some((r) => r.includes('pytorch_model.bin') || r.includes('README.md')), 'no .bin duplicate, no README');
  });

  it('an interrupted download resumes with a range request and is checked before use', async () => {
    const cache = cacheOf('cache-b');
    hub.cutOnce('model.safetensors', 50_000);
    const first = await cli(['download', 'acme/tiny-llama'], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache });
    assert.equal(first.status, 2);
    assert.match(first.stderr, /run it again to resume/);
    const blobs = join(cache, 'models--acme--tiny-llama', 'blobs');
    const partial = readdirSync(blobs).find((n) => n.endsWith('.incomplete'))!;
    assert.ok(partial, 'the partial file is kept, under its .incomplete name');
    assert.ok(!existsSync(join(cache, 'models--acme--tiny-llama', 'refs', 'main')), 'no ref points at a partial model');
    const before = hub.requests.length;
    const second = await cli(['download', 'acme/tiny-llama'], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache });
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(readFileSync(join(second.stdout.trim(), 'model.safetensors')), readFileSync(join(model, 'model.safetensors')));
    assert.ok(hub.requests.slice(before).some((r) => r === 'GET /acme/tiny-llama/resolve/' + hub.commit('acme/tiny-llama') + '/model.safetensors'));
    assert.ok(!readdirSync(blobs).some((n) => n.endsWith('.incomplete')));
  });

  it('logps --model org/name offline, from the cache, gives the numbers of the folder itself', async () => {
    const cache = cacheOf('cache-a');
    const byName = await cli(['logps', '--model', 'acme/tiny-llama', '--data', 'pairs.jsonl', '--out', 'by-name.jsonl', '--backend', 'wasm'], { HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cache, HF_ENDPOINT: 'http://127.0.0.1:9' });
    assert.equal(byName.status, 0, byName.stderr);
    const byFolder = await cli(['logps', '--model', model, '--data', 'pairs.jsonl', '--out', 'by-folder.jsonl', '--backend', 'wasm'], {});
    assert.equal(byFolder.status, 0, byFolder.stderr);
    assert.equal(readFileSync(join(dir, 'by-name.jsonl'), 'utf8'), readFileSync(join(dir, 'by-folder.jsonl'), 'utf8'));
  });

  it('offline with nothing cached, a gated repo without a token, and a missing repo: one message each, exit 2', async () => {
    const offline = await cli(['download', 'acme/tiny-llama'], { HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cacheOf('empty') });
    assert.equal(offline.status, 2);
    assert.match(offline.stderr, /not in the Hugging Face cache .* HF_HUB_OFFLINE=1 forbids downloading it/);
    const gated = await cli(['download', 'acme/gated-llama'], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cacheOf('gated') });
    assert.equal(gated.status, 2);
    assert.match(gated.stderr, /acme\/gated-llama is gated or private \(HTTP 401\): accept its licence on .* then give a token .*HF_TOKEN/);
    const withToken = await cli(['download', 'acme/gated-llama'], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cacheOf('gated'), HF_TOKEN: hub.token });
    assert.equal(withToken.status, 0, withToken.stderr);
    const missing = await cli(['download', 'acme/no-such-model'], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cacheOf('missing') });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /acme\/no-such-model was not found on the Hub \(HTTP 404\): check the name/);
    const noNetwork = await cli(['logps', '--model', 'acme/tiny-llama', '--data', 'pairs.jsonl', '--out', 'x.jsonl'], { HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_CACHE: cacheOf('nothing') });
    assert.equal(noNetwork.status, 2);
    assert.match(noNetwork.stderr, /--model "acme\/tiny-llama" is not a local folder .*cannot reach the Hugging Face Hub at http:\/\/127\.0\.0\.1:9/);
  });

  it('the token file that huggingface-cli login writes is used', async () => {
    writeFileSync(join(dir, 'token-file'), `${hub.token}\n`);
    const run = await cli(['download', 'acme/gated-llama'], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cacheOf('token-file-cache'), HF_TOKEN_PATH: join(dir, 'token-file') });
    assert.equal(run.status, 0, run.stderr);
  });
});

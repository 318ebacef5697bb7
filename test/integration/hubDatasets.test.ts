import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LoopbackHub } from '../unit/loopbackHub.ts';
import { RENAMED_COLUMNS, requirePyarrow, writeParquet } from '../support/parquetFixtures.ts';
import { colorTask, tinyModel, workspace, writeConfig, writeJsonl } from './trainFixtures.ts';
import { trlPython } from './trlFixtures.ts';

// Hugging Face Hub datasets by name, against a loopback TEST DOUBLE of the Hub (a true system
// boundary: HTTP): download into the HF cache with progress, reuse offline, the Hub's Parquet
// conversion for a repo without Parquet, a gated dataset's error.

const ws = workspace('hub-datasets');
const root = join(import.meta.dirname, '..', '..');
let hub: LoopbackHub | undefined;
let endpoint = '';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'dist', 'cli.cjs'), ...args], { cwd: ws.dir, env: { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '', HF_HOME: join(ws.dir, 'hf-home'), ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const cacheOf = (name: string) => join(ws.dir, 'caches', name);

describe('Hub datasets by name', () => {
  before(async () => {
    const python = trlPython();
    if (!python) return;
    const pairs = writeJsonl(join(ws.dir, 'color.jsonl'), colorTask(12));
    const held = writeJsonl(join(ws.dir, 'color-test.jsonl'), colorTask(4, 40));
    // acme/prefs: Parquet of its own, train and test splits, stack-exchange-paired's column names.
    writeParquet(python, pairs, join(ws.dir, 'repos/prefs/data/train-00000-of-00001.parquet'), 'renamed', 'snappy');
    writeParquet(python, held, join(ws.dir, 'repos/prefs/data/test-00000-of-00001.parquet'), 'renamed', 'zstd');
    writeFileSync(join(ws.dir, 'repos/prefs/README.md'), '---\nlicense: mit\n---\n# prefs\n');
    // acme/jsonl-prefs: JSON Lines only; the Hub's Parquet conversion (refs/convert/parquet) has it as default/train/0000.parquet.
    mkdirSync(join(ws.dir, 'repos/jsonl-prefs'), { recursive: true });
    copyFileSync(pairs, join(ws.dir, 'repos/jsonl-prefs/train.jsonl'));
    writeParquet(python, pairs, join(ws.dir, 'repos/jsonl-prefs-converted/default/train/0000.parquet'), 'standard', 'snappy');
    mkdirSync(join(ws.dir, 'repos/gated'), { recursive: true });
    copyFileSync(join(ws.dir, 'repos/prefs/data/train-00000-of-00001.parquet'), join(ws.dir, 'repos/gated/train.parquet'));
    hub = new LoopbackHub([
      { id: 'acme/prefs', dir: join(ws.dir, 'repos/prefs'), type: 'dataset' },
      { id: 'acme/jsonl-prefs', dir: join(ws.dir, 'repos/jsonl-prefs'), type: 'dataset', convertedDir: join(ws.dir, 'repos/jsonl-prefs-converted') },
      { id: 'acme/gated-prefs', dir: join(ws.dir, 'repos/gated'), type: 'dataset', gated: true },
    ]);
    endpoint = await hub.start();
  });
  after(async () => {
    await hub?.stop();
    ws.cleanup();
  });

  const columns = ['--columns', 'prompt=question,chosen=response_j,rejected=response_k'];

  it('downloads a split into the HF cache with progress, then reads it offline with no network', async (t) => {
    if (!requirePyarrow(t)) return;
    const cache = cacheOf('a');
    const first = await cli(['validate', 'acme/prefs', ...columns], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache });
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.match(first.stderr, /downloading the dataset acme\/prefs/);
    assert.match(first.stderr, /downloading acme\/prefs: .* \(100%\)/);
    assert.match(first.stdout, /acme\/prefs: 12 rows \(standard, for DPO\): ok/);
    const sha = hub!.commit('acme/prefs', 'dataset');
    // The layout huggingface_hub and `datasets` use: refs/main, snapshots/<sha>/<path>, blobs/.
    assert.equal(readFileSync(join(cache, 'datasets--acme--prefs/refs/main'), 'utf8'), sha);
    assert.ok(existsSync(join(cache, 'datasets--acme--prefs/snapshots', sha, 'data/train-00000-of-00001.parquet')));
    assert.ok(!existsSync(join(cache, 'datasets--acme--prefs/snapshots', sha, 'data/test-00000-of-00001.parquet')), 'only the split asked for is downloaded');

    const requests = hub!.requests.length;
    const offline = await cli(['validate', 'acme/prefs', ...columns], { HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_CACHE: cache });
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /12 rows/);
    const cachedOnline = await cli(['validate', 'acme/prefs', ...columns], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache });
    assert.equal(cachedOnline.code, 0);
    assert.equal(hub!.requests.length, requests, 'a cached split is read without asking the Hub');

    // A split that is not cached, offline: said with the split and the cache.
    const notCached = await cli(['validate', 'acme/prefs', '--split', 'test', ...columns], { HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cache });
    assert.equal(notCached.code, 2);
    assert.match(notCached.stderr, /acme\/prefs@main \(split "test"\) is not in the Hugging Face cache.*HF_HUB_OFFLINE=1/);
    const test = await cli(['validate', 'acme/prefs', '--split', 'test', ...columns], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache });
    assert.equal(test.code, 0, test.stderr);
    assert.match(test.stdout, /4 rows/);
  });

  it("uses the Hub's Parquet conversion of a repo without Parquet, and names the splits there are", async (t) => {
    if (!requirePyarrow(t)) return;
    const cache = cacheOf('b');
    const out = join(ws.dir, 'converted.jsonl');
    const run = await cli(['convert', 'acme/jsonl-prefs', out], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 12);
    assert.ok(existsSync(join(cache, 'datasets--acme--jsonl-prefs/refs/refs/convert/parquet')));
    const offline = await cli(['validate', 'acme/jsonl-prefs'], { HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cache });
    assert.equal(offline.code, 0, offline.stderr);
    const missingSplit = await cli(['validate', 'acme/prefs', '--split', 'validation'], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache });
    assert.equal(missingSplit.code, 2);
    assert.match(missingSplit.stderr, /no Parquet files for split "validation"; its splits: test, train/);
  });

  it("a gated dataset's error says how to get access; with a token it downloads", async (t) => {
    if (!requirePyarrow(t)) return;
    const gated = await cli(['validate', 'acme/gated-prefs'], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cacheOf('gated') });
    assert.equal(gated.code, 2);
    assert.match(gated.stderr, /the dataset acme\/gated-prefs is gated or private \(HTTP 401\): accept its licence on https:\/\/huggingface.co\/datasets\/acme\/gated-prefs .*HF_TOKEN/);
    const withToken = await cli(['validate', 'acme/gated-prefs', ...columns], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cacheOf('gated'), HF_TOKEN: hub!.token });
    assert.equal(withToken.code, 0, withToken.stderr);
    const missing = await cli(['validate', 'acme/no-such-prefs'], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cacheOf('gated') });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /the dataset acme\/no-such-prefs was not found on the Hub \(HTTP 404\)/);
  });

  it('trains from a Hub dataset named in the config (train and test splits, column mapping)', async (t) => {
    if (!requirePyarrow(t)) return;
    const model = tinyModel(join(ws.dir, 'model'));
    const config = writeConfig(join(ws.dir, 'hub.yaml'), {
      model: { name: model },
      data: { train_path: 'acme/prefs', eval_path: 'acme/prefs', columns: RENAMED_COLUMNS, max_length: 64, max_prompt_length: 32 },
      training: { engine: 'tfjs', backend: 'wasm', output_dir: join(ws.dir, 'hub-run'), max_steps: 2, batch_size: 4, eval_steps: 2, logging_steps: 1 },
      lora: { r: 4, lora_alpha: 8 },
    });
    const run = await cli(['train', '--config', config], { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cacheOf('train') });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /training data acme\/prefs: 12 pairs/);
    assert.match(run.stderr, /eval data acme\/prefs: 4 pairs/);
    assert.match(run.stdout, /"eval_loss"|"type":"eval"/);
  });
});

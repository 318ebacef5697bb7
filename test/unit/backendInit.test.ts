import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, WASM_BINARY_FILES, WASM_DIR_ENV } from '../../src/trainer/backend/index.ts';
import { describeLoadError, loadNativePackage, NativeBackendUnavailable } from '../../src/trainer/backend/nativeBackends.ts';
import { resolveFromAnchors } from '../../src/trainer/backend/projectRequire.ts';
import { findWasmBinaryDir, wasmBinaryCandidates } from '../../src/trainer/backend/wasmBinaries.ts';

const scratch = mkdtempSync(join(tmpdir(), 'dpo-backend-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const nativesInstalled = resolveFromAnchors('@tensorflow/tfjs-node') != null || resolveFromAnchors('@tensorflow/tfjs-node-gpu') != null;

/** A fake optional package in <root>/node_modules whose entry point runs `body`. */
function fakePackage(root: string, name: string, body: string): void {
  const dir = join(root, 'node_modules', ...name.split('/'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '9.9.9', main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), body);
}

async function withCwd<T>(dir: string, run: () => Promise<T>): Promise<T> {
  const previous = process.cwd();
  process.chdir(dir);
  try {
    return await run();
  } finally {
    process.chdir(previous);
  }
}

describe('initBackend', () => {
  it('falls back from the missing native packages to wasm, saying why and what it uses', { skip: nativesInstalled && 'a native tfjs package is installed here' }, async () => {
    const lines: string[] = [];
    const choice = await initBackend('auto', (l) => lines.push(l));
    assert.equal(choice.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.deepEqual(choice.fellBackFrom.map((f) => f.name), ['tfjs-node-gpu', 'tfjs-node']);
    assert.match(choice.fellBackFrom[0]!.reason, /@tensorflow\/tfjs-node-gpu is not installed/);
    assert.match(choice.fellBackFrom[1]!.reason, /@tensorflow\/tfjs-node is not installed/);
    assert.equal(lines.length, 3);
    assert.match(lines[2]!, /^backend: wasm: SIMD (on|off), 1 thread .*binaries from .*\[fell back from tfjs-node-gpu, tfjs-node\]$/);
  });

  it('starts exactly the backend asked for when it can', async () => {
    const lines: string[] = [];
    assert.deepEqual(await initBackend('cpu', (l) => lines.push(l)), { name: 'cpu', fellBackFrom: [] });
    assert.equal(tf.getBackend(), 'cpu');
    assert.deepEqual(lines, ['backend: cpu: plain JavaScript, slowest']);
    assert.deepEqual(await initBackend('wasm'), { name: 'wasm', fellBackFrom: [] });
    assert.equal(tf.getBackend(), 'wasm');
  });

  it('registers gradients, so training code works right after it', async () => {
    await initBackend('wasm');
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, -2]));
    assert.deepEqual(Array.from(await g.data()), [2, -4]);
  });

  it('rejects an unknown name', async () => {
    await assert.rejects(initBackend('webgl' as never), /unknown backend 'webgl'/);
  });

  it('reports a native package that fails to load or to initialise, and the one that worked', async () => {
    const root = join(scratch, 'workspace');
    const req = createRequire(import.meta.url);
    const core = JSON.stringify(req.resolve('@tensorflow/tfjs-core'));
    const cpu = JSON.stringify(req.resolve('@tensorflow/tfjs-backend-cpu'));
    fakePackage(root, '@tensorflow/tfjs-node-gpu', `throw new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory\\n    at Object.<anonymous> (binding.js:1:1)');`);
    // Stands in for tfjs-node: registers tf's 'tensorflow' backend (a cpu backend in disguise).
    fakePackage(root, '@tensorflow/tfjs-node', `const tf = require(${core}); const { MathBackendCPU } = require(${cpu}); tf.registerBackend('tensorflow', () => new MathBackendCPU(), 3);`);
    const lines: string[] = [];
    try {
      const choice = await withCwd(root, () => initBackend('auto', (l) => lines.push(l)));
      assert.equal(choice.name, 'tfjs-node');
      assert.equal(tf.getBackend(), 'tensorflow');
      assert.equal(choice.fellBackFrom.length, 1);
      assert.equal(choice.fellBackFrom[0]!.name, 'tfjs-node-gpu');
      assert.equal(
        choice.fellBackFrom[0]!.reason,
        '@tensorflow/tfjs-node-gpu failed to load, CUDA/cuDNN libraries missing or mismatched: libcudart.so.11.0: cannot open shared object file: No such file or directory',
      );
      assert.match(lines.at(-1)!, /^backend: tfjs-node: @tensorflow\/tfjs-node 9\.9\.9, tfjs-core 4\.\d+\.\d+ \[fell back from tfjs-node-gpu\]$/);

      // Now one whose backend cannot start: tf only logs that, so the reason must be captured.
      tf.removeBackend('tensorflow');
      fakePackage(root, '@tensorflow/tfjs-node', `const tf = require(${core}); tf.registerBackend('tensorflow', () => { throw new Error('Could not load libtensorflow.so.2\\nmore detail'); }, 3);`);
      delete req.cache[join(root, 'node_modules', '@tensorflow', 'tfjs-node', 'index.js')];
      const again = await withCwd(root, () => initBackend('tfjs-node'));
      assert.equal(again.name, 'wasm');
      assert.deepEqual(again.fellBackFrom, [{ name: 'tfjs-node', reason: 'the tensorflow backend failed to initialise: Error: Could not load libtensorflow.so.2' }]);
    } finally {
      if (tf.findBackendFactory('tensorflow') != null) tf.removeBackend('tensorflow');
      await tf.setBackend('wasm');
    }
  });
});

describe('native package loading', () => {
  it('says "not installed" for a package that is not there', () => {
    assert.throws(() => loadNativePackage('tfjs-node', [join(scratch, 'nowhere', 'noop.js')]), (e: unknown) => {
      assert.ok(e instanceof NativeBackendUnavailable);
      assert.equal(e.message, '@tensorflow/tfjs-node is not installed (npm install @tensorflow/tfjs-node to use it)');
      return true;
    });
  });

  it('keeps the first line of a load error and names the usual cause', () => {
    const root = join(scratch, 'broken');
    fakePackage(root, '@tensorflow/tfjs-node', `throw new Error('libtensorflow.so.2: cannot open shared object file: No such file or directory\\nstack');`);
    assert.throws(
      () => loadNativePackage('tfjs-node', [join(root, 'noop.js')]),
      { message: '@tensorflow/tfjs-node failed to load, its native libtensorflow is missing or broken (reinstall it): libtensorflow.so.2: cannot open shared object file: No such file or directory' },
    );
    assert.equal(describeLoadError('p', new Error('\n  Cannot find module \'@tensorflow/tfjs\'\nRequire stack:')), "p failed to load: Cannot find module '@tensorflow/tfjs'");
    assert.equal(describeLoadError('p', 'weird'), 'p failed to load: weird');
  });
});

describe('wasm binaries', () => {
  it('are found only in a folder holding every file', () => {
    const empty = join(scratch, 'empty');
    const full = join(scratch, 'full');
    mkdirSync(empty, { recursive: true });
    mkdirSync(full, { recursive: true });
    for (const f of WASM_BINARY_FILES) writeFileSync(join(full, f), '');
    writeFileSync(join(empty, WASM_BINARY_FILES[0]), '');
    assert.equal(findWasmBinaryDir([empty, full]), full);
    assert.equal(findWasmBinaryDir([empty]), undefined);
  });

  it('are looked for in the environment override first, then the package', () => {
    const previous = process.env[WASM_DIR_ENV];
    process.env[WASM_DIR_ENV] = join(scratch, 'override');
    try {
      const candidates = wasmBinaryCandidates();
      assert.equal(candidates[0], join(scratch, 'override'));
      assert.match(candidates.at(-1)!, /node_modules[\\/]@tensorflow[\\/]tfjs-backend-wasm[\\/]dist$/);
      assert.equal(findWasmBinaryDir(), candidates.at(-1), 'from source the package itself ships them');
    } finally {
      if (previous === undefined) delete process.env[WASM_DIR_ENV];
      else process.env[WASM_DIR_ENV] = previous;
    }
  });
});

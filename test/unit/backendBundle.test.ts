import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as esbuild from 'esbuild';
import { WASM_BINARY_FILES } from '../../src/trainer/backend/index.ts';

// The backend as shipped: bundled by esbuild the way scripts/build.mjs bundles the CLI, run from
// a folder with no node_modules anywhere above it.

const repo = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'dpo-bundle-'));
const bundle = join(out, 'trainer.cjs');
let warnings: esbuild.Message[] = [];
let cpuGrad: number[] = [];

const entry = `
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './src/trainer/backend/index.ts';
initBackend(process.argv[2] as 'wasm', (line) => console.log(line)).then(async (choice) => {
  const w = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.matMul(tf.gather(x, tf.tensor1d([2, 0, 2], 'int32')), x, false, true).logSigmoid()))(w);
  console.log(JSON.stringify({ choice, backend: tf.getBackend(), grad: Array.from(await g.data()) }));
});
`;

function run(): { lines: string[]; result: { choice: { name: string }; backend: string; grad: number[] } } {
  const stdout = execFileSync(process.execPath, [bundle, 'wasm'], { cwd: out, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = stdout.trim().split('\n');
  return { lines, result: JSON.parse(lines.at(-1)!) };
}

before(async () => {
  const result = await esbuild.build({
    stdin: { contents: entry, resolveDir: repo, sourcefile: 'entry.ts', loader: 'ts' },
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
    logLevel: 'silent',
  });
  warnings = result.warnings;
});
after(() => rmSync(out, { recursive: true, force: true }));

describe('backend in an esbuild bundle', () => {
  it('bundles without warnings (no import.meta, no unbundlable require)', () => {
    assert.deepEqual(warnings.map((w) => w.text), []);
  });

  it('falls back to cpu, saying where it looked, when the .wasm files were not copied', () => {
    const { lines, result } = run();
    assert.equal(result.backend, 'cpu');
    assert.match(lines[0]!, new RegExp(`^backend wasm unavailable: tfjs-backend-wasm-simd.wasm and tfjs-backend-wasm.wasm not found in ${out}`));
    assert.equal(result.grad.length, 6);
    cpuGrad = result.grad;
  });

  it('runs wasm from the .wasm files copied next to the bundle, with the same gradients', () => {
    assert.equal(cpuGrad.length, 6, 'the cpu run above gives the reference');
    const source = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    for (const f of WASM_BINARY_FILES) copyFileSync(join(source, f), join(out, f));
    const { lines, result } = run();
    assert.equal(result.backend, 'wasm');
    assert.match(lines[0]!, new RegExp(`binaries from ${out}`));
    result.grad.forEach((g, i) => assert.ok(Math.abs(g - cpuGrad[i]!) < 1e-4 * (1 + Math.abs(cpuGrad[i]!)), `grad[${i}] ${g} vs cpu ${cpuGrad[i]}`));
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// `dpo-studio setup trl` where it cannot succeed: every failure is one message saying what to
// do, exit 2. (The success path runs in CI, which sets the engine up with this command.)
const root = join(import.meta.dirname, '..', '..');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [join(root, 'dist', 'cli.cjs'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('dpo-studio setup trl', () => {
  it('says which Python it could not run, and makes no environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'setup-trl-'));
    try {
      const run = cli(['setup', 'trl', '--dir', join(dir, 'env'), '--python', join(dir, 'no-such-python')]);
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /cannot run .*no-such-python/);
      assert.ok(!existsSync(join(dir, 'env', 'bin', 'python')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--check names what an interpreter lacks and how to get it', () => {
    const python3 = spawnSync('python3', ['-c', 'import trl'], { encoding: 'utf8' });
    if (python3.status === 0 || python3.error) return;
    const run = cli(['setup', 'trl', '--check', '--python', 'python3']);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /lacks torch, transformers, trl, peft, accelerate.*dpo-studio setup trl/);
  });

  it('--check without an environment says to run setup', () => {
    const dir = mkdtempSync(join(tmpdir(), 'setup-trl-'));
    try {
      const run = cli(['setup', 'trl', '--check'], { DPO_STUDIO_TRL_ENV: join(dir, 'none'), DPO_STUDIO_PYTHON: '' });
      assert.equal(run.status, 2);
      assert.match(run.stderr, /needs its Python environment, and there is none at .*none: run `dpo-studio setup trl`/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an engine it does not know', () => {
    const run = cli(['setup', 'tensorflow']);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /setup knows one engine, "trl"/);
  });
});

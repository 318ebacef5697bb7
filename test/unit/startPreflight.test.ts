import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { aptCommand, missingBuildPackages } from '../../scripts/vscode/prepare.mjs';

describe('npm start on a machine without the build packages', () => {
  it('names each missing package and the one command that installs them', () => {
    const none = missingBuildPackages({ exists: () => false, command: () => false });
    assert.deepEqual(none.map((m) => m.apt), ['python3', 'make', 'g++', 'libkrb5-dev']);
    assert.equal(aptCommand(none, 0), 'apt-get update && apt-get install -y --no-install-recommends python3 make g++ libkrb5-dev');
    assert.equal(aptCommand(none, 1000), 'sudo apt-get update && sudo apt-get install -y --no-install-recommends python3 make g++ libkrb5-dev');
    assert.deepEqual(missingBuildPackages({ exists: (f: string) => f === '/usr/include/gssapi/gssapi.h', command: () => true }), []);
  });

  it('says what to run before building anything, in under a few seconds', () => {
    // A PATH with node and sh but no make or g++, and a cache where code-server is not installed yet.
    const bin = mkdtempSync(join(tmpdir(), 'dpo-start-bin-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    for (const tool of ['sh', 'python3']) symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim() || `/usr/bin/${tool}`, join(bin, tool));
    const cache = join(bin, 'cache');
    mkdirSync(cache);
    const started = Date.now();
    const r = spawnSync(process.execPath, [resolve('scripts/start.mjs')], { encoding: 'utf8', env: { PATH: bin, HOME: bin, DPO_STUDIO_CACHE: cache, DPO_STUDIO_NO_APT: '1' }, timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /the first start installs code-server, whose native modules need make, g\+\+.*\. Run:\n\n {4}(sudo )?apt-get update && (sudo )?apt-get install -y --no-install-recommends make g\+\+/);
    assert.doesNotMatch(r.stderr, /npm run build|esbuild|installing Node/);
    assert.ok(Date.now() - started < 30_000);
  });
});

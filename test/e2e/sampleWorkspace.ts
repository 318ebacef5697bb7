import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../scripts/vscode/prepare.mjs';

/**
 * The sample workspace as `npm start` lays it out for the real-VS-Code tests: the sample configs
 * and data, and the tiny Llama that `npm start` writes to models/tiny-llama.
 */

/** Writes the sample workspace's model into `dir` with the shipped CLI, as `npm start` does. */
export function writeSampleModel(dir: string): string {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.cjs'), 'init-model', dir, '--arch', 'llama', '--size', 'tiny'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `init-model failed: ${r.stderr}`);
  return dir;
}

/** What withVSCode copies into the workspace: samples/configs, samples/data and the model. */
export function sampleWorkspaceCopy(modelDir: string): Record<string, string> {
  return {
    configs: path.join(repoRoot, 'samples', 'configs'),
    data: path.join(repoRoot, 'samples', 'data'),
    'models/tiny-llama': modelDir,
  };
}

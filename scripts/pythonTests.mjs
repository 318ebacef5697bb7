// Runs the TRL engine's pytest suite with the environment `dpo-studio setup trl` made. Without
// that environment the suite is skipped with the command that makes it, except under CI,
// where it must exist (.ci/run makes it) and its absence fails.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const envDir = process.env.DPO_STUDIO_TRL_ENV ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dpo-studio', 'trl-env');
const python = process.env.DPO_STUDIO_PYTHON ?? join(envDir, process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');
if (!existsSync(python)) {
  const message = `no TRL environment at ${envDir}: run \`node dist/cli.cjs setup trl\``;
  if (process.env.CI) {
    console.error(`test:python: ${message}`);
    process.exit(1);
  }
  console.error(`test:python skipped: ${message} to include these tests`);
  process.exit(0);
}
const result = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'python/tests'], { stdio: 'inherit', env: { ...process.env, PYTHONPATH: 'python', PYTHONDONTWRITEBYTECODE: '1' } });
process.exit(result.status ?? 1);

// Runs the TRL engine's pytest suite with the interpreter the TRL tests use (trlFixtures.ts:
// DPO_STUDIO_PYTHON, else the environment `dpo-studio setup trl` made). Without it the suite is
// skipped with the command that makes it, except under CI, where its absence fails.
import { spawnSync } from 'node:child_process';
import { defaultTrlEnvDir } from '../src/trlEngine/pythonEnvironment.ts';
import { trlPython } from '../test/integration/trlFixtures.ts';

const python = trlPython();
if (!python) {
  const message = `no TRL environment at ${defaultTrlEnvDir()}: run \`npm run setup:trl\``;
  if (process.env.CI) {
    console.error(`test:python: ${message}`);
    process.exit(1);
  }
  console.error(`test:python skipped: ${message} to include these tests`);
  process.exit(0);
}
const result = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'python/tests'], { stdio: 'inherit', env: { ...process.env, PYTHONPATH: 'python', PYTHONDONTWRITEBYTECODE: '1' } });
process.exit(result.status ?? 1);

import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { defaultTrlEnvDir, venvPython } from '../../src/trlEngine/pythonEnvironment.ts';

/**
 * The TRL engine's tests need the environment `dpo-studio setup trl` makes (CI makes it in
 * .ci/run). Where it is missing they are skipped with the command to run, except under CI,
 * where a missing environment is a failure: the suite must not pass by testing nothing.
 */
export function trlPython(): string | undefined {
  const python = process.env.DPO_STUDIO_PYTHON ?? venvPython(defaultTrlEnvDir());
  return existsSync(python) ? python : undefined;
}

export function requireTrl(t: TestContext): string | undefined {
  const python = trlPython();
  if (python) return python;
  if (process.env.CI) throw new Error(`no TRL environment at ${defaultTrlEnvDir()}: CI must run \`node dist/cli.cjs setup trl\` first`);
  t.skip('no TRL environment: run `node dist/cli.cjs setup trl` to include these tests');
  return undefined;
}

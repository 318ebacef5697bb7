import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { TRL_RUNNER_MODULE } from '../core/training/engineContract.ts';

/**
 * Where the TRL engine's Python lives and what it can do. The environment `dpo-studio setup
 * trl` makes sits in the user's cache folder, so every workspace and the extension share it;
 * `training.python`, `--python` or DPO_STUDIO_PYTHON name another one (a conda env with TRL).
 */

export function defaultTrlEnvDir(): string {
  if (process.env.DPO_STUDIO_TRL_ENV) return resolve(process.env.DPO_STUDIO_TRL_ENV);
  if (process.platform === 'win32') return join(process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'dpo-studio', 'trl-env');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'dpo-studio', 'trl-env');
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dpo-studio', 'trl-env');
}

export function venvPython(envDir: string): string {
  return process.platform === 'win32' ? join(envDir, 'Scripts', 'python.exe') : join(envDir, 'bin', 'python');
}

/** The folder holding the `dpo_studio_trl` package: `python/` next to dist/ or src/. */
export function runnerPackageDir(): string {
  const starts = [process.env.DPO_STUDIO_TRL_PACKAGE, process.argv[1] ? dirname(resolve(process.argv[1])) : undefined, process.cwd()].filter((s): s is string => !!s);
  for (const start of starts) {
    let dir = start;
    for (;;) {
      if (existsSync(join(dir, 'python', TRL_RUNNER_MODULE, '__init__.py'))) return join(dir, 'python');
      if (existsSync(join(dir, TRL_RUNNER_MODULE, '__init__.py'))) return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error(`cannot find the ${TRL_RUNNER_MODULE} Python package (python/${TRL_RUNNER_MODULE} beside dist/); set DPO_STUDIO_TRL_PACKAGE to the folder holding it`);
}

export type PythonSource = 'config' | 'flag' | 'environment variable' | 'setting' | 'default environment';

export interface PythonChoice {
  python: string;
  source: PythonSource;
}

/**
 * The interpreter a run or check uses, in order: the config's `training.python` (a path resolves
 * against the working directory, a bare command is looked up on PATH), DPO_STUDIO_PYTHON, the
 * set-up environment.
 */
export function choosePython(configPython: string | undefined, cwd = process.cwd()): PythonChoice {
  if (configPython !== undefined) return { python: configPython.includes('/') || configPython.includes('\\') ? resolve(cwd, configPython) : configPython, source: 'config' };
  if (process.env.DPO_STUDIO_PYTHON) return { python: process.env.DPO_STUDIO_PYTHON, source: 'environment variable' };
  return { python: venvPython(defaultTrlEnvDir()), source: 'default environment' };
}

export function runnerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const packageDir = runnerPackageDir();
  const pythonPath = process.env.PYTHONPATH ? `${packageDir}${process.platform === 'win32' ? ';' : ':'}${process.env.PYTHONPATH}` : packageDir;
  return { ...process.env, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', TOKENIZERS_PARALLELISM: 'false', ...extra };
}

export interface CudaDevice {
  index: number;
  name: string;
  memory_bytes: number;
  capability: string;
}

export interface TrlEnvironmentReport {
  python: string;
  executable: string;
  versions: Record<string, string | null>;
  missing: string[];
  devices: { cuda: CudaDevice[]; mps: boolean; bf16: boolean; cuda_version: string | null };
}

export class PythonEnvironmentError extends Error {}

function looksRunnable(python: string): boolean {
  if (!python.includes('/') && !python.includes('\\')) return true; // a command on PATH: let spawn find it
  const stat = statSync(python, { throwIfNoEntry: false });
  return !!stat && stat.isFile();
}

/** What `python -m dpo_studio_trl check` reports, or a PythonEnvironmentError saying what to do. */
export async function inspectPython(choice: PythonChoice): Promise<TrlEnvironmentReport> {
  const setUp = 'run `dpo-studio setup trl` (in VS Code: "DPO: Set Up TRL Engine")';
  if (!looksRunnable(choice.python)) {
    throw new PythonEnvironmentError(
      choice.source === 'default environment'
        ? `engine trl needs its Python environment, and there is none at ${dirname(dirname(choice.python))}: ${setUp}, or name an interpreter that has TRL with training.python / --python.`
        : `engine trl: the Python interpreter ${choice.python} (from the ${choice.source}) does not exist.`,
    );
  }
  const { code, stdout, stderr, spawnError } = await new Promise<{ code: number | null; stdout: string; stderr: string; spawnError?: Error }>((done) => {
    const child = spawn(choice.python, ['-m', TRL_RUNNER_MODULE, 'check'], { env: runnerEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => done({ code: null, stdout, stderr, spawnError: error }));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
  if (spawnError) throw new PythonEnvironmentError(`engine trl: cannot run ${choice.python} (from the ${choice.source}): ${spawnError.message}`);
  let report: TrlEnvironmentReport | undefined;
  try {
    report = JSON.parse(stdout.trim().split('\n').pop() ?? '') as TrlEnvironmentReport;
  } catch {
    report = undefined;
  }
  if (code !== 0 || !report) {
    const last = stderr.trim().split('\n').pop() ?? '';
    throw new PythonEnvironmentError(`engine trl: ${choice.python} (from the ${choice.source}) could not report its libraries (exit ${code}): ${last || 'no output'}. Is it Python 3.10 or newer? Otherwise ${setUp}.`);
  }
  if (report.missing.length > 0)
    throw new PythonEnvironmentError(`engine trl: ${choice.python} (from the ${choice.source}, Python ${report.python}) lacks ${report.missing.join(', ')}: ${setUp}, or point training.python at an environment that has them.`);
  return report;
}

/** The Python 3 on PATH for making the environment. */
export function findSystemPython(): string | undefined {
  for (const name of process.platform === 'win32' ? ['py', 'python'] : ['python3', 'python']) {
    const result = spawnSync(name, ['-c', 'import sys; print(sys.version_info >= (3, 10))'], { encoding: 'utf8' });
    if (result.status === 0 && result.stdout.trim() === 'True') return name;
  }
  return undefined;
}

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/files/atomicWrite.ts';
import { defaultTrlEnvDir, findSystemPython, inspectPython, PythonEnvironmentError, runnerPackageDir, venvPython, type TrlEnvironmentReport } from './pythonEnvironment.ts';

/**
 * `dpo-studio setup trl`: a virtual environment with the pinned, tested versions of torch,
 * transformers, trl, peft, accelerate and tensorboard (bitsandbytes only where CUDA is). A
 * marker holds the hash of what was installed, so a second run that finds everything is quick.
 */

export const REQUIREMENTS_FILE = 'requirements-trl.txt';
const MARKER = '.dpo-studio-trl-env.json';
/** Tested with the pinned torch; only installed where an NVIDIA driver answers. */
const BITSANDBYTES = 'bitsandbytes==0.49.1';

export interface SetupOptions {
  dir?: string;
  /** The Python that makes the venv; default: python3 on PATH. */
  python?: string;
  /** Lines of progress (pip's own output included). */
  onOutput: (text: string) => void;
  signal?: AbortSignal;
}

export interface SetupResult {
  envDir: string;
  python: string;
  report: TrlEnvironmentReport;
  /** False when the environment was already complete. */
  installed: boolean;
}

export class SetupError extends Error {}

function hasNvidiaDriver(): boolean {
  return spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' }).status === 0;
}

function run(command: string, args: string[], options: SetupOptions): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONUNBUFFERED: '1' } });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', options.onOutput);
    child.stderr.on('data', options.onOutput);
    const abort = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (error) => fail(new SetupError(`cannot run ${command}: ${error.message}`)));
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', abort);
      done(code ?? 1);
    });
  });
}

export async function setUpTrl(options: SetupOptions): Promise<SetupResult> {
  const envDir = options.dir ?? defaultTrlEnvDir();
  const requirementsPath = join(runnerPackageDir(), REQUIREMENTS_FILE);
  const cuda = hasNvidiaDriver();
  const wanted = readFileSync(requirementsPath, 'utf8') + (cuda ? `\n${BITSANDBYTES}\n` : '');
  const hash = createHash('sha256').update(wanted).digest('hex');
  const python = venvPython(envDir);
  const markerPath = join(envDir, MARKER);

  if (existsSync(python) && existsSync(markerPath)) {
    try {
      const marker = JSON.parse(readFileSync(markerPath, 'utf8')) as { requirements_sha256?: string };
      if (marker.requirements_sha256 === hash) {
        const report = await inspectPython({ python, source: 'default environment' });
        return { envDir, python, report, installed: false };
      }
    } catch (error) {
      if (!(error instanceof PythonEnvironmentError) && !(error instanceof SyntaxError)) throw error;
      options.onOutput(`the environment at ${envDir} is incomplete (${(error as Error).message}); installing again\n`);
    }
  }

  if (!existsSync(python)) {
    const base = options.python ?? findSystemPython();
    if (!base) throw new SetupError('setup trl needs Python 3.10 or newer on PATH (python3), or --python <interpreter>: install it (Debian/Ubuntu: apt-get install python3 python3-venv) and run this again.');
    options.onOutput(`creating a virtual environment in ${envDir} with ${base}\n`);
    const code = await run(base, ['-m', 'venv', envDir], options);
    if (options.signal?.aborted) throw new SetupError('cancelled');
    if (code !== 0 || !existsSync(python))
      throw new SetupError(`${base} -m venv ${envDir} failed (exit ${code}); on Debian/Ubuntu the venv module is a package of its own: apt-get install python3-venv`);
  }
  const args = ['-m', 'pip', 'install', '--progress-bar', 'on', '-r', requirementsPath, ...(cuda ? [BITSANDBYTES] : [])];
  options.onOutput(`${python} ${args.join(' ')}\n`);
  const code = await run(python, args, options);
  if (options.signal?.aborted) throw new SetupError('cancelled; run setup again to finish (what was downloaded is kept in pip\'s cache)');
  if (code !== 0) throw new SetupError(`pip install failed (exit ${code}); see its output above. The environment is ${envDir}; run setup again after fixing the cause (network, disk space, proxy settings).`);
  const report = await inspectPython({ python, source: 'default environment' });
  writeFileAtomic(markerPath, JSON.stringify({ requirements_sha256: hash, installed_at: new Date().toISOString(), cuda, versions: report.versions }, null, 2) + '\n');
  return { envDir, python, report, installed: true };
}

/** The human summary `setup trl --check` prints. */
export function describeEnvironment(report: TrlEnvironmentReport): string {
  const lines = [`python       ${report.executable} (Python ${report.python})`];
  for (const [name, version] of Object.entries(report.versions)) lines.push(`${name.padEnd(13)}${version ?? 'not installed'}`);
  const { cuda, mps, bf16, cuda_version } = report.devices;
  if (cuda.length === 0) lines.push(`devices      cpu${mps ? ', Apple MPS' : ''} (no CUDA GPU visible${cuda_version ? `; torch built for CUDA ${cuda_version}` : ''})`);
  for (const gpu of cuda) lines.push(`cuda:${gpu.index}`.padEnd(13) + `${gpu.name}, ${(gpu.memory_bytes / 2 ** 30).toFixed(1)} GiB, compute ${gpu.capability}`);
  if (cuda.length > 0) lines.push(`bf16         ${bf16 ? 'supported' : 'not supported'}; CUDA ${cuda_version}`);
  if (mps && cuda.length > 0) lines.push('mps         Apple MPS available');
  return lines.join('\n') + '\n';
}

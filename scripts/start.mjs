#!/usr/bin/env node
// `npm start`: builds DPO Studio, opens it in a real VS Code (code-server) on 127.0.0.1 with a
// sample workspace, and prints the address to open in a browser. Ctrl-C stops everything.
//
//   npm start                      a free port
//   npm start -- --port 8080       or DPO_STUDIO_PORT=8080 npm start
//   npm start -- --no-build        skip `npm run build`
//   npm start -- --workspace DIR   open another folder instead of .cache/workspace
//
// Workspace trust is on, as a user would have it: VS Code asks whether to trust the folder.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { aptCommand, cacheDir, codeServerInstalled, missingBuildPackages, prepare, repoRoot } from './vscode/prepare.mjs';
import { startServer } from './vscode/server.mjs';

function say(message) {
  process.stderr.write(`[start] ${message}\n`);
}

function parseArgs(argv) {
  const opts = { port: undefined, build: true, workspace: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port' || a.startsWith('--port=')) opts.port = value();
    else if (a === '--workspace' || a.startsWith('--workspace=')) opts.workspace = value();
    else if (a === '--no-build') opts.build = false;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm start -- [--port N] [--no-build] [--workspace DIR]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  const port = opts.port ?? process.env.DPO_STUDIO_PORT ?? '0';
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`not a port: ${port}`);
  return { ...opts, port: n };
}

/**
 * The sample workspace in .cache/workspace: the repository's samples/ (datasets, one with
 * problems to see the checks at work, candidates to label, training configs) and a tiny model
 * from `dpo-studio init-model`, since no model can be downloaded. Files the user changed stay.
 */
function ensureSampleWorkspace(ws) {
  const samples = path.join(repoRoot, 'samples');
  cpSync(samples, ws, { recursive: true, force: false, errorOnExist: false });
  say(`sample files from ${path.relative(repoRoot, samples)}/ are in ${ws}`);
  const model = path.join(ws, 'models', 'tiny-llama');
  if (existsSync(path.join(model, 'config.json'))) return;
  const cli = path.join(repoRoot, 'dist', 'cli.cjs');
  const r = spawnSync(process.execPath, [cli, 'init-model', model, '--arch', 'llama', '--size', 'tiny'], { cwd: ws, encoding: 'utf8' });
  if (r.status !== 0) {
    say(`warning: \`dpo-studio init-model\` failed (${r.error?.message ?? `exit code ${r.status}`}); continuing without a model.\n${(r.stderr || r.stdout || '').trim().slice(-800)}`);
  } else {
    say(`wrote a tiny model to ${model}`);
  }
}

/**
 * Before minutes of building: the Debian packages code-server's first install needs. As root
 * (a fresh machine, a container) they are installed here, saying so, so that `npm start` stays
 * the one command; anyone else is told the exact command, and nothing is built.
 */
function ensureBuildPackages() {
  if (codeServerInstalled()) return;
  const missing = missingBuildPackages();
  if (missing.length === 0) return;
  const command = aptCommand(missing);
  const root = (process.getuid?.() ?? 1) === 0;
  if (!root || process.env.DPO_STUDIO_NO_APT) {
    throw new Error(`the first start installs code-server, whose native modules need ${missing.map((m) => m.what).join(', ')}. Run:\n\n    ${command}\n\nthen npm start again.`);
  }
  say(`installing what code-server's native modules need (${missing.map((m) => m.apt).join(', ')}): ${command}`);
  const r = spawnSync('sh', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) throw new Error(`\`${command}\` failed (${r.error?.message ?? `exit code ${r.status}`}); install those packages, then npm start again.`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  ensureBuildPackages();

  if (opts.build) {
    say('npm run build');
    const r = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) {
      throw new Error(`\`npm run build\` failed (${r.error?.message ?? `exit code ${r.status}`}); fix the build, or run with --no-build to serve the last one.`);
    }
  }

  await prepare({ browser: false });

  const ws = opts.workspace ? path.resolve(opts.workspace) : path.join(cacheDir, 'workspace');
  if (opts.workspace) {
    if (!existsSync(ws)) throw new Error(`no such folder: ${ws}`);
  } else {
    ensureSampleWorkspace(ws);
  }

  // Persistent user data (so trust decisions and layout survive restarts); the extension is
  // copied in fresh on every start.
  const server = await startServer({
    workspace: ws,
    port: opts.port,
    workspaceTrust: true,
    userDataDir: path.join(cacheDir, 'start', 'user-data'),
    extensionsDir: path.join(cacheDir, 'start', 'extensions'),
    logPath: path.join(cacheDir, 'start', 'code-server.log'),
  });

  const url = `http://127.0.0.1:${server.port}/?folder=${ws}`;
  process.stdout.write(`\nDPO Studio is running in VS Code (code-server) - ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n\n` +
    `  Open: ${url}\n\n` +
    `  workspace:        ${ws}\n` +
    `  code-server log:  ${server.logPath}\n` +
    `  VS Code logs:     ${server.vscodeLogsDir}\n\n` +
    'Press Ctrl-C to stop.\n');

  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping code-server ...`);
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));

  const { code, signal } = await server.exited;
  if (!stopping) {
    say(`code-server exited on its own (${signal ?? `exit code ${code}`}); see ${server.logPath}`);
    await server.stop();
    process.exit(1);
  }
}

main().catch((err) => {
  say(`FAILED: ${err.message}`);
  process.exit(1);
});

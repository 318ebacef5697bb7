// One build for every bundle: the extension host (CommonJS, `vscode` external, as VS Code
// requires), the CLI (CommonJS so `node dist/cli.cjs` works without a loader) and, as they
// appear, the webview apps (browser ESM).
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  legalComments: 'none',
};

const builds = [
  {
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.cjs',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    // jsonc-parser's "main" is a UMD build whose dynamic requires esbuild can't follow; its ESM build bundles.
    mainFields: ['module', 'main'],
  },
  {
    ...common,
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/cli.cjs',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
    banner: { js: '#!/usr/bin/env node' },
  },
];

for (const app of ['editor', 'dashboard']) {
  const entry = `webview/${app}/main.ts`;
  if (existsSync(entry)) {
    builds.push({
      ...common,
      entryPoints: [entry],
      outfile: `dist/webview/${app}.js`,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      // Always minified: a smaller bundle is fetched and parsed sooner, and the pair editor's
      // first record waits for it (the source map keeps it debuggable).
      minify: true,
    });
  }
}

// The trainer's WebAssembly backend loads its binaries from beside the bundle at run time.
const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
mkdirSync('dist', { recursive: true });
for (const file of ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm']) copyFileSync(join(wasmDir, file), join('dist', file));

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}

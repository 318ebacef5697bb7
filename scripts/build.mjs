// One build for every bundle: the extension host (CommonJS, `vscode` external, as VS Code
// requires), the CLI (CommonJS so `node dist/cli.cjs` works without a loader) and, as they
// appear, the webview apps (browser ESM).
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/**
 * Replaces src/core/dataset/recordValidators.ts with the same validate functions compiled ahead
 * of time (ajv's standalone code), so no process pays ajv's compile at run time.
 */
const precompiledRecordValidators = {
  name: 'precompiled-record-validators',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]core[\\/]dataset[\\/]recordValidators\.ts$/ }, async (args) => {
      const { AJV_OPTIONS, RECORD_SCHEMAS, RECORD_SCHEMA_REFS } = await loadTs(args.path);
      const { Ajv2020 } = await import('ajv/dist/2020.js');
      const standaloneCode = (await import('ajv/dist/standalone/index.js')).default;
      const ajv = new Ajv2020({ ...AJV_OPTIONS, code: { source: true, esm: true } });
      for (const schema of RECORD_SCHEMAS) ajv.addSchema(schema);
      const code = standaloneCode.default ? standaloneCode.default(ajv, RECORD_SCHEMA_REFS) : standaloneCode(ajv, RECORD_SCHEMA_REFS);
      const variants = Object.keys(RECORD_SCHEMA_REFS);
      return {
        contents: `${code}\nexport function recordValidators() { return new Map([${variants.map((v) => `[${JSON.stringify(v)}, ${v}]`).join(', ')}]); }\n`,
        loader: 'js',
        resolveDir: dirname(args.path),
      };
    });
  },
};

/** Imports a TypeScript module of the project at build time (bundled on the fly by esbuild). */
async function loadTs(path) {
  const out = await esbuild.build({ entryPoints: [path], bundle: true, write: false, platform: 'node', format: 'esm', logLevel: 'silent' });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
}

const common = {
  bundle: true,
  plugins: [precompiledRecordValidators],
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  legalComments: 'none',
  // Code that runs from source finds its files by import.meta.url; bundled, it is never reached.
  define: { 'import.meta.url': 'undefined' },
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
  {
    // validateParquet's worker threads (the CLI and the extension start it from beside themselves).
    ...common,
    entryPoints: ['src/core/dataset/parquetValidateWorker.ts'],
    outfile: 'dist/parquetWorker.cjs',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
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

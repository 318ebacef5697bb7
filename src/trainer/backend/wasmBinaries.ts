import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { resolveFromAnchors } from './projectRequire.ts';

// Where tfjs-backend-wasm's .wasm files are read from. Its Emscripten loader looks next to the
// JavaScript that contains it (`__dirname`): from source that is
// node_modules/@tensorflow/tfjs-backend-wasm/dist/, which ships them; inside an esbuild bundle it
// is the bundle's own folder (dist/), so the build must copy them there (see WASM_BINARY_FILES).
// We resolve the folder ourselves and hand it to setWasmPaths so a missing file is reported as
// such instead of as an Emscripten abort.

/**
 * The binaries Node can use. Node has no wasm threads in tfjs (its WASM_HAS_MULTITHREAD_SUPPORT
 * flag is hard-wired to false under Node), so the threaded-SIMD build is never loaded; the plain
 * one is the fallback for runtimes without wasm SIMD.
 */
export const WASM_BINARY_FILES = ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm'] as const;

/** Environment variable naming a folder with the .wasm files; overrides every other place. */
export const WASM_DIR_ENV = 'DPO_STUDIO_WASM_DIR';

export function hasWasmBinaries(dir: string): boolean {
  return WASM_BINARY_FILES.every((f) => existsSync(join(dir, f)));
}

/** Folders to look in, most specific first. */
export function wasmBinaryCandidates(): string[] {
  const dirs: string[] = [];
  const fromEnv = process.env[WASM_DIR_ENV];
  if (fromEnv) dirs.push(resolve(fromEnv));
  // `__dirname` exists only in CommonJS, i.e. in the esbuild bundle: the copied binaries.
  if (typeof __dirname === 'string') dirs.push(__dirname);
  const fromPackage = packageDistDir();
  if (fromPackage) dirs.push(fromPackage);
  return dirs;
}

/** The first candidate folder holding every binary, or undefined. */
export function findWasmBinaryDir(candidates: readonly string[] = wasmBinaryCandidates()): string | undefined {
  return candidates.find(hasWasmBinaries);
}

function packageDistDir(): string | undefined {
  const found = resolveFromAnchors('@tensorflow/tfjs-backend-wasm');
  return found ? dirname(found.path) : undefined;
}

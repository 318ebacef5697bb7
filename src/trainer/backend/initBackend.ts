import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { sep } from 'node:path';
import { registerCoreGradients } from './coreGradients.ts';
import { registerExtraGradients } from './extraGradients.ts';
import { installTrainingKernels } from './kernels/registerTrainingKernels.ts';
import { patchChainedLogSigmoid } from './logSigmoid.ts';
import { firstLine, loadNativePackage, type NativeBackendName } from './nativeBackends.ts';
import { findWasmBinaryDir, WASM_BINARY_FILES, WASM_DIR_ENV, wasmBinaryCandidates } from './wasmBinaries.ts';

export type BackendRequest = 'auto' | 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendRequest, 'auto'>;

export interface BackendFallback {
  name: string;
  reason: string;
}

export interface BackendChoice {
  /** Our name for the backend in use: 'tfjs-node-gpu', 'tfjs-node', 'wasm' or 'cpu'. */
  name: string;
  /** Backends tried first that could not start, in order, each with a one-line reason. */
  fellBackFrom: BackendFallback[];
}

/** Fastest first. A request starts at its own entry and falls back along the rest. */
export const BACKEND_CHAIN: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

/**
 * Gradients, chained ops and the training kernels, for whichever backend ends up in use.
 * initBackend() calls it; tests that pick a backend themselves call it directly.
 */
export function installTrainingSupport(): void {
  registerCoreGradients();
  registerExtraGradients();
  patchChainedLogSigmoid();
  installTrainingKernels();
}

/**
 * Starts the requested TensorFlow.js backend, falling back along BACKEND_CHAIN when it cannot
 * start, and logs (through `log`) every backend that failed, why, and the one in use.
 */
export async function initBackend(requested: BackendRequest, log: (line: string) => void = () => {}): Promise<BackendChoice> {
  const start = requested === 'auto' ? 0 : BACKEND_CHAIN.indexOf(requested);
  if (start < 0) throw new Error(`unknown backend '${String(requested)}' (expected auto, ${BACKEND_CHAIN.join(', ')})`);
  installTrainingSupport();
  const fellBackFrom: BackendFallback[] = [];
  for (const name of BACKEND_CHAIN.slice(start)) {
    let detail: string;
    try {
      detail = await activate(name);
    } catch (error) {
      const reason = firstLine(error);
      fellBackFrom.push({ name, reason });
      log(`backend ${name} unavailable: ${reason}`);
      continue;
    }
    // Loading tfjs-node pulls in @tensorflow/tfjs, which re-registers tf's gradients.
    installTrainingSupport();
    const fallback = fellBackFrom.length > 0 ? ` [fell back from ${fellBackFrom.map((f) => f.name).join(', ')}]` : '';
    log(`backend: ${name}: ${detail}${fallback}`);
    return { name, fellBackFrom };
  }
  throw new Error(`no TensorFlow.js backend could start: ${fellBackFrom.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
}

async function activate(name: BackendName): Promise<string> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      return activateNative(name);
    case 'wasm':
      return activateWasm();
    case 'cpu':
      await setBackendOrThrow('cpu');
      return 'plain JavaScript, slowest';
  }
}

async function activateNative(name: NativeBackendName): Promise<string> {
  const loaded = loadNativePackage(name);
  if (tf.findBackendFactory('tensorflow') == null) throw new Error(`${loaded.packageName} loaded but registered no 'tensorflow' backend`);
  await setBackendOrThrow('tensorflow');
  const parts = [`${loaded.packageName}${loaded.version ? ` ${loaded.version}` : ''}`, `tfjs-core ${tf.version_core}`];
  // tfjs-node-gpu runs on the CPU when TensorFlow finds no usable CUDA device; say so.
  const gpu = (tf.backend() as { isUsingGpuDevice?: unknown }).isUsingGpuDevice;
  if (name === 'tfjs-node-gpu' && typeof gpu === 'boolean') parts.push(gpu ? 'GPU device in use' : 'no usable GPU found, TensorFlow runs on the CPU');
  return parts.join(', ');
}

async function activateWasm(): Promise<string> {
  const candidates = wasmBinaryCandidates();
  const dir = findWasmBinaryDir(candidates);
  if (dir == null) throw new Error(`${WASM_BINARY_FILES.join(' and ')} not found in ${candidates.join(', ') || '(nowhere to look)'}; set ${WASM_DIR_ENV}`);
  // Paths can only be set before the module is instantiated (once per process).
  if (tf.engine().registry['wasm'] == null) setWasmPaths(dir.endsWith(sep) ? dir : dir + sep);
  await setBackendOrThrow('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return `SIMD ${simd ? 'on' : 'off'}, ${getThreadsCount()} thread (tfjs runs wasm single-threaded under Node), binaries from ${dir}`;
}

/** tf.setBackend() reports init failures only as console warnings and `false`; keep the text. */
async function setBackendOrThrow(backendName: string): Promise<void> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
  };
  let ok: boolean;
  try {
    ok = await tf.setBackend(backendName);
  } finally {
    console.warn = warn;
  }
  if (!ok) {
    const cause = warnings.map((w) => firstLine(w)).filter((w) => !/^Initialization of backend/.test(w))[0];
    throw new Error(`the ${backendName} backend failed to initialise${cause ? `: ${cause}` : ''}`);
  }
  if (warnings.length > 0) for (const w of warnings) warn(w);
  await tf.ready();
}

import { resolveFromAnchors, resolutionAnchors } from './projectRequire.ts';

// The native TensorFlow backends are optional: they need libtensorflow (and CUDA for the GPU
// one), which npm downloads at install time and which we neither ship nor require. They are
// loaded through a require function made at runtime, never a literal import, so esbuild leaves
// them out of the bundle with no `external` entry needed; they resolve from the bundle/entry
// script's node_modules or from the working directory (the user's workspace).

export const NATIVE_PACKAGES = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  'tfjs-node': '@tensorflow/tfjs-node',
} as const;

export type NativeBackendName = keyof typeof NATIVE_PACKAGES;

/** Thrown when a native package cannot be used; `message` is the one-line reason. */
export class NativeBackendUnavailable extends Error {}

export interface LoadedNative {
  packageName: string;
  version: string | undefined;
  path: string;
}

/**
 * Loads a native tfjs package, which registers tf's 'tensorflow' backend as a side effect.
 * Throws NativeBackendUnavailable with a one-line reason when it is missing or does not load.
 */
export function loadNativePackage(name: NativeBackendName, anchors: readonly string[] = resolutionAnchors()): LoadedNative {
  const packageName = NATIVE_PACKAGES[name];
  const found = resolveFromAnchors(packageName, anchors);
  if (!found) throw new NativeBackendUnavailable(`${packageName} is not installed (npm install ${packageName} to use it)`);
  try {
    found.require(packageName);
  } catch (error) {
    throw new NativeBackendUnavailable(describeLoadError(packageName, error));
  }
  let version: string | undefined;
  try {
    version = (found.require(`${packageName}/package.json`) as { version?: string }).version;
  } catch {
    version = undefined;
  }
  return { packageName, version, path: found.path };
}

/** One line saying why a native package failed to load, with a hint for the usual causes. */
export function describeLoadError(packageName: string, error: unknown): string {
  const first = firstLine(error);
  if (/cuda|cudnn|cublas|libcu\w*\.so|nvidia/i.test(first)) {
    return `${packageName} failed to load, CUDA/cuDNN libraries missing or mismatched: ${first}`;
  }
  if (/libtensorflow|tfjs_binding\.node|\.node\b.*(cannot|not found)|cannot open shared object/i.test(first)) {
    return `${packageName} failed to load, its native libtensorflow is missing or broken (reinstall it): ${first}`;
  }
  return `${packageName} failed to load: ${first}`;
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : typeof error === 'object' && error && 'message' in error ? String((error as { message: unknown }).message) : String(error);
  return text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? 'unknown error';
}

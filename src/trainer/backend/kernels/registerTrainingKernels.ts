import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { BatchMatMul, Cast, GatherV2, getKernel, Identity, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { aliasingCastConfig, aliasingIdentityConfig } from './aliasingCopies.ts';
import { batchedGatherConfig } from './batchedGather.ts';
import { fastBatchMatMulConfig } from './fastBatchMatMul.ts';
import { unsortedSegmentSumConfig } from './unsortedSegmentSum.ts';

// Kernel registrations that make the wasm (and cpu) backends fit for training. tf's own
// configs are remembered so benchmarks and tests can compare against them.

const originals = new Map<string, KernelConfig | undefined>();
const installed = new Map<string, KernelConfig>();

function key(kernelName: string, backendName: string): string {
  return `${backendName}/${kernelName}`;
}

function current(kernelName: string, backendName: string): KernelConfig | undefined {
  return getKernel(kernelName, backendName) as KernelConfig | undefined;
}

function replaceKernel(config: KernelConfig): void {
  const k = key(config.kernelName, config.backendName);
  const existing = current(config.kernelName, config.backendName);
  if (existing === config) return;
  if (!originals.has(k)) originals.set(k, existing);
  // Unregister first: registerKernel over an existing one prints a warning.
  if (existing != null) unregisterKernel(config.kernelName, config.backendName);
  registerKernel(config);
  installed.set(k, config);
}

/** tf's own kernel config, as registered before installTrainingKernels() replaced it. */
export function originalKernel(kernelName: string, backendName: string): KernelConfig {
  const k = key(kernelName, backendName);
  const config = originals.has(k) ? originals.get(k) : current(kernelName, backendName);
  if (config == null) throw new Error(`no original ${backendName} kernel ${kernelName}`);
  return config;
}

/**
 * Registers the training kernels (idempotent; call again after anything that may re-register
 * tf's, such as loading @tensorflow/tfjs). Safe before or after the wasm backend initialises:
 * replaced configs keep tf's setupFunc, and setBackend() reruns setup anyway.
 */
export function installTrainingKernels(): void {
  replaceKernel(installed.get(key('UnsortedSegmentSum', 'wasm')) ?? unsortedSegmentSumConfig('wasm'));
  replaceKernel(installed.get(key('UnsortedSegmentSum', 'cpu')) ?? unsortedSegmentSumConfig('cpu'));
  replaceKernel(installed.get(key(GatherV2, 'wasm')) ?? batchedGatherConfig(originalKernel(GatherV2, 'wasm')));
  replaceKernel(installed.get(key(Identity, 'wasm')) ?? aliasingIdentityConfig(originalKernel(Identity, 'wasm')));
  replaceKernel(installed.get(key(Cast, 'wasm')) ?? aliasingCastConfig(originalKernel(Cast, 'wasm')));
  useFastWasmMatMul(true);
}

/** Switches wasm BatchMatMul between the routed kernel and tf's own (for benchmarks and tests). */
export function useFastWasmMatMul(enabled: boolean): void {
  const k = key(BatchMatMul, 'wasm');
  if (enabled) {
    replaceKernel(installed.get(k) ?? fastBatchMatMulConfig(originalKernel(BatchMatMul, 'wasm')));
    return;
  }
  const original = originals.get(k);
  if (original == null || current(BatchMatMul, 'wasm') === original) return;
  unregisterKernel(BatchMatMul, 'wasm');
  registerKernel(original);
}

// The public face of the backend module: the model, trainer and CLI import from here.
export { BACKEND_CHAIN, initBackend, installTrainingSupport } from './initBackend.ts';
export type { BackendChoice, BackendFallback, BackendName, BackendRequest } from './initBackend.ts';
export { WASM_BINARY_FILES, WASM_DIR_ENV } from './wasmBinaries.ts';
export { logSigmoid } from './logSigmoid.ts';

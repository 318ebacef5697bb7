import { resolveFromAnchors } from './projectRequire.ts';

// @tensorflow/tfjs-core's entry point registers no gradients and no chained ops (`x.reshape()`):
// the umbrella @tensorflow/tfjs package does that, and we do not ship it. Without this, every
// tf.grad() fails with "gradient function not found for Sum", on every backend (one cause of
// the "logSigmoid fails on wasm" report; the other is tf.logSigmoid itself, see logSigmoid.ts).
const GRADIENTS = '@tensorflow/tfjs-core/dist/register_all_gradients';
const CHAINED_OPS = '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

let registered = false;

/** Registers tfjs-core's gradients and chained ops once per process. */
export function registerCoreGradients(): void {
  if (registered) return;
  if (typeof require === 'function') {
    // Bundled by esbuild (CommonJS output): these literal requires are followed and bundled,
    // and they resolve to the same ESM copy of tfjs-core the rest of the bundle uses.
    require('@tensorflow/tfjs-core/dist/register_all_gradients');
    require('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops');
  } else {
    // Running from source under tsx (ESM): the files are ESM with extensionless relative
    // imports, which Node's ESM resolver rejects but CommonJS resolution (with tsx's
    // transform) follows. They load a second copy of tfjs-core's modules; that is safe
    // because the engine, kernel/gradient registries and Tensor class live on globalThis.
    const found = resolveFromAnchors(GRADIENTS);
    if (!found) throw new Error(`cannot resolve ${GRADIENTS}: run from inside the checkout`);
    found.require(GRADIENTS);
    found.require(CHAINED_OPS);
  }
  registered = true;
}

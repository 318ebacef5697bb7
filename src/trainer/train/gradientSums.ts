import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient accumulation across the micro-batches of one optimizer step, whatever the stage: each
 * micro-batch's gradients come already scaled (DPO: 1 / micro-batches; SFT: 1 / trained tokens of
 * the step), so their sum is the step's gradient.
 */

/** Adds `next` into `sum` (freeing both inputs); returns the new sums. */
export function accumulateGradients(sum: Map<string, tf.Tensor> | undefined, next: Map<string, tf.Tensor>): Map<string, tf.Tensor> {
  if (!sum) return next;
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of next) {
    const previous = sum.get(name);
    out.set(name, previous ? tf.add(previous, g) : g);
    if (previous) {
      previous.dispose();
      g.dispose();
    }
  }
  for (const [name, g] of sum) if (!out.has(name)) out.set(name, g);
  return out;
}

import * as tf from '@tensorflow/tfjs-core';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay: number;
}

/**
 * AdamW as PyTorch's torch.optim.AdamW computes it (decoupled weight decay, bias-corrected
 * moments), with its whole state exposed as named tensors so a checkpoint can save it and a
 * resumed run continues bit for bit. tfjs's own Adam has neither the decoupled decay nor a
 * state that round-trips through a file.
 */
export class AdamW {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly weightDecay: number;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  /** Optimizer steps taken so far. */
  stepCount = 0;

  constructor(private readonly params: Map<string, tf.Variable>, options: AdamWOptions) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay;
    for (const [name, p] of params) {
      // tidy frees the zeros tensors a variable is made from (the variables themselves survive it).
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  /** Applies one update with the given gradients (already averaged and clipped) at learning rate `lr`. */
  step(grads: Map<string, tf.Tensor>, lr: number): void {
    this.stepCount++;
    const t = this.stepCount;
    const correction1 = 1 - this.beta1 ** t;
    const correction2 = 1 - this.beta2 ** t;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads.get(name);
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const decayed = this.weightDecay > 0 ? tf.mul(p, 1 - lr * this.weightDecay) : p;
        const denominator = tf.add(tf.div(tf.sqrt(v), Math.sqrt(correction2)), this.epsilon);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denominator), lr / correction1)));
      }
    });
  }

  /** Moments by name (`exp_avg.<param>`, `exp_avg_sq.<param>`), for a checkpoint. */
  stateTensors(): Map<string, tf.Tensor> {
    const state = new Map<string, tf.Tensor>();
    for (const [name, m] of this.m) state.set(`exp_avg.${name}`, m);
    for (const [name, v] of this.v) state.set(`exp_avg_sq.${name}`, v);
    return state;
  }

  loadState(tensors: Map<string, tf.Tensor>, stepCount: number): void {
    for (const [name, m] of this.m) {
      const saved = tensors.get(`exp_avg.${name}`);
      if (!saved) throw new Error(`The checkpoint's optimizer state has no moment for "${name}"`);
      m.assign(saved);
    }
    for (const [name, v] of this.v) {
      const saved = tensors.get(`exp_avg_sq.${name}`);
      if (!saved) throw new Error(`The checkpoint's optimizer state has no second moment for "${name}"`);
      v.assign(saved);
    }
    this.stepCount = stepCount;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (torch's clip_grad_norm_);
 * returns the norm before clipping, which is what TRL logs as `grad_norm`.
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: number } {
  const norm = tf.tidy(() => {
    let sum: tf.Tensor = tf.scalar(0);
    for (const g of grads.values()) sum = tf.add(sum, tf.sum(tf.square(g)));
    return tf.sqrt(sum);
  });
  const value = norm.dataSync()[0]!;
  norm.dispose();
  if (!(maxNorm > 0) || value <= maxNorm || !Number.isFinite(value)) return { grads, norm: value };
  const scale = maxNorm / (value + 1e-6);
  const clipped = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) clipped.set(name, tf.mul(g, scale));
  return { grads: clipped, norm: value };
}

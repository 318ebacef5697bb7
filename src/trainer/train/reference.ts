import * as tf from '@tensorflow/tfjs-core';
import { disposeModel, type CausalLM } from '../model/causalLM.ts';
import { pairBatchLogps } from './pairBatchLogps.ts';
import type { TrainingExample } from './trainingData.ts';

/**
 * Where the reference log-probabilities of a micro-batch come from. They enter the loss as
 * constants, so they are read out as numbers before the policy's gradient is taken.
 */

export interface ReferenceLogps {
  chosen: number[];
  rejected: number[];
}

export type ReferenceKind = 'adapter-off' | 'model' | 'cached' | 'none';

export interface Reference {
  readonly kind: ReferenceKind;
  /** For the run's log: what the reference is. */
  readonly description: string;
  /** The reference model's folder, when a model computes it (the scorer's reference cache is keyed by it). */
  modelDir?: string;
  /** The reference's summed answer log-probabilities, or undefined for a reference-free loss. */
  logps(examples: readonly TrainingExample[]): ReferenceLogps | undefined;
  dispose(): void;
}

/** Scores pairs with a model in inference mode (no dropout, nothing kept for gradients). */
export function scorePairs(model: CausalLM, examples: readonly TrainingExample[], padTokenId: number): ReferenceLogps {
  const both = tf.tidy(() => {
    const out = pairBatchLogps(model, examples, padTokenId, { training: false });
    return tf.concat([out.chosen, out.rejected]);
  });
  const values = both.dataSync();
  both.dispose();
  return { chosen: Array.from(values.subarray(0, examples.length)), rejected: Array.from(values.subarray(examples.length)) };
}

/**
 * The LoRA policy with its adapters switched off is exactly the frozen base model, so the
 * reference costs one extra forward pass and no second copy of the weights (TRL's
 * use_peft_for_reference).
 */
export function adapterOffReference(policy: CausalLM, padTokenId: number): Reference {
  return {
    kind: 'adapter-off',
    description: 'the policy with its LoRA adapters switched off (no second copy of the weights)',
    logps(examples) {
      const adapter = policy.adapter;
      policy.adapter = undefined;
      try {
        return scorePairs(policy, examples, padTokenId);
      } finally {
        policy.adapter = adapter;
      }
    },
    dispose() {},
  };
}

/** A separate frozen model: `dpo.reference_model`, or a copy of the starting model for full fine-tuning. */
export function modelReference(model: CausalLM, padTokenId: number, description: string): Reference {
  return {
    kind: 'model',
    description,
    logps: (examples) => scorePairs(model, examples, padTokenId),
    dispose: () => disposeModel(model),
  };
}

/** Reference log-probabilities computed before training, looked up per example. */
export function cachedReference(values: ReadonlyMap<TrainingExample, { chosen: number; rejected: number }>, description: string): Reference {
  return {
    kind: 'cached',
    description,
    logps(examples) {
      const chosen: number[] = [];
      const rejected: number[] = [];
      for (const example of examples) {
        const value = values.get(example);
        if (!value) throw new Error(`no cached reference log-probabilities for record ${example.index} (line ${example.line})`);
        chosen.push(value.chosen);
        rejected.push(value.rejected);
      }
      return { chosen, rejected };
    },
    dispose() {},
  };
}

export function noReference(lossType: string): Reference {
  return { kind: 'none', description: `none: loss_type "${lossType}" is reference-free`, logps: () => undefined, dispose() {} };
}

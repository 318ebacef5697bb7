import type { TrainingConfig } from '../../core/config/types.ts';
import { needsReference, type RewardRule } from '../../core/review/implicitReward.ts';
import { initBackend, type BackendRequest } from '../backend/index.ts';
import { loadAdapter } from '../model/adapterFolder.ts';
import { disposeModel, type CausalLM } from '../model/causalLM.ts';
import { loadModel } from '../model/modelFolder.ts';
import { quantizeModel } from '../quantization/quantizedModel.ts';
import type { PairTokens } from '../tokenizer/pairTokens.ts';
import { scorePairs } from '../train/reference.ts';
import { computeReferenceValues, type CachedValues } from '../train/referenceCache.ts';
import type { TrainingExample } from '../train/trainingData.ts';
import { resolveModelFolder } from '../train/modelFolderPath.ts';
import type { ScoredCheckpoint, ScoredRun } from '../../core/review/scoredRun.ts';

/** Summed answer log-probabilities of pairs, in the order given. */
export interface PairLogpsList {
  chosen: number[];
  rejected: number[];
}

/** What computes the log-probabilities: the tfjs engine in this process, or the TRL engine's Python. */
export interface ScoringEngine {
  readonly name: 'tfjs' | 'trl';
  /** What the reference is, for the scores file's header. */
  readonly reference: string;
  /** The reference model's folder (part of the reference cache's key); undefined for reference-free losses. */
  readonly referenceDir: string | undefined;
  /**
   * The policy's sums for every pair, and the reference's for the pairs `reference` marks (NaN
   * for the others: their reference is known already).
   */
  score(pairs: readonly PairTokens[], reference: readonly boolean[], onProgress?: (done: number, total: number) => void): Promise<{ policy: PairLogpsList; reference: PairLogpsList }>;
  dispose(): void;
}

export function rewardRule(config: TrainingConfig, step: number | null, totalSteps: number): RewardRule {
  const { dpo } = config;
  // A scheduled beta is scored with the value the checkpoint trained at last.
  const beta = dpo.beta_end === undefined || totalSteps <= 1 || step === null ? (dpo.beta_end ?? dpo.beta) : dpo.beta + (dpo.beta_end - dpo.beta) * Math.min(1, Math.max(0, (step - 1) / (totalSteps - 1)));
  return { lossType: dpo.loss_type, beta, lengthNormalize: dpo.length_normalize };
}

/** Where the reference comes from, as training set it up: `dpo.reference_model`, else the starting model. */
export async function referenceFolder(run: ScoredRun, cwd: string, log: (line: string) => void): Promise<string | undefined> {
  if (!needsReference(rewardRule(run.config, null, 0))) return undefined;
  return run.config.dpo.reference_model !== undefined ? resolveModelFolder(cwd, run.config.dpo.reference_model, 'dpo.reference_model', { log }) : run.modelPath;
}

function listOf(values: CachedValues, pairs: readonly PairTokens[]): PairLogpsList {
  const chosen: number[] = [];
  const rejected: number[] = [];
  for (const p of pairs) {
    const v = values.get(p as TrainingExample)!;
    chosen.push(v.chosen);
    rejected.push(v.rejected);
  }
  return { chosen, rejected };
}

/**
 * The tfjs engine: the checkpoint's policy (the starting model with the adapter, or the whole
 * trained model) and the reference as training had it: the same model with the adapter
 * switched off (no second copy), `dpo.reference_model`, or the starting model.
 */
export async function tfjsScoringEngine(run: ScoredRun, checkpoint: ScoredCheckpoint, options: { cwd: string; backend: BackendRequest; batchSize: number; padTokenId: number; log: (line: string) => void }): Promise<ScoringEngine> {
  await initBackend(options.backend, options.log);
  const { config } = run;
  const quantize = config.quantization.use_quantization && checkpoint.adapter ? config.quantization.bits : undefined;
  const referenceDir = await referenceFolder(run, options.cwd, options.log);
  const disposers: Array<() => void> = [];
  try {
    const policy = loadModel(checkpoint.adapter ? run.modelPath : checkpoint.dir, { trainable: false });
    disposers.push(() => disposeModel(policy));
    if (quantize) quantizeModel(policy, quantize);
    const adapter = checkpoint.adapter ? loadAdapter(checkpoint.dir, policy, { trainable: false }) : undefined;
    let referenceModel: CausalLM | undefined;
    let reference = 'none: the loss is reference-free';
    if (referenceDir !== undefined) {
      if (adapter && config.dpo.reference_model === undefined) reference = `${run.modelPath} (the policy with its LoRA adapter switched off)`;
      else {
        referenceModel = loadModel(referenceDir, { trainable: false });
        if (quantize && config.dpo.reference_model === undefined) quantizeModel(referenceModel, quantize);
        const held = referenceModel;
        disposers.push(() => disposeModel(held));
        reference = referenceDir;
      }
    }
    const scoreWith = async (model: CausalLM, pairs: readonly PairTokens[], onProgress?: (done: number, total: number) => void) =>
      listOf(await computeReferenceValues(pairs as TrainingExample[], (batch) => scorePairs(model, batch, options.padTokenId), options.batchSize, onProgress), pairs);
    return {
      name: 'tfjs',
      reference,
      referenceDir,
      async score(pairs, wanted, onProgress) {
        const subset = referenceDir === undefined ? [] : pairs.filter((_, i) => wanted[i]);
        const total = pairs.length + subset.length;
        const policyLogps = await scoreWith(policy, pairs, (done) => onProgress?.(done, total));
        const referenceLogps: PairLogpsList = { chosen: pairs.map(() => Number.NaN), rejected: pairs.map(() => Number.NaN) };
        if (subset.length === 0) return { policy: policyLogps, reference: referenceLogps };
        let computed: PairLogpsList;
        if (referenceModel) computed = await scoreWith(referenceModel, subset, (done) => onProgress?.(pairs.length + done, total));
        else {
          policy.adapter = undefined;
          try {
            computed = await scoreWith(policy, subset, (done) => onProgress?.(pairs.length + done, total));
          } finally {
            policy.adapter = adapter;
          }
        }
        let k = 0;
        pairs.forEach((_, i) => {
          if (!wanted[i]) return;
          referenceLogps.chosen[i] = computed.chosen[k]!;
          referenceLogps.rejected[i] = computed.rejected[k]!;
          k++;
        });
        return { policy: policyLogps, reference: referenceLogps };
      },
      dispose() {
        for (const d of disposers.reverse()) d();
      },
    };
  } catch (error) {
    for (const d of disposers.reverse()) d();
    throw error;
  }
}

import { join } from 'node:path';
import type { TrainingConfig } from '../../core/config/types.ts';
import { REFERENCE_FREE_LOSSES } from '../dpo/dpoLoss.ts';
import type { CausalLM } from '../model/causalLM.ts';
import { loadModel } from '../model/modelFolder.ts';
import { quantizeModel } from '../quantization/quantizedModel.ts';
import type { TextTokenizer } from '../tokenizer/textTokenizer.ts';
import { adapterOffReference, cachedReference, modelReference, noReference, type Reference } from './reference.ts';
import { computeReferenceValues, modelFingerprint, readReferenceCache, referenceCacheKey, REFERENCE_CACHE_DIR, tokenizerFingerprint, writeReferenceCache, type CachedValues } from './referenceCache.ts';
import type { LoadedDataset } from './trainingData.ts';
import { resolveModelFolder } from './modelFolderPath.ts';
import type { RunOutput } from './trainingSession.ts';

export interface ReferenceInputs {
  cwd: string;
  outputDir: string;
  modelPath: string;
  policy: CausalLM;
  tokenizer: TextTokenizer;
  datasets: LoadedDataset[];
  quantize: boolean;
  /** No update has been made yet, so a fully fine-tuned policy still is the reference. */
  fresh: boolean;
}

/**
 * Picks the reference: none for reference-free losses; `dpo.reference_model` when given; the
 * LoRA policy with adapters off (use_peft_for_reference); else a frozen copy of the starting
 * model. With precompute_ref_log_probs, that reference scores every pair once (or the cache
 * in <output_dir>/ref_logps has them already) and is then let go.
 */
export async function setUpReference(config: TrainingConfig, inputs: ReferenceInputs, out: RunOutput): Promise<Reference> {
  const { dpo, lora } = config;
  const pad = inputs.tokenizer.padTokenId;
  if (REFERENCE_FREE_LOSSES.has(dpo.loss_type)) return noReference(dpo.loss_type);
  const bits = inputs.quantize ? config.quantization.bits : undefined;
  const referenceDir = dpo.reference_model !== undefined ? await resolveModelFolder(inputs.cwd, dpo.reference_model, 'dpo.reference_model', { log: (line) => out.log(line) }) : inputs.modelPath;
  const adapterOff = dpo.reference_model === undefined && lora.use_lora && dpo.use_peft_for_reference;

  const loadReferenceModel = (why: string): Reference => {
    const model = loadModel(referenceDir, { trainable: false });
    if (bits !== undefined) quantizeModel(model, bits);
    const name = dpo.reference_model ?? config.model.name;
    return modelReference(model, pad, dpo.reference_model !== undefined ? `the reference model ${name}` : `a frozen copy of ${name} (${why})`);
  };
  const liveReference = (): Reference => {
    if (adapterOff) return adapterOffReference(inputs.policy, pad);
    // Before the first update a fully fine-tuned policy is its own reference; scoring with it saves loading a copy.
    if (dpo.precompute_ref_log_probs && inputs.fresh && !lora.use_lora && dpo.reference_model === undefined)
      return { ...modelReference(inputs.policy, pad, 'the starting model'), dispose() {} };
    return loadReferenceModel(lora.use_lora ? 'dpo.use_peft_for_reference is false' : 'full fine-tuning changes the model itself');
  };
  if (!dpo.precompute_ref_log_probs) return { ...liveReference(), modelDir: referenceDir };

  const keyParts = {
    referenceModel: modelFingerprint(referenceDir),
    quantizationBits: bits ?? null,
    tokenizer: tokenizerFingerprint(inputs.modelPath),
    maxLength: config.data.max_length,
    maxPromptLength: config.data.max_prompt_length,
    truncationMode: config.data.truncation_mode,
  };
  const all: CachedValues = new Map();
  let scorer: Reference | undefined;
  try {
    for (const dataset of inputs.datasets) {
      const key = referenceCacheKey({ ...keyParts, dataSha256: dataset.sha256 });
      let values = readReferenceCache(inputs.outputDir, key, dataset);
      if (values) {
        out.log(`reference log-probabilities of ${dataset.path} read from ${join(REFERENCE_CACHE_DIR, key)}.json`);
      } else {
        scorer ??= liveReference();
        const started = Date.now();
        const score = scorer;
        values = await computeReferenceValues(dataset.examples, (batch) => score.logps(batch)!, config.training.batch_size, (done, total) => out.progress(`reference log-probabilities of ${dataset.path}: ${done}/${total}`));
        const path = writeReferenceCache(inputs.outputDir, key, dataset, values);
        out.log(`reference log-probabilities of ${dataset.examples.length} pairs of ${dataset.path} computed in ${((Date.now() - started) / 1000).toFixed(1)} s with ${score.description}, cached in ${path}`);
      }
      for (const [example, value] of values) all.set(example, value);
    }
  } finally {
    scorer?.dispose();
  }
  return cachedReference(all, `reference log-probabilities precomputed once, cached in ${join(inputs.outputDir, REFERENCE_CACHE_DIR)}`);
}

import * as tf from '@tensorflow/tfjs-core';
import { join, resolve } from 'node:path';
import type { TrainingConfig } from '../../core/config/types.ts';
import { SeededRandom } from '../../core/training/seededRandom.ts';
import { TRAINER_PROTOCOL_VERSION } from '../../protocol/trainerEvents.ts';
import { initBackend, type BackendRequest } from '../backend/index.ts';
import { AdamW } from '../dpo/adamw.ts';
import { checkMemory, tfjsTarget } from './memoryCheck.ts';
import { ARCHITECTURE_TRAITS } from '../model/architectures.ts';
import { loadAdapter } from '../model/adapterFolder.ts';
import { disposeModel, type CausalLM } from '../model/causalLM.ts';
import { attachAdapter, createLoraAdapter, defaultLoraConfig, isLoraTarget, type LoraAdapter, type LoraConfig } from '../model/lora.ts';
import { loadModel } from '../model/modelFolder.ts';
import { quantizeModel, type QuantizationReport } from '../quantization/quantizedModel.ts';
import { TextTokenizer } from '../tokenizer/textTokenizer.ts';
import { removeStaleTemps } from './atomicFolder.ts';
import { readOptimizerTensors, scanCheckpoints, type TrainerState } from './checkpoint.ts';
import { configHash } from './configHash.ts';
import { chooseResumePoint, newRunId } from './resumePoint.ts';
import { claimOutputDir, METRICS_FILE, trimMetricsAfter, type EventSink } from './outputDir.ts';
import { scorePairs, type Reference } from './reference.ts';
import { resolveStartingModel } from './startingModel.ts';
import { exportTrained } from './exportModel.ts';
import { setUpReference } from './referenceSetup.ts';
import { planSteps, type StepPlan } from './stepPlan.ts';
import { TrainingSetupError } from './trainErrors.ts';
import { assertSameTrainingData, loadTrainingDatasets, type LoadedDataset, type SftExample, type TrainingExample } from './trainingData.ts';
import { loadSftDatasets } from './sftData.ts';
import { dpoStage, sftStage, type StageWindow, type TrainingStage } from './trainingStage.ts';

/** How a run talks while it sets up and trains: events (stdout + metrics.jsonl) and human lines (stderr). */
export interface RunOutput {
  events: EventSink;
  log(message: string, level?: 'info' | 'warning'): void;
  /** stderr only. */
  progress(text: string): void;
}

export interface TrainOptions {
  config: TrainingConfig;
  /** Continue from the newest checkpoint in output_dir. */
  resume?: boolean;
  /** Replace an earlier run's files in output_dir (its reference cache is kept). */
  overwriteOutputDir?: boolean;
  /** What relative paths in the config resolve against (default: the process's working directory). */
  cwd?: string;
}

export interface QuantizationSummary extends QuantizationReport {
  /** Answer log-probabilities of a few training pairs, quantized against float32. */
  drift: { pairs: number; meanAbs: number; maxAbs: number; perTokenMeanAbs: number };
}

/** Everything a run holds while it trains. */
export interface TrainingSession {
  config: TrainingConfig;
  cwd: string;
  outputDir: string;
  modelPath: string;
  runId: string;
  backend: string;
  configHash: string;
  tokenizer: TextTokenizer;
  train: Array<LoadedDataset<TrainingExample | SftExample>>;
  eval: LoadedDataset<TrainingExample | SftExample> | undefined;
  steps: StepPlan;
  policy: CausalLM;
  adapter: LoraAdapter | undefined;
  /** The loss and metrics of the run's stage (DPO or SFT). */
  stage: TrainingStage;
  /** DPO: the frozen reference the loss compares against. */
  reference: { kind: string; description: string } | undefined;
  /** DPO with an eval set and a live reference: what the reference gave the eval pairs (the scorer reuses it). */
  evalReference: { modelDir: string; values: ReadonlyMap<TrainingExample, readonly [number, number]>; quantizationBits: number | null } | undefined;
  optimizer: AdamW;
  random: SeededRandom;
  quantization: QuantizationSummary | undefined;
  resumedFrom: { dir: string; state: TrainerState } | undefined;
  /** Steps done, the open logging window, wall-clock seconds of earlier processes, the last gradient norm. */
  step: number;
  window: StageWindow;
  /** Input tokens trained on so far (SFT's num_tokens). */
  tokensSeen: number;
  elapsedBefore: number;
  lastGradNorm: number;
  dispose(): void;
}

const DRIFT_PAIRS = 8;
/** The files of a model folder a full fine-tuning checkpoint carries beside its weights. */
export const MODEL_SIDE_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'chat_template.json'];

/** An SFT adapter merged into its base in float32 by the export code (`dpo-studio export --merge`). */
function mergeWithTfjs(adapter: string, base: string, target: string): void {
  exportTrained(adapter, target, { merge: true, model: base, dtype: 'F32', force: true });
}

/** PEFT's defaults named in the schema: the architecture's attention projections. */
function defaultTargets(model: CausalLM): string[] {
  return ARCHITECTURE_TRAITS[model.config.architecture].defaultLoraTargets;
}

function loraConfigOf(config: TrainingConfig, model: CausalLM): LoraConfig {
  return defaultLoraConfig({
    r: config.lora.r,
    alpha: config.lora.lora_alpha,
    dropout: config.lora.lora_dropout,
    targetModules: config.lora.target_modules ?? defaultTargets(model),
    baseModelNameOrPath: config.model.name,
  });
}

/** Quantizes the frozen base in place, measuring how far a few pairs' log-probabilities move. */
function quantizeWithDrift(model: CausalLM, bits: 4 | 8, sample: readonly TrainingExample[], padTokenId: number): QuantizationSummary {
  const before = scorePairs(model, sample, padTokenId);
  const report = quantizeModel(model, bits);
  const after = scorePairs(model, sample, padTokenId);
  const deltas = [...before.chosen.map((v, i) => Math.abs(v - after.chosen[i]!)), ...before.rejected.map((v, i) => Math.abs(v - after.rejected[i]!))];
  const tokens = sample.reduce((n, e) => n + e.chosenIds.length + e.rejectedIds.length, 0);
  const sum = deltas.reduce((a, b) => a + b, 0);
  return { ...report, drift: { pairs: sample.length, meanAbs: sum / Math.max(1, deltas.length), maxAbs: Math.max(0, ...deltas), perTokenMeanAbs: sum / Math.max(1, tokens) } };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * The live reference, noting what it gives the eval pairs: evaluation computes exactly what the
 * scorer's reference pass would, so `review.score_after` at the end needs the policy alone.
 */
function recordEvalReference(reference: Reference, evalSet: LoadedDataset): { reference: Reference; values: Map<TrainingExample, readonly [number, number]> } {
  const evalExamples = new Set(evalSet.examples);
  const values = new Map<TrainingExample, readonly [number, number]>();
  const logps = (examples: readonly TrainingExample[]) => {
    const out = reference.logps(examples);
    if (out) examples.forEach((e, i) => evalExamples.has(e) && values.set(e, [out.chosen[i]!, out.rejected[i]!]));
    return out;
  };
  return { reference: { ...reference, logps, dispose: () => reference.dispose() }, values };
}

/**
 * Sets a run up in the order that fails fastest (the output dir exists and is locked by the
 * caller, runTraining): resume state, backend, tokenizer
 * and data (every record checked), then the plan and the start event, then the heavy parts
 * (model, quantization, adapter, reference, optimizer).
 */
export async function setUpTraining(options: TrainOptions, out: RunOutput): Promise<TrainingSession> {
  const { config } = options;
  const cwd = options.cwd ?? process.cwd();
  const outputDir = resolve(cwd, config.training.output_dir);
  const hash = configHash(config);
  removeStaleTemps(outputDir);

  const scan = options.resume ? scanCheckpoints(outputDir) : undefined;
  const resumedFrom = scan
    ? chooseResumePoint({ ...(scan.latest ? { latest: { ...scan.latest, configHash: scan.latest.state.config_hash, config: scan.latest.state.config } } : {}), skipped: scan.skipped }, outputDir, config, hash, (m) => out.log(m, 'warning'))
    : undefined;
  claimOutputDir(outputDir, { resume: options.resume ?? false, overwrite: options.overwriteOutputDir ?? false });
  if (options.resume) trimMetricsAfter(outputDir, resumedFrom?.state.global_step ?? 0);
  out.events.attachFile(join(outputDir, METRICS_FILE));

  const backend = await initBackend(config.training.backend as BackendRequest, (line) => out.log(line));
  const modelPath = await resolveStartingModel(cwd, config, mergeWithTfjs, (line) => out.log(line));
  const memory = checkMemory(config, modelPath, tfjsTarget(backend.name), (line) => out.log(line));
  const tokenizer = TextTokenizer.fromFolder(modelPath);
  const sft = config.training.stage === 'sft';
  const { train, eval: evalSet } = sft ? await loadSftDatasets(config, cwd, tokenizer, out.log) : await loadTrainingDatasets(config, cwd, tokenizer, out.log);
  if (resumedFrom) assertSameTrainingData(resumedFrom.state.datasets, train, resumedFrom.dir);
  const steps = planSteps(
    train.map((d) => d.examples.length),
    train.map((d) => d.weight),
    config.training,
  );
  if (resumedFrom && resumedFrom.state.global_step >= steps.totalSteps) out.log(`${resumedFrom.dir} is already at the last step (${steps.totalSteps})`, 'warning');
  const runId = resumedFrom?.state.run_id ?? newRunId();
  out.events.emit({
    type: 'start',
    version: TRAINER_PROTOCOL_VERSION,
    runId,
    time: new Date().toISOString(),
    model: config.model.name,
    dataset: train.map((d) => d.path),
    outputDir,
    backend: backend.name,
    lossType: sft ? 'sft' : config.dpo.loss_type,
    stage: config.training.stage,
    totalSteps: steps.totalSteps,
    ...(resumedFrom ? { resumedFromStep: resumedFrom.state.global_step } : {}),
    config: config as unknown as Record<string, unknown>,
    engine: 'tfjs',
    ...(memory ? { memory: { estimateBytes: memory.totalBytes, limitBytes: memory.target.limitBytes, limit: memory.target.limitWhat } } : {}),
    libraries: { '@tensorflow/tfjs-core': tf.version_core },
    devices: [backend.name],
    worldSize: 1,
  });

  const disposers: Array<() => void> = [];
  try {
    const useLora = config.lora.use_lora;
    const full = !useLora;
    const quantize = config.quantization.use_quantization && useLora;
    if (config.quantization.use_quantization && !useLora) out.log('quantization needs LoRA (quantized weights are frozen); training all weights in float32 instead', 'warning');
    const started = Date.now();
    const policy = loadModel(full && resumedFrom ? resumedFrom.dir : modelPath, { trainable: full, log: (line) => out.log(`${config.model.name}: ${line}`, 'warning') });
    disposers.push(() => disposeModel(policy));
    out.log(`loaded ${policy.config.architecture} from ${resumedFrom && full ? resumedFrom.dir : modelPath} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (tokenizer.vocabSize > policy.config.vocabSize) out.log(`the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${policy.config.vocabSize} embeddings`, 'warning');

    let quantization: QuantizationSummary | undefined;
    if (quantize && sft) {
      const q = quantizeModel(policy, config.quantization.bits);
      out.log(`quantized ${q.tensors} frozen linear weights to ${q.bits} bits with per-channel scales: ${mb(q.floatBytes)} → ${mb(q.quantizedBytes)} (saved ${mb(q.savedBytes)}, ${((100 * q.savedBytes) / q.floatBytes).toFixed(0)}%)`);
    } else if (quantize) {
      const sample = (train as LoadedDataset[]).flatMap((d) => d.examples).slice(0, DRIFT_PAIRS);
      quantization = quantizeWithDrift(policy, config.quantization.bits, sample, tokenizer.padTokenId);
      const q = quantization;
      out.log(
        `quantized ${q.tensors} frozen linear weights to ${q.bits} bits with per-channel scales: ${mb(q.floatBytes)} → ${mb(q.quantizedBytes)} (saved ${mb(q.savedBytes)}, ${((100 * q.savedBytes) / q.floatBytes).toFixed(0)}%); ` +
          `log-probability drift against float32 on ${q.drift.pairs} pairs: mean |Δ| ${q.drift.meanAbs.toFixed(4)} nats per answer (${q.drift.perTokenMeanAbs.toFixed(5)} per token), max ${q.drift.maxAbs.toFixed(4)}`,
      );
    }

    const random = new SeededRandom(config.training.seed);
    if (resumedFrom) random.setState(resumedFrom.state.rng_state);
    let adapter: LoraAdapter | undefined;
    const trainables = new Map<string, tf.Variable>();
    if (useLora) {
      const loraConfig = loraConfigOf(config, policy);
      const linears = [...policy.linears.keys()];
      const unmatched = (Array.isArray(loraConfig.targetModules) ? loraConfig.targetModules : []).filter((t) => !linears.some((path) => isLoraTarget({ ...loraConfig, targetModules: [t] }, path)));
      if (unmatched.length > 0 && unmatched.length < (loraConfig.targetModules as string[]).length) out.log(`lora.target_modules ${unmatched.join(', ')} match no layer of this ${policy.config.architecture}`, 'warning');
      try {
        adapter = resumedFrom ? loadAdapter(resumedFrom.dir, policy, { trainable: true }) : createLoraAdapter(policy, loraConfig, config.training.seed);
      } catch (error) {
        throw new TrainingSetupError(`lora: ${(error as Error).message}`);
      }
      attachAdapter(policy, adapter);
      adapter.dropoutSeed = () => random.below(0x7fffffff);
      for (const [path, layer] of adapter.layers) {
        trainables.set(`${path}.lora_A.weight`, layer.a);
        trainables.set(`${path}.lora_B.weight`, layer.b);
      }
      const count = [...trainables.values()].reduce((n, v) => n + v.size, 0);
      out.log(`LoRA r=${loraConfig.r} alpha=${loraConfig.alpha} dropout=${loraConfig.dropout} on ${adapter.layers.size} layers (${JSON.stringify(loraConfig.targetModules)}): ${count.toLocaleString('en-US')} trainable parameters`);
    } else {
      for (const [name, variable] of policy.params) trainables.set(name, variable);
      out.log(`full fine-tuning: all ${[...trainables.values()].reduce((n, v) => n + v.size, 0).toLocaleString('en-US')} parameters train`);
    }

    let reference: Awaited<ReturnType<typeof setUpReference>> | undefined;
    let evalReference: TrainingSession['evalReference'];
    if (!sft) {
      reference = await setUpReference(config, { cwd, outputDir, modelPath, policy, tokenizer, datasets: [...train, ...(evalSet ? [evalSet] : [])] as LoadedDataset[], quantize, fresh: !resumedFrom }, out);
      if (reference.kind !== 'none' && reference.kind !== 'cached' && reference.modelDir !== undefined && evalSet && evalSet.examples.length > 0) {
        const recorded = recordEvalReference(reference, evalSet as LoadedDataset);
        reference = recorded.reference;
        evalReference = { modelDir: reference.modelDir!, values: recorded.values, quantizationBits: quantize ? config.quantization.bits : null };
      }
      const held = reference;
      disposers.push(() => held.dispose());
      out.log(`reference: ${reference.description}`);
    }

    const optimizer = new AdamW(trainables, { weightDecay: config.training.weight_decay });
    disposers.push(() => optimizer.dispose());
    if (resumedFrom) {
      const saved = readOptimizerTensors(resumedFrom.dir);
      try {
        optimizer.loadState(saved, resumedFrom.state.global_step);
      } finally {
        tf.dispose([...saved.values()]);
      }
      out.log(`resumed from ${resumedFrom.dir} at step ${resumedFrom.state.global_step} of ${steps.totalSteps}`);
    }

    const stage = reference
      ? dpoStage({
          policy,
          trainables,
          padTokenId: tokenizer.padTokenId,
          reference,
          loss: {
            lossType: config.dpo.loss_type,
            labelSmoothing: config.dpo.label_smoothing,
            simpoGamma: config.dpo.simpo_gamma,
            rpoAlpha: config.dpo.rpo_alpha,
            lengthNormalize: config.dpo.length_normalize,
          },
        })
      : sftStage({ policy, trainables, padTokenId: tokenizer.padTokenId }, config.sft.packing);
    return {
      config,
      cwd,
      outputDir,
      modelPath,
      runId,
      backend: backend.name,
      configHash: hash,
      tokenizer,
      train,
      eval: evalSet,
      steps,
      policy,
      adapter,
      stage,
      reference: reference ? { kind: reference.kind, description: reference.description } : undefined,
      evalReference,
      optimizer,
      random,
      quantization,
      resumedFrom,
      step: resumedFrom?.state.global_step ?? 0,
      window: resumedFrom?.state.window ?? stage.emptyWindow(),
      tokensSeen: resumedFrom?.state.tokens_seen ?? 0,
      elapsedBefore: resumedFrom?.state.elapsed_seconds ?? 0,
      lastGradNorm: resumedFrom?.state.last_grad_norm ?? 0,
      dispose: () => {
        for (const dispose of disposers.reverse()) dispose();
      },
    };
  } catch (error) {
    for (const dispose of disposers.reverse()) dispose();
    throw error;
  }
}

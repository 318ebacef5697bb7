import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/files/atomicWrite.ts';
import { makeDirs } from '../core/files/makeDirs.ts';
import { RUN_LAYOUT, trlRankLaunch } from '../core/training/engineContract.ts';
import { TrainerEventParser } from '../core/training/trainerEventStream.ts';
import { trlArguments } from '../core/training/trlArguments.ts';
import type { TrainerEvent } from '../protocol/trainerEvents.ts';
import { defaultLoraTargets } from '../trainer/model/architectures.ts';
import { TextTokenizer } from '../trainer/tokenizer/textTokenizer.ts';
import { configHash } from '../trainer/train/configHash.ts';
import { chooseResumePoint, newRunId } from '../trainer/train/resumePoint.ts';
import { resolveModelFolder } from '../trainer/train/modelFolderPath.ts';
import { resolveStartingModel } from '../trainer/train/startingModel.ts';
import { writeFolderAtomic } from '../trainer/train/atomicFolder.ts';
import { EXPORT_MARKER } from '../trainer/train/exportModel.ts';
import { claimOutputDir, trimMetricsAfter, writeRunFile, type EventSink } from '../trainer/train/outputDir.ts';
import { formatEval, formatProgress } from '../trainer/train/progressPrinter.ts';
import { planSteps } from '../trainer/train/stepPlan.ts';
import { TrainingSetupError } from '../trainer/train/trainErrors.ts';
import { assertSameTrainingData, loadDatasets, loadTrainingDatasets, type LoadedDataset, type SftExample } from '../trainer/train/trainingData.ts';
import { packDataset, sftReader } from '../trainer/train/sftData.ts';
import { describePacking } from '../core/training/packing.ts';
import type { TrainResult } from '../trainer/train/runTraining.ts';
import type { RunOutput, TrainOptions } from '../trainer/train/trainingSession.ts';
import { checkMemory, trlTarget } from '../trainer/train/memoryCheck.ts';
import { choosePython, inspectPython, PythonEnvironmentError, runnerEnv } from './pythonEnvironment.ts';
import { scanTrlCheckpoints, type TrlCheckpoint } from './trlCheckpoints.ts';
import { scoreAfterRun } from '../trainer/review/scoreAfter.ts';


interface TrlRunContext extends TrainOptions {
  outputDir: string;
  events: EventSink;
  out: RunOutput;
  stderr: { write(text: string): unknown };
  signal?: AbortSignal;
}

const now = () => new Date().toISOString();

/** An SFT adapter merged into its base by PEFT (merge_and_unload) in the engine's Python, written atomically. */
function mergeWithPeft(python: string, adapter: string, base: string, target: string): void {
  writeFolderAtomic(target, (dir) => {
    const result = spawnSync(python, ['-m', 'dpo_studio_trl', 'merge', adapter, base, dir], { env: runnerEnv({ HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' }), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (result.error) throw new TrainingSetupError(`engine trl: cannot start ${python} to merge the adapter ${adapter}: ${result.error.message}`);
    if (result.status !== 0) throw new TrainingSetupError(`engine trl: merging the adapter ${adapter} into ${base} failed: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ')}`);
    writeFileSync(join(dir, EXPORT_MARKER), JSON.stringify({ source: adapter, kind: 'merged', written_at: new Date().toISOString() }, null, 2) + '\n');
  });
}

/** The architecture's attention projections, PEFT's defaults, for a config naming no targets. */
function defaultTargets(modelPath: string): string[] {
  try {
    return defaultLoraTargets(JSON.parse(readFileSync(join(modelPath, 'config.json'), 'utf8')) as Record<string, unknown>);
  } catch {
    return defaultLoraTargets({});
  }
}

function recordsJsonl(datasets: readonly LoadedDataset[]): string {
  const lines: string[] = [];
  // `source` is how the runner names a record in an error (file:line), as the tfjs engine does.
  for (const dataset of datasets) for (const e of dataset.examples) lines.push(JSON.stringify({ prompt_ids: e.promptIds, chosen_ids: e.chosenIds, rejected_ids: e.rejectedIds, source: `${dataset.path}:${e.line}` }));
  return lines.join('\n') + '\n';
}

/** SFT records for SFTTrainer: input ids and completion mask, and which file each came from (TRL packs each file apart, as here). */
function sftRecordsJsonl(datasets: ReadonlyArray<LoadedDataset<SftExample>>): string {
  const lines: string[] = [];
  datasets.forEach((dataset, d) => {
    for (const e of dataset.examples) lines.push(JSON.stringify({ input_ids: e.inputIds, completion_mask: e.labelMask, dataset: d, source: `${dataset.path}:${e.line}` }));
  });
  return lines.join('\n') + '\n';
}

/** The records files the runner reads, and what the spec says of them. */
function writeRecords(engineDir: string, train: string, evalText: string | undefined): Record<string, string> {
  const trainRecords = join(engineDir, 'train-records.jsonl');
  writeFileAtomic(trainRecords, train);
  if (evalText === undefined) return { train_records: trainRecords };
  const evalRecords = join(engineDir, 'eval-records.jsonl');
  writeFileAtomic(evalRecords, evalText);
  return { train_records: trainRecords, eval_records: evalRecords };
}

interface StageData {
  /** Examples per training file, as the plan counts them (packed sequences when packing). */
  sizes: number[];
  train: Array<LoadedDataset<unknown>>;
  eval: LoadedDataset<unknown> | undefined;
  /** Writes the records files; returns what the spec says of them. */
  write(engineDir: string): Record<string, unknown>;
}

/**
 * The run's data as the TRL engine takes it: DPO pairs tokenized and truncated here; SFT records
 * tokenized here and, with packing, packed by TRL, which must make the sequences planned here
 * from the same rule (the spec carries them; the runner refuses a difference).
 */
async function stageData(config: TrainOptions['config'], cwd: string, tokenizer: TextTokenizer, out: RunOutput): Promise<StageData> {
  if (config.training.stage !== 'sft') {
    const { train, eval: evalSet } = await loadTrainingDatasets(config, cwd, tokenizer, out.log);
    return {
      sizes: train.map((d) => d.examples.length),
      train,
      eval: evalSet,
      write: (engineDir) => writeRecords(engineDir, recordsJsonl(train), evalSet && recordsJsonl([evalSet])),
    };
  }
  const { train, eval: evalSet } = await loadDatasets(config, sftReader(config, cwd, tokenizer, out.log), out.log);
  // Packed rows, by record index within all files' records in order (the records file's lines).
  const packedRows = (datasets: ReadonlyArray<LoadedDataset<SftExample>>, role: string) => {
    let offset = 0;
    return datasets.flatMap((dataset) => {
      const packed = packDataset(dataset, config.data.max_length);
      out.log(`${role} data ${dataset.path}: ${describePacking(packed.report, config.data.max_length)}`);
      const line = new Map(dataset.examples.map((e, i) => [e.index, offset + i]));
      offset += dataset.examples.length;
      return [packed.dataset.examples.map((row) => row.records!.map((r) => line.get(r.index)!))];
    });
  };
  const trainRows = config.sft.packing ? packedRows(train, 'training') : undefined;
  const evalRows = config.sft.packing && evalSet ? packedRows([evalSet], 'eval').flat() : undefined;
  return {
    sizes: trainRows ? trainRows.map((rows) => rows.length) : train.map((d) => d.examples.length),
    train,
    eval: evalSet,
    write: (engineDir) => ({
      ...writeRecords(engineDir, sftRecordsJsonl(train), evalSet && sftRecordsJsonl([evalSet])),
      ...(trainRows ? { packed_train_rows: trainRows.flat() } : {}),
      ...(evalRows ? { packed_eval_rows: evalRows } : {}),
    }),
  };
}

function resumePoint(ctx: TrlRunContext, hash: string): TrlCheckpoint | undefined {
  if (!ctx.resume) return undefined;
  const scan = scanTrlCheckpoints(ctx.outputDir);
  const latest = scan.latest ? { ...scan.latest, configHash: scan.latest.state.config_hash, config: scan.latest.state.config } : undefined;
  return chooseResumePoint({ ...(latest ? { latest } : {}), skipped: scan.skipped }, ctx.outputDir, ctx.config, hash, (m) => ctx.out.log(m, 'warning'));
}

/** The first readable rank error the runner left (a rank that died before it could tell rank 0). */
function rankErrors(engineDir: string): Array<{ rank: number; message: string; step?: number | null; setup?: boolean }> {
  if (!existsSync(engineDir)) return [];
  return readdirSync(engineDir)
    .filter((n) => /^rank-\d+-error\.json$/.test(n))
    .map((n) => {
      try {
        return JSON.parse(readFileSync(join(engineDir, n), 'utf8')) as { rank: number; message: string; step?: number | null; setup?: boolean; time?: string };
      } catch {
        return undefined;
      }
    })
    .filter((e): e is NonNullable<typeof e> => !!e)
    .sort((a, b) => String((a as { time?: string }).time).localeCompare(String((b as { time?: string }).time)));
}

/**
 * torchrun's report of the rank that failed first ("Root Cause (first observed failure)"): the
 * other ranks' errors (a connection reset by the dead peer) are consequences, not the cause.
 */
export function torchrunRootCause(log: string): { rank: number; cause: string } | undefined {
  const at = log.lastIndexOf('Root Cause (first observed failure)');
  if (at < 0) return undefined;
  const block = log.slice(at);
  const rank = /^\s*rank\s*:\s*(\d+)/m.exec(block);
  const traceback = /^\s*traceback\s*:\s*(.+)$/m.exec(block);
  const exitcode = /^\s*exitcode\s*:\s*(.+)$/m.exec(block);
  if (!rank) return undefined;
  const cause = traceback && !/^To enable traceback/.test(traceback[1]!) ? traceback[1]!.trim() : `exit code ${exitcode?.[1]?.trim() ?? 'unknown'}`;
  return { rank: Number(rank[1]), cause };
}

/** The last Python exception line of a log (`ValueError: ...`), for a crash that said nothing else. */
function lastException(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.trimEnd());
  for (let i = lines.length - 1; i >= 0; i--) if (/^[A-Za-z_.]*(Error|Exception|Interrupt)\b.*:/.test(lines[i]!)) return lines[i];
  return undefined;
}

/**
 * A run on the TRL engine, supervised from here: the config is already resolved; this reads and
 * tokenizes the data exactly as the tfjs engine does (one reader, one truncation rule), plans
 * the batches with the same plan, writes a spec, starts the Python rank(s) in a process group of
 * their own and relays their events into the same stream and metrics.jsonl. A stop request
 * becomes the stop file the ranks agree on; a crash of any rank becomes one error event.
 */
export async function runTrlEngine(ctx: TrlRunContext): Promise<TrainResult> {
  const { config, outputDir, events, out } = ctx;
  const cwd = ctx.cwd ?? process.cwd();
  const hash = configHash(config);
  const accelerateConfig = config.training.accelerate_config === undefined ? undefined : resolve(cwd, config.training.accelerate_config);
  if (accelerateConfig !== undefined && !statSync(accelerateConfig, { throwIfNoEntry: false })?.isFile())
    throw new TrainingSetupError(`training.accelerate_config ${config.training.accelerate_config} is not a file (resolved to ${accelerateConfig}); write one with \`accelerate config\` or remove the key`);
  const logLine = (line: string) => out.log(line);
  const modelPath = await resolveStartingModel(cwd, config, (adapter, base, target) => mergeWithPeft(choosePython(config.training.python, cwd).python, adapter, base, target), logLine);
  const referencePath = config.dpo.reference_model === undefined ? undefined : await resolveModelFolder(cwd, config.dpo.reference_model, 'dpo.reference_model', { log: logLine });
  const resumed = resumePoint(ctx, hash);

  let report;
  try {
    report = await inspectPython(choosePython(config.training.python, cwd));
  } catch (error) {
    if (error instanceof PythonEnvironmentError) throw new TrainingSetupError(error.message);
    throw error;
  }
  const processes = accelerateConfig !== undefined ? 1 : (config.training.processes ?? Math.max(1, report.devices.cuda.length));
  // With a user's accelerate config (ZeRO, FSDP shard the weights) a per-device copy is not what runs: no plan is held against it.
  const memory = accelerateConfig === undefined ? checkMemory(config, modelPath, trlTarget(report.devices.cuda), (line) => out.log(line)) : undefined;

  claimOutputDir(outputDir, { resume: ctx.resume ?? false, overwrite: ctx.overwriteOutputDir ?? false });
  if (ctx.resume) trimMetricsAfter(outputDir, resumed?.step ?? 0);
  events.attachFile(join(outputDir, RUN_LAYOUT.metrics));

  const tokenizer = TextTokenizer.fromFolder(modelPath);
  const data = await stageData(config, cwd, tokenizer, out);
  const { train, eval: evalSet } = data;
  if (resumed) assertSameTrainingData(resumed.state.datasets, train, resumed.dir);
  // One global micro-batch of the plan is what all ranks together take in one forward pass.
  const steps = planSteps(
    data.sizes,
    train.map((d) => d.weight),
    { ...config.training, batch_size: config.training.batch_size * processes },
  );
  const offsets: number[] = [];
  data.sizes.reduce((offset, size) => (offsets.push(offset), offset + size), 0);
  const epochOrders: number[][] = [];
  for (let e = 0; e * steps.microBatchesPerEpoch < steps.batchPlan.microBatches.length; e++) {
    epochOrders.push(steps.batchPlan.microBatches.slice(e * steps.microBatchesPerEpoch, (e + 1) * steps.microBatchesPerEpoch).flatMap((batch) => batch.map((ref) => offsets[ref.dataset]! + ref.record)));
  }

  const engineDir = join(outputDir, RUN_LAYOUT.engineDir);
  rmSync(engineDir, { recursive: true, force: true });
  makeDirs(engineDir);
  const records = data.write(engineDir);
  const stopFile = join(engineDir, 'stop');
  const runId = resumed?.state.run_id ?? newRunId();
  const args = trlArguments(config, { totalSteps: steps.totalSteps, stepsPerEpoch: steps.stepsPerEpoch, defaultTargets: defaultTargets(modelPath), outputDir });
  const spec = {
    protocol_version: 1,
    run_id: runId,
    model_name: config.model.name,
    model_path: modelPath,
    output_dir: outputDir,
    engine_dir: engineDir,
    stage: config.training.stage,
    ...records,
    epoch_orders: epochOrders,
    steps_per_epoch: steps.stepsPerEpoch,
    total_steps: steps.totalSteps,
    trainer_args: args.trainer,
    lora_args: args.lora ?? null,
    quantization_bits: args.quantization?.bits ?? null,
    reference_model_path: referencePath ?? null,
    use_peft_for_reference: config.dpo.use_peft_for_reference,
    resume_from_checkpoint: resumed?.dir ?? null,
    resumed_from_step: resumed?.step ?? null,
    config,
    datasets: train.map((d) => d.path),
    stop_file: stopFile,
    supervisor_pid: process.pid,
    state: {
      config_hash: hash,
      datasets: train.map((d) => ({ path: d.path, sha256: d.sha256 })),
      elapsed_seconds: resumed?.state.elapsed_seconds ?? 0,
      ...(memory ? { memory: { estimateBytes: memory.totalBytes, limitBytes: memory.target.limitBytes, limit: memory.target.limitWhat } } : {}),
    },
  };
  const specPath = join(engineDir, 'spec.json');
  writeFileAtomic(specPath, JSON.stringify(spec));

  const runInfo = (status: string, extra: Record<string, unknown> = {}) => ({
    run_id: runId,
    status,
    updated_at: now(),
    engine: 'trl',
    model: config.model.name,
    model_path: modelPath,
    output_dir: outputDir,
    python: report.executable,
    libraries: report.versions,
    processes,
    config_hash: hash,
    total_steps: steps.totalSteps,
    ...(resumed ? { resumed_from_step: resumed.step } : {}),
    stage: config.training.stage,
    datasets: [...train, ...(evalSet ? [evalSet] : [])].map((d) => ({ path: d.path, role: d === evalSet ? 'eval' : 'train', weight: d.weight, [config.training.stage === 'sft' ? 'records' : 'pairs']: d.examples.length, skipped: d.skipped.length, dropped_prompt_too_long: d.dropped.length, truncated: d.truncated })),
    config,
    ...extra,
  });
  writeRunFile(outputDir, runInfo('running', { started_at: now() }));

  const launch = trlRankLaunch({ python: report.executable, specPath, processes, ...(accelerateConfig ? { accelerateConfig } : {}) });
  const logPath = join(engineDir, 'engine.log');
  const log = createWriteStream(logPath);
  out.log(`engine trl: ${report.executable} (Python ${report.python}, torch ${report.versions.torch}, trl ${report.versions.trl}); ${processes} process${processes > 1 ? 'es' : ''}${accelerateConfig ? ` from ${accelerateConfig}` : ''}; log ${logPath}`);
  const child = spawn(launch.command, launch.args, {
    cwd,
    // Offline: the TRL engine gets resolved local folders and must never download on its own.
    env: runnerEnv({
      HF_HUB_OFFLINE: '1',
      TRANSFORMERS_OFFLINE: '1',
      HF_DATASETS_OFFLINE: '1',
      HF_HUB_DISABLE_PROGRESS_BARS: '1',
      HF_DATASETS_DISABLE_PROGRESS_BARS: '1',
      PYTHONWARNINGS: 'ignore::FutureWarning',
      TENSORBOARD_LOGGING_DIR: join(outputDir, RUN_LAYOUT.tensorboard),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });

  let end: Extract<TrainerEvent, { type: 'end' }> | undefined;
  let errorEvent: Extract<TrainerEvent, { type: 'error' }> | undefined;
  let lastCheckpoint = resumed?.dir;
  let stderrTail = '';
  let step = resumed?.step ?? 0;
  const startedAt = Date.now();
  let stepsHere = 0;
  const parser = new TrainerEventParser(
    (event) => {
      if (event.type === 'end') {
        end = event;
        return; // emitted below, after run.json says how it ended
      }
      if (event.type === 'error') {
        // Held back: with several ranks, rank 0's error may be a consequence (its peer died), and
        // the user gets one error, the cause, once every rank has ended.
        errorEvent = event;
        return;
      }
      if (event.type === 'checkpoint') lastCheckpoint = event.path;
      events.emit(event);
      if (event.type === 'metrics') {
        step = event.step;
        stepsHere++;
        const m = event.metrics;
        if (m.loss !== undefined)
          out.progress(formatProgress({ step, totalSteps: steps.totalSteps, metrics: m, elapsedSeconds: m.elapsed_seconds ?? 0, stepsThisProcess: stepsHere, secondsThisProcess: (Date.now() - startedAt) / 1000 }));
      } else if (event.type === 'eval' && event.metrics.eval_loss !== undefined) {
        out.progress(formatEval(event.step, event.metrics));
      } else if (event.type === 'log') {
        ctx.stderr.write(`${event.level === 'warning' ? 'warning: ' : ''}${event.message}\n`);
      }
    },
    (issue) => ctx.stderr.write(`engine trl printed a line that is not an event (line ${issue.line}): ${issue.text.slice(0, 200)}\n`),
  );
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => parser.push(chunk));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    log.write(chunk);
    stderrTail = (stderrTail + chunk).slice(-20000);
    ctx.stderr.write(chunk);
  });
  const requestStop = () => {
    try {
      writeFileAtomic(stopFile, String(ctx.signal?.reason ?? 'stop'));
    } catch {
      // The ranks are told by signal instead.
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    }
  };
  ctx.signal?.addEventListener('abort', requestStop, { once: true });
  if (ctx.signal?.aborted) requestStop();
  const spawnError = await new Promise<Error | undefined>((done) => {
    child.on('error', (error) => done(error));
    child.on('close', () => done(undefined));
  });
  ctx.signal?.removeEventListener('abort', requestStop);
  parser.end();
  await new Promise((done) => log.end(done));
  // Ranks that outlived the launcher (it crashed) must not go on writing.
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }

  if (end && end.status !== 'failed') {
    writeRunFile(outputDir, runInfo(end.status, { last_checkpoint: lastCheckpoint ?? null, final: end.finalCheckpoint ?? null }));
    if (end.status === 'completed') await scoreAfterRun(config, outputDir, cwd, out, ctx.signal);
    events.emit(end);
    if (end.status === 'stopped') out.progress(`stopped at step ${end.step}${lastCheckpoint ? `; resume with --resume from ${lastCheckpoint}` : ''}`);
    return { status: end.status, step: end.step, ...(lastCheckpoint ? { lastCheckpoint } : {}), ...(end.finalCheckpoint ? { final: end.finalCheckpoint } : {}) };
  }
  const ranks = rankErrors(engineDir);
  const root = torchrunRootCause(stderrTail);
  const rootError = root && ranks.find((r) => r.rank === root.rank);
  // The first rank to fail is the cause; with torchrun, that is its own report, not the order of error files.
  const first = rootError ?? (root ? undefined : ranks[0]);
  const cause = spawnError
    ? `engine trl: cannot start ${launch.command}: ${spawnError.message}`
    : root && !rootError
      ? `rank ${root.rank} died: ${root.cause}`
      : first && (first.rank !== 0 || !errorEvent)
        ? `rank ${first.rank}: ${first.message}`
        : (errorEvent?.message ?? `engine trl: the training process ended without finishing (${lastException(stderrTail) ?? 'no error message'})`);
  const setup = spawnError !== undefined || (first?.setup ?? false) || (errorEvent === undefined && !ranks.length && step === (resumed?.step ?? 0) && !lastCheckpoint);
  // A run refused before its first step leaves no folder behind (runTraining removes it), so
  // its message must stand alone; the ranks' output went to stderr as it came.
  const message = setup && !ctx.resume ? cause : `${cause}; the full log is ${logPath}`;
  const failedStep = errorEvent?.step ?? first?.step ?? step;
  events.emit({ type: 'error', time: errorEvent?.time ?? now(), message, step: failedStep ?? step, ...(lastCheckpoint ? { lastCheckpoint } : {}) });
  ctx.stderr.write(`error: ${message}${lastCheckpoint ? `\nlast good checkpoint: ${lastCheckpoint}` : ''}\n`);
  writeRunFile(outputDir, runInfo('failed', { error: message, last_checkpoint: lastCheckpoint ?? null }));
  events.emit({ type: 'end', time: now(), status: 'failed', step: failedStep ?? step });
  return { status: 'failed', step: failedStep ?? step, message, failure: setup ? 'setup' : 'training', ...(lastCheckpoint ? { lastCheckpoint } : {}) };
}

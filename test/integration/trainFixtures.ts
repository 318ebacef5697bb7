import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseTrainerEvents, TrainerEventParser } from '../../src/core/training/trainerEventStream.ts';
import { trainCommand } from '../../src/cli/trainCommand.ts';
import { initModel, type InitArch } from '../../src/trainer/model/initModel.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/trainer/model/safetensors.ts';
import { TextTokenizer } from '../../src/trainer/tokenizer/textTokenizer.ts';
import { planSteps } from '../../src/trainer/train/stepPlan.ts';
import type { TrainerEvent, TrainerMetricsEvent } from '../../src/protocol/trainerEvents.ts';

/**
 * Real files for training tests: a tiny model written by init-model, a synthetic preference
 * task, a YAML config, and the train command run in this process with its stdout captured.
 */

export function workspace(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `dpo-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function tinyModel(dir: string, arch: InitArch = 'llama', configOverrides: Record<string, unknown> = {}): string {
  initModel(dir, { arch, size: 'tiny', seed: 7, configOverrides });
  return dir;
}

/**
 * A preference that must be learned from the prompt: "answer with red" prefers the red answer,
 * "answer with blue" the blue one. Both answers have the same shape and length, so neither a
 * length bias nor a favourite word solves it, and a fresh model is right about half the time.
 */
export function colorTask(count: number, offset = 0): Array<{ prompt: string; chosen: string; rejected: string }> {
  const records = [];
  for (let i = offset; i < offset + count; i++) {
    const [want, other] = i % 2 === 0 ? ['red', 'blue'] : ['blue', 'red'];
    records.push({ prompt: `Item ${i}: answer with ${want}.`, chosen: `${want} ${want} ${want}`, rejected: `${other} ${other} ${other}` });
  }
  return records;
}

/**
 * Supervised data the tiny model can learn: "Item i is <colour>. Name its colour three times."
 * answered with the colour three times. The colour must be read from the prompt, so held-out
 * items (other numbers) test what was learned, not what was memorised.
 */
export function colorSftTask(count: number, offset = 0): Array<{ instruction: string; output: string }> {
  const colors = ['red', 'blue', 'green', 'gold'];
  const records = [];
  for (let i = offset; i < offset + count; i++) {
    const c = colors[i % colors.length]!;
    records.push({ instruction: `Item ${i} is ${c}. Name its colour three times.`, output: `${c} ${c} ${c}` });
  }
  return records;
}

export function writeJsonl(path: string, records: readonly unknown[]): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

type Section = Record<string, unknown>;
export interface ConfigSections {
  model: Section;
  data?: Section;
  dpo?: Section;
  sft?: Section;
  training?: Section;
  lora?: Section;
  quantization?: Section;
  review?: Section;
}

/** A config with the test defaults (wasm, small batches, LoRA on every linear) under `sections`. */
export function writeConfig(path: string, sections: ConfigSections): string {
  const config = {
    model: sections.model,
    data: { max_length: 64, max_prompt_length: 32, ...sections.data },
    dpo: { beta: 0.1, ...sections.dpo },
    ...(sections.sft ? { sft: sections.sft } : {}),
    training: { num_epochs: 1, batch_size: 4, learning_rate: 5e-3, logging_steps: 1, seed: 3, backend: 'wasm', ...sections.training },
    ...(sections.lora === undefined ? { lora: { r: 8, lora_alpha: 16, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] } } : Object.keys(sections.lora).length ? { lora: sections.lora } : {}),
    ...(sections.quantization ? { quantization: sections.quantization } : {}),
    ...(sections.review ? { review: sections.review } : {}),
  };
  writeFileSync(path, stringify(config));
  return path;
}

export interface TrainRun {
  code: number;
  events: TrainerEvent[];
  stdout: string;
  stderr: string;
}

/**
 * Runs `dpo-studio train <args>` in this process. `stopWhen` is shown every event as it is
 * written; when it says so the run is asked to stop, exactly as SIGINT asks the CLI process.
 */
export async function train(args: string[], options: { stopWhen?: (event: TrainerEvent) => boolean } = {}): Promise<TrainRun> {
  let stdout = '';
  let stderr = '';
  const controller = new AbortController();
  const out = {
    write(text: string) {
      stdout += text;
      if (options.stopWhen && !controller.signal.aborted) for (const event of parseTrainerEvents(text).events) if (options.stopWhen(event)) controller.abort('SIGINT');
    },
  };
  const code = await trainCommand(args, { out, err: { write: (t: string) => (stderr += t) } }, controller.signal);
  return { code, events: parseTrainerEvents(stdout).events, stdout, stderr };
}

export function metricsEvents(events: readonly TrainerEvent[]): TrainerMetricsEvent[] {
  return events.filter((e): e is TrainerMetricsEvent => e.type === 'metrics');
}

/** Metrics that depend on the data and weights only, not on timing. */
export function deterministic(metrics: Record<string, number>): Record<string, number> {
  const { tokens_per_second: _t, elapsed_seconds: _e, ...rest } = metrics;
  return rest;
}

export interface SpawnedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  events: TrainerEvent[];
  stderr: string;
}

/**
 * Runs `dpo-studio train <args>` as its own process (the source through tsx, as the bundle
 * would), reading its stdout as the VS Code task will; `onEvent` may signal the child.
 */
export function spawnTrain(args: string[], onEvent: (event: TrainerEvent, child: ChildProcess) => void = () => {}): Promise<SpawnedRun> {
  const root = join(import.meta.dirname, '..', '..');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), 'train', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: TrainerEvent[] = [];
  let stderr = '';
  const parser = new TrainerEventParser((event) => {
    events.push(event);
    onEvent(event, child);
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => parser.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      parser.end();
      resolve({ code, signal, events, stderr });
    });
  });
}

/** Makes one token's embedding NaN, so exactly the sequences containing that token go NaN. */
function poisonToken(modelDir: string, tokenId: number): void {
  const path = join(modelDir, 'model.safetensors');
  const file = SafetensorsFile.open(path);
  const tensors = file.names.map((name) => {
    const data = file.readFloat32(name);
    const shape = file.entry(name).shape;
    if (name === 'model.embed_tokens.weight') data.fill(Number.NaN, tokenId * shape[1]!, (tokenId + 1) * shape[1]!);
    return { name, shape, data };
  });
  file.close();
  writeSafetensors(path, tensors);
}

export interface NanScenario {
  model: string;
  data: string;
  /** 0-based index of the record that goes NaN (its line is bad + 1). */
  bad: number;
  /** A seed whose plan (batch 4, one epoch) puts that record after the first step, so a checkpoint precedes it. */
  seed: number;
  /** The step that holds it. */
  badStep: number;
}

/**
 * A tiny model whose `<|im_start|>` embedding is NaN (untied, so only the input side: exactly
 * the sequences holding the token go NaN) and 16 color-task pairs, one of which holds it.
 */
export function nanScenario(dir: string): NanScenario {
  const model = tinyModel(join(dir, 'nan-model'), 'llama', { tie_word_embeddings: false });
  poisonToken(model, TextTokenizer.fromFolder(model).tokenToId('<|im_start|>')!);
  const records = colorTask(16);
  const bad = 9;
  records[bad] = { ...records[bad]!, chosen: `<|im_start|> ${records[bad]!.chosen}` };
  const data = writeJsonl(join(dir, 'nan.jsonl'), records);
  const plan = (seed: number) => planSteps([16], [1], { num_epochs: 1, batch_size: 4, gradient_accumulation_steps: 1, max_steps: -1, seed });
  const seed = [1, 2, 3, 4, 5, 6, 7, 8].find((s) => !plan(s).microBatches(1).flat().some((r) => r.record === bad))!;
  const badStep = [1, 2, 3, 4].find((s) => plan(seed).microBatches(s).flat().some((r) => r.record === bad))!;
  return { model, data, bad, seed, badStep };
}

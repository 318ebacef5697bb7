// What SFT packing buys on the tfjs engine (wasm): one epoch over 96 prompt/completion records
// of spread lengths (16 to 256 tokens, as instruction data is) with a small Llama (hidden 256,
// 4 layers, vocab 8192), batch 4, max_length 256, LoRA r=16 on every linear, trained twice by
// the real trainer in this process: unpacked (each record a row, padded to the longest of its
// micro-batch) and packed (best-fit decreasing into 256-token rows, block-diagonal attention).
// Prints each run's seconds per epoch and tokens/s, the rows and padding of each, and the
// packed epoch's time against the unpacked one (the baseline, measured in the same run).
//
//   node --import tsx bench/sftPacking.bench.ts   (BENCH_ROUNDS=2: runs alternate, the fastest of each counts)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrainingConfig } from '../src/core/config/index.ts';
import { parseTrainerEvents } from '../src/core/training/trainerEventStream.ts';
import type { TrainerMetricsEvent } from '../src/protocol/trainerEvents.ts';
import { initBackend } from '../src/trainer/backend/index.ts';
import { TextTokenizer } from '../src/trainer/tokenizer/textTokenizer.ts';
import { runTraining } from '../src/trainer/train/index.ts';
import { writeBenchModel } from './benchModel.ts';
import { singleTokenWords, text } from './benchText.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const RECORDS = 96;
const MAX_LENGTH = 256;

async function epoch(dir: string, model: string, data: string, packing: boolean): Promise<{ seconds: number; tokens: number; log: string }> {
  const yaml = [
    `model: {name: ${model}}`,
    `data: {train_path: ${data}, max_length: ${MAX_LENGTH}}`,
    `sft: {packing: ${packing}}`,
    `training: {stage: sft, output_dir: ${join(dir, `out-${packing}-${Date.now()}`)}, batch_size: 4, num_epochs: 1, learning_rate: 1.0e-4, logging_steps: 1000, save_steps: 100000, backend: wasm}`,
    'lora: {r: 16, lora_alpha: 32, lora_dropout: 0, target_modules: [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]}',
  ].join('\n');
  const { config, problems } = parseTrainingConfig(yaml, 'bench.yaml');
  if (!config) throw new Error(JSON.stringify(problems));
  let stdout = '';
  let log = '';
  await runTraining({ config, stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => ((log += t), true) } });
  const last = parseTrainerEvents(stdout).events.filter((e): e is TrainerMetricsEvent => e.type === 'metrics').at(-1)!;
  return { seconds: last.metrics.elapsed_seconds!, tokens: last.metrics.num_tokens!, log };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dpo-sft-packing-bench-'));
  try {
    await initBackend('wasm');
    const model = join(dir, 'model');
    writeBenchModel(model);
    const words = singleTokenWords(TextTokenizer.fromFolder(model));
    // Lengths spread evenly over 16..256 tokens, in a shuffled order.
    const records = Array.from({ length: RECORDS }, (_, i) => {
      const total = 16 + (((i * 37) % RECORDS) * (MAX_LENGTH - 24)) / RECORDS;
      const prompt = Math.max(4, Math.floor(total / 3));
      return { prompt: text(words, prompt, i), completion: text(words, Math.max(4, Math.floor(total) - prompt - 2), 1000 + i) };
    });
    const data = join(dir, 'sft.jsonl');
    writeFileSync(data, records.map((r) => JSON.stringify(r)).join('\n') + '\n');

    const unpacked: number[] = [];
    const packed: number[] = [];
    let tokens = 0;
    let packingLine = '';
    for (let round = 0; round < ROUNDS; round++) {
      const a = await epoch(dir, model, data, false);
      const b = await epoch(dir, model, data, true);
      if (a.tokens !== b.tokens) throw new Error(`the runs saw different tokens: ${a.tokens} unpacked, ${b.tokens} packed`);
      tokens = a.tokens;
      unpacked.push(a.seconds);
      packed.push(b.seconds);
      packingLine = b.log.split('\n').find((l) => l.includes('packing:')) ?? '';
      console.log(`round ${round + 1}: unpacked ${a.seconds.toFixed(2)} s, packed ${b.seconds.toFixed(2)} s`);
    }
    const u = Math.min(...unpacked);
    const p = Math.min(...packed);
    console.log(packingLine);
    console.log(`unpacked: ${u.toFixed(2)} s per epoch, ${Math.round(tokens / u).toLocaleString('en-US')} tokens/s`);
    console.log(`packed:   ${p.toFixed(2)} s per epoch, ${Math.round(tokens / p).toLocaleString('en-US')} tokens/s`);
    console.log(`packed epoch time / unpacked (baseline, same run): ${(p / u).toFixed(3)} (speed-up ${(u / p).toFixed(2)}x)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

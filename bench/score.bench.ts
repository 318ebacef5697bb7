// The cost of `dpo-studio score` against a `dpo-studio logps` pass over the same data with the
// same engine (issue 17 target: scoring costs at most 1.2x a logps pass). Both run as the
// shipped CLI (dist/cli.cjs), on the wasm backend, on the small Llama the training benchmarks
// share (hidden 256, 4 layers, vocab 8192) with a LoRA adapter trained one step, over PAIRS
// pairs of PROMPT-token prompts and ANSWER-token answers, batch 8. The compute times are the
// commands' own ("in X s": tokenized data to written file, model loading excluded, which is the
// same for both); the wall times include process start and model loading.
//
// Three cases of scoring, each against logps of the same data in the same round:
//   - reference cached: the run's reference log-probabilities of the data are in <run>/ref_logps
//     (training with precompute_ref_log_probs, or any earlier scoring of the data) -> the policy alone;
//   - edited: the data changed in a few records since -> the reference of those records only;
//   - first scoring: nothing cached -> the policy and the reference over every pair.
//
//   npm run bench:score   (BENCH_ROUNDS=3, BENCH_PAIRS=256)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { TextTokenizer } from '../src/trainer/tokenizer/textTokenizer.ts';
import { writeBenchModel } from './benchModel.ts';
import { singleTokenWords, text } from './benchText.ts';
import { median } from './measure.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 256);
const PROMPT = 96;
const ANSWER = 48;
const EDITED = Math.max(1, Math.round(PAIRS / 100));
const cli = join(import.meta.dirname, '..', 'dist', 'cli.cjs');

function run(args: string[], cwd: string): { wall: number; compute: number } {
  const started = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  const wall = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`dpo-studio ${args[0]} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const match = /in (\d+(?:\.\d+)?) s/.exec(args[0] === 'logps' ? r.stdout : r.stderr.split('\n').find((l) => l.startsWith('scored ')) ?? '');
  if (!match) throw new Error(`no time in the output of ${args[0]}: ${r.stdout}${r.stderr}`);
  return { wall, compute: Number(match[1]) };
}

const dir = mkdtempSync(join(tmpdir(), 'dpo-bench-score-'));
try {
  const model = writeBenchModel(join(dir, 'model'));
  const words = singleTokenWords(TextTokenizer.fromFolder(model));
  const records = Array.from({ length: PAIRS }, (_, i) => ({ prompt: text(words, PROMPT, i), chosen: text(words, ANSWER, i + 7), rejected: text(words, ANSWER, i + 13) }));
  const data = join(dir, 'data.jsonl');
  const write = (rows: typeof records) => writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  write(records);
  writeFileSync(
    join(dir, 'config.yaml'),
    stringify({
      model: { name: model },
      data: { train_path: data, max_length: 256, max_prompt_length: 128 },
      training: { output_dir: join(dir, 'run'), max_steps: 1, batch_size: 8, backend: 'wasm', logging_steps: 1 },
      lora: { r: 16, lora_alpha: 32, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
      review: { score_after: 'none' },
    }),
  );
  const trained = spawnSync(process.execPath, [cli, 'train', '--config', join(dir, 'config.yaml')], { cwd: dir, encoding: 'utf8' });
  if (trained.status !== 0) throw new Error(trained.stderr);
  const logpsArgs = ['logps', '--model', model, '--adapter', join(dir, 'run', 'final'), '--data', data, '--out', join(dir, 'logps.jsonl'), '--backend', 'wasm', '--batch-size', '8', '--max-length', '256', '--max-prompt-length', '128'];
  const scoreArgs = ['score', '--run', join(dir, 'run'), '--data', data, '--out', join(dir, 'scores.jsonl'), '--backend', 'wasm', '--batch-size', '8'];
  const cases = { cached: [] as number[], edited: [] as number[], first: [] as number[] };
  const walls = { logps: [] as number[], cached: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    write(records);
    const dropCache = () => rmSync(join(dir, 'run', 'ref_logps'), { recursive: true, force: true });
    dropCache();
    const logps = run(logpsArgs, dir);
    walls.logps.push(logps.wall);
    cases.first.push(run(scoreArgs, dir).compute / logps.compute);
    const cached = run(scoreArgs, dir);
    cases.cached.push(cached.compute / logps.compute);
    walls.cached.push(cached.wall);
    // A labeler fixed a few answers: those records' reference is new, the rest is cached.
    write(records.map((r, i) => (i % Math.round(PAIRS / EDITED) === 0 ? { ...r, chosen: `${r.chosen} fixed` } : r)));
    cases.edited.push(run(scoreArgs, dir).compute / run(logpsArgs, dir).compute);
    console.log(`round ${round + 1}: logps ${logps.compute.toFixed(2)} s; score / logps: reference cached ${cases.cached.at(-1)!.toFixed(2)}x, ${EDITED} of ${PAIRS} records edited ${cases.edited.at(-1)!.toFixed(2)}x, first scoring ${cases.first.at(-1)!.toFixed(2)}x`);
  }
  const lines = readFileSync(join(dir, 'scores.jsonl'), 'utf8').trim().split('\n').length - 1;
  if (lines !== PAIRS) throw new Error(`the scores file holds ${lines} records, not ${PAIRS}`);
  console.log(`\nscore vs logps, ${PAIRS} pairs (${PROMPT}+${ANSWER} tokens), small Llama + LoRA, wasm, median of ${ROUNDS} rounds (compute time, same run):`);
  console.log(`  reference cached:          ${median(cases.cached).toFixed(2)}x   (target <= 1.2x)`);
  console.log(`  ${EDITED} of ${PAIRS} records edited:   ${median(cases.edited).toFixed(2)}x`);
  console.log(`  first scoring (policy + reference): ${median(cases.first).toFixed(2)}x`);
  console.log(`  wall, process start to exit: logps ${median(walls.logps).toFixed(2)} s, score (cached) ${median(walls.cached).toFixed(2)} s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

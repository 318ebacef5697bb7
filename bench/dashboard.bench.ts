// The training dashboard with 100,000 steps per series, in a real VS Code (code-server +
// chromium, the e2e harness): the time to show the run, then, while a trainer appends rows, the
// time the page spends per update (taking in the rows + redrawing the charts on screen) against
// one frame (16 ms), and the points it holds.
//
//   npm run build && npm run bench:dashboard [-- --steps 100000 --batches 30 --batch 10]

import { appendFileSync } from 'node:fs';
import { prepare } from '../scripts/vscode/prepare.mjs';
import { withVSCode, type VSCodeSession } from '../test/e2e/harness.ts';
import { quantile } from './measure.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const STEPS = flag('steps', 100_000);
const BATCHES = flag('batches', 30);
const BATCH = flag('batch', 10);
const EVAL_EVERY = 500;
const FRAME_MS = 16;
const RUN = 'outputs/bench-run';

/** A pseudo-random but repeatable walk, so the charts have something real-looking to decimate. */
function metricsLine(step: number): string {
  const noise = Math.sin(step * 12.9898) * 43758.5453;
  const r = noise - Math.floor(noise);
  const progress = step / STEPS;
  const loss = 0.69 * Math.exp(-2 * progress) + 0.05 * r;
  const metrics = {
    loss,
    'rewards/chosen': 2 * progress + 0.2 * r,
    'rewards/rejected': -1.5 * progress - 0.2 * r,
    'rewards/accuracies': Math.min(1, 0.5 + progress / 2 + 0.1 * r),
    'rewards/margins': 3.5 * progress + 0.3 * r,
    'logps/chosen': -300 + 50 * progress + 20 * r,
    'logps/rejected': -320 - 80 * progress - 20 * r,
    'logits/chosen': 0.1 * r,
    'logits/rejected': -0.1 * r,
    grad_norm: 1 + r,
    learning_rate: 5e-7 * (1 - progress),
    epoch: progress,
    tokens_per_second: 2000 + 500 * r,
    elapsed_seconds: step * 0.5,
  };
  return JSON.stringify({ type: 'metrics', step, time: new Date(Date.UTC(2026, 0, 1) + step * 500).toISOString(), metrics }) + '\n';
}

function evalLine(step: number): string {
  const progress = step / STEPS;
  const metrics = { eval_loss: 0.69 * Math.exp(-1.8 * progress), 'eval_rewards/margins': 3 * progress, 'eval_rewards/accuracies': 0.5 + progress / 2.2, epoch: progress };
  return JSON.stringify({ type: 'eval', step, time: new Date(Date.UTC(2026, 0, 1) + step * 500).toISOString(), metrics }) + '\n';
}

function rows(from: number, to: number): string {
  let text = '';
  for (let step = from; step <= to; step++) {
    text += metricsLine(step);
    if (step % EVAL_EVERY === 0) text += evalLine(step);
  }
  return text;
}

function stats(values: number[]) {
  return { median: quantile(values, 0.5), p95: quantile(values, 0.95), max: Math.max(...values) };
}

async function page(vs: VSCodeSession, fn: string): Promise<unknown> {
  const frame = vs.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  return frame.locator('body').evaluate((_, source) => (0, eval)(source), fn, { timeout: 5000 });
}

async function main() {
  await prepare();
  const start = JSON.stringify({
    type: 'start', version: 1, runId: 'bench', time: new Date().toISOString(), model: 'models/bench', dataset: ['data/bench.jsonl'],
    outputDir: '(bench)', backend: 'wasm', lossType: 'sigmoid', totalSteps: STEPS + BATCHES * BATCH + 1000, config: {},
  }) + '\n';
  process.stderr.write(`writing ${STEPS.toLocaleString('en-US')} steps of metrics...\n`);
  const history = start + rows(1, STEPS);
  await withVSCode({ name: 'bench-dashboard' }, { files: { [`${RUN}/metrics.jsonl`]: history } }, async (vs) => {
    await vs.waitForActivation();
    const opened = Date.now();
    await vs.runCommand('DPO: Training Dashboard');
    await vs.waitFor(`the dashboard to hold ${STEPS} steps`, async () => Number(await page(vs, 'window.__dpoDashboard?.rows() ?? 0')) >= STEPS, { timeoutMs: 300_000, intervalMs: 250 });
    const loadSeconds = (Date.now() - opened) / 1000;
    await new Promise((r) => setTimeout(r, 1500));
    const before = Number(await page(vs, 'window.__dpoDashboard.timings.updates.length'));

    let step = STEPS;
    for (let b = 0; b < BATCHES; b++) {
      appendFileSync(vs.path(`${RUN}/metrics.jsonl`), rows(step + 1, step + BATCH));
      step += BATCH;
      await vs.waitFor(`the dashboard to take in step ${step}`, async () => Number(await page(vs, 'window.__dpoDashboard.rows()')) >= step, { timeoutMs: 30_000, intervalMs: 50 });
    }
    await new Promise((r) => setTimeout(r, 500));
    const updates = (await page(vs, `JSON.stringify(window.__dpoDashboard.timings.updates.slice(${before}))`)) as string;
    const list = JSON.parse(updates) as { ms: number; apply: number; render: number; build: number; drawn: number; charts: number; rows: number }[];
    if (list.length === 0) throw new Error('no chart updates were timed');
    const total = stats(list.map((u) => u.ms));
    const render = stats(list.map((u) => u.render));
    const apply = stats(list.map((u) => u.apply));
    const held = list[list.length - 1]!.rows;
    const line = (name: string, s: { median: number; p95: number; max: number }) => `  ${name.padEnd(22)} median ${s.median.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`;
    process.stdout.write(
      [
        `dashboard benchmark (code-server + chromium, ${new Date().toISOString()})`,
        `  points held per series  ${held.toLocaleString('en-US')} steps (train), ${Math.floor(held / EVAL_EVERY)} eval points; ${list[0]!.charts} charts on screen`,
        `  first load             ${loadSeconds.toFixed(1)} s (command to ${STEPS.toLocaleString('en-US')} steps held in the page)`,
        `  updates timed          ${list.length} (batches of ${BATCH} steps appended to metrics.jsonl)`,
        line('time per update', total),
        line('  taking in rows', apply),
        line('  redrawing charts', render),
        line('    picking points', stats(list.map((u) => u.build))),
        `  points drawn per update ${stats(list.map((u) => u.drawn)).median.toLocaleString('en-US')} (median, all lines of the charts on screen)`,
        `  target                 ≤ ${FRAME_MS} ms per update (one frame): ${total.p95 <= FRAME_MS ? 'met' : 'NOT met'} at p95 (max ${total.max.toFixed(1)} ms)`,
        `  all updates (ms)       ${list.map((u) => u.ms.toFixed(1)).join(' ')}`,
        '',
      ].join('\n'),
    );
  });
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

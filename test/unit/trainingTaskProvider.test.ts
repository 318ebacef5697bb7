import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseTrainArgs } from '../../src/cli/trainCommand.ts';
import { checkTaskDefinition, taskName, trainerArgs } from '../../src/core/training/taskDefinition.ts';
import { TrainerProcess, type TrainerExit } from '../../src/extension/training/trainerProcess.ts';
import type { TrainerEvent } from '../../src/protocol/trainerEvents.ts';

function ok(raw: unknown) {
  const check = checkTaskDefinition(raw);
  assert.ok(check.ok, `expected ${JSON.stringify(raw)} to be accepted: ${check.ok ? '' : check.problems.join('; ')}`);
  return check.definition;
}

function problems(raw: unknown): string[] {
  const check = checkTaskDefinition(raw);
  assert.ok(!check.ok, `expected ${JSON.stringify(raw)} to be refused`);
  return check.problems;
}

describe('dpo task definition', () => {
  it('accepts what tasks.json may say, and keeps the fields VS Code adds (label, group)', () => {
    assert.deepEqual(ok({ type: 'dpo', config: 'configs/a.yaml' }), { type: 'dpo', config: 'configs/a.yaml' });
    assert.deepEqual(ok({ type: 'dpo', config: ' configs/a.yaml ', resume: true, overrides: { 'training.learning_rate': 1e-6, lora_alpha: 8, use_lora: true }, label: 'mine', group: 'build' }), {
      type: 'dpo',
      config: 'configs/a.yaml',
      resume: true,
      overrides: { 'training.learning_rate': 1e-6, lora_alpha: 8, use_lora: true },
    });
  });

  it('says what is wrong, field by field', () => {
    assert.match(problems({ type: 'dpo' })[0]!, /"config" must name the training config file/);
    assert.match(problems({ type: 'dpo', config: 'a.yaml', resume: 'yes' })[0]!, /"resume" must be true or false/);
    assert.match(problems({ type: 'dpo', config: 'a.yaml', resume: true, overwrite: true })[0]!, /exclude each other/);
    assert.match(problems({ type: 'dpo', config: 'a.yaml', overrides: { lerning_rate: 1 } })[0]!, /"lerning_rate" is not a config key/);
    assert.match(problems({ type: 'dpo', config: 'a.yaml', overrides: { config: 'b.yaml' } })[0]!, /an option of the task itself/);
    assert.match(problems({ type: 'dpo', config: 'a.yaml', overrides: { beta: { x: 1 } } })[0]!, /must be a string, a number or true\/false/);
    assert.match(problems({ type: 'dpo', config: 'a.yaml', confg: 'x' })[0]!, /unknown field "confg"/);
    assert.deepEqual(problems(null), ['a dpo task definition must be an object']);
  });

  it('becomes the command line the trainer parses back to the same run', () => {
    const definition = ok({ type: 'dpo', config: 'configs/a b.yaml', resume: true, overrides: { 'training.learning_rate': 5e-7, beta: -0.5, 'lora.target_modules': '[q_proj, v_proj]' } });
    const args = trainerArgs(definition);
    assert.equal(args[0], 'train');
    const parsed = parseTrainArgs(args.slice(1));
    assert.equal(parsed.config, 'configs/a b.yaml');
    assert.equal(parsed.resume, true);
    assert.deepEqual(parsed.overrides, { 'training.learning_rate': '5e-7', beta: '-0.5', 'lora.target_modules': '[q_proj, v_proj]' });
    assert.equal(taskName(ok({ type: 'dpo', config: 'configs\\a.yaml', overwrite: true })), 'train configs/a.yaml (start over)');
  });
});

/** A stand-in trainer: prints the protocol, a foreign line and a torn one, and stops on SIGINT like the real one. */
const FAKE_TRAINER = String.raw`
const mode = process.argv[2];
const out = (e) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n');
if (mode === 'ignore-signals') { process.on('SIGINT', () => {}); process.on('SIGTERM', () => {}); }
out({ type: 'start', version: 1, runId: 'r', model: 'm', dataset: ['d'], outputDir: '/o', backend: 'cpu', lossType: 'sigmoid', totalSteps: 1000, config: {} });
process.stdout.write('Some library says hello on stdout\n');
process.stderr.write('step 1/1000 (0%) | loss 0.6931 | acc 0.50 | ETA 9m\n');
let step = 0;
let stopping = false;
if (mode !== 'ignore-signals') process.on('SIGINT', () => { stopping = true; });
const timer = setInterval(() => {
  step++;
  out({ type: 'metrics', step, metrics: { loss: 1 / step } });
  if (mode === 'finish' && step === 3) {
    out({ type: 'end', status: 'completed', step, finalCheckpoint: '/o/final' });
    process.stdout.write('{"type":"metr');
    clearInterval(timer);
  }
  if (stopping) {
    out({ type: 'checkpoint', step, path: '/o/checkpoint-' + step, reason: 'interrupted' });
    out({ type: 'end', status: 'stopped', step });
    clearInterval(timer);
    process.exitCode = 130;
  }
}, 20);
`;

function withFake(body: (script: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dpo-fake-trainer-'));
  const script = join(dir, 'fake.cjs');
  writeFileSync(script, FAKE_TRAINER);
  return body(script).finally(() => rmSync(dir, { recursive: true, force: true }));
}

function run(script: string, mode: string, timings = { graceMs: 60_000, killMs: 60_000 }) {
  const trainer = new TrainerProcess({ execPath: process.execPath, cliPath: script, args: [mode], cwd: tmpdir() }, timings);
  const events: TrainerEvent[] = [];
  const issues: string[] = [];
  let stderr = '';
  trainer.onEvent.add((e) => events.push(e));
  trainer.onIssue.add((i) => issues.push(i.message));
  trainer.onStderr.add((t) => (stderr += t));
  trainer.start();
  return { trainer, events, issues, stderr: () => stderr };
}

describe('trainer process', () => {
  it('turns stdout into events, reports foreign and torn lines without stopping, passes stderr on', () =>
    withFake(async (script) => {
      const { trainer, events, issues, stderr } = run(script, 'finish');
      const exit: TrainerExit = await trainer.exited;
      assert.equal(exit.code, 0);
      assert.deepEqual(events.map((e) => e.type), ['start', 'metrics', 'metrics', 'metrics', 'end']);
      assert.deepEqual(issues, ['not valid JSON', 'truncated last line']);
      assert.match(stderr(), /step 1\/1000 \(0%\) \| loss 0\.6931/);
      assert.equal(exit.end?.status, 'completed');
      assert.equal(exit.stopRequested, false);
      assert.deepEqual(exit.signalsSent, []);
    }));

  it('stop sends SIGINT only, and the trainer checkpoints and ends cleanly', () =>
    withFake(async (script) => {
      const { trainer, events } = run(script, 'run');
      while (!events.some((e) => e.type === 'metrics')) await new Promise((r) => setTimeout(r, 10));
      trainer.stop();
      const exit = await trainer.exited;
      assert.deepEqual(exit.signalsSent, ['SIGINT']);
      assert.equal(exit.code, 130);
      assert.equal(exit.end?.status, 'stopped');
      assert.ok(events.some((e) => e.type === 'checkpoint' && e.reason === 'interrupted'));
    }));

  it('a trainer that ignores SIGINT gets SIGTERM after the grace period, and SIGKILL only after that', () =>
    withFake(async (script) => {
      const { trainer, events } = run(script, 'ignore-signals', { graceMs: 150, killMs: 150 });
      while (!events.some((e) => e.type === 'metrics')) await new Promise((r) => setTimeout(r, 10));
      trainer.stop();
      const exit = await trainer.exited;
      assert.deepEqual(exit.signalsSent, ['SIGINT', 'SIGTERM', 'SIGKILL']);
      assert.equal(exit.signal, 'SIGKILL');
      assert.equal(exit.stopRequested, true);
    }));

  it('a second stop (Ctrl+C twice) goes straight to SIGTERM', () =>
    withFake(async (script) => {
      const { trainer, events } = run(script, 'ignore-signals', { graceMs: 60_000, killMs: 100 });
      while (!events.some((e) => e.type === 'metrics')) await new Promise((r) => setTimeout(r, 10));
      trainer.stop();
      trainer.stop({ now: true });
      const exit = await trainer.exited;
      assert.deepEqual(exit.signalsSent, ['SIGINT', 'SIGTERM', 'SIGKILL']);
    }));

  it('a trainer that cannot be started says why', async () => {
    const trainer = new TrainerProcess({ execPath: '/nonexistent/node', cliPath: 'x', args: [], cwd: tmpdir() });
    trainer.start();
    const exit = await trainer.exited;
    assert.match(exit.spawnError ?? '', /ENOENT/);
  });

  it('the real CLI, given a broken config, ends with an error event and exit status 2', async () => {
    const cli = join(import.meta.dirname, '../../dist/cli.cjs');
    if (spawnSync(process.execPath, [cli, '--help']).status !== 0) return; // not built
    const dir = mkdtempSync(join(tmpdir(), 'dpo-cli-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'model:\n  name: m\ntraining:\n  learning_rate: "fast"\n');
      const trainer = new TrainerProcess({ execPath: process.execPath, cliPath: cli, args: ['train', '--config', 'bad.yaml'], cwd: dir });
      trainer.start();
      const exit = await trainer.exited;
      assert.equal(exit.code, 2);
      assert.equal(exit.end?.status, 'failed');
      assert.match(exit.error?.message ?? '', /learning_rate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

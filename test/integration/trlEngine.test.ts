import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTrainerEvents } from '../../src/core/training/trainerEventStream.ts';
import type { TrainerEvent, TrainerMetricsEvent, TrainerStartEvent } from '../../src/protocol/trainerEvents.ts';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { colorTask, metricsEvents, nanScenario, spawnTrain, tinyModel, train, workspace, writeConfig, writeJsonl } from './trainFixtures.ts';
import { requireTrl } from './trlFixtures.ts';
import { scoreCommand } from '../../src/cli/scoreCommand.ts';
import { readScoresFile, type PairScore } from '../../src/core/review/scoresFile.ts';

// The TRL engine for real: pip-installed torch/TRL/PEFT (dpo-studio setup trl), real ranks,
// real signals. The tfjs engine is the other side of every equivalence.

const ws = workspace('trl-engine');
const root = join(import.meta.dirname, '..', '..');
let model: string;
let reference: string;
let data: string;
let chatData: string;

const startOf = (events: readonly TrainerEvent[]) => events.find((e): e is TrainerStartEvent => e.type === 'start');
const endOf = (events: readonly TrainerEvent[]) => events.find((e): e is Extract<TrainerEvent, { type: 'end' }> => e.type === 'end');

function config(name: string, sections: { data?: Record<string, unknown>; dpo?: Record<string, unknown>; training?: Record<string, unknown>; lora?: Record<string, unknown> } = {}): string {
  return writeConfig(join(ws.dir, `${name}.yaml`), {
    model: { name: model },
    data: { train_path: data, ...sections.data },
    dpo: { beta: 0.1, ...sections.dpo },
    training: { engine: 'trl', output_dir: join(ws.dir, name), backend: 'auto', ...sections.training },
    lora: { r: 8, lora_alpha: 16, lora_dropout: 0, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], ...sections.lora },
  });
}

function fileEvents(dir: string): TrainerEvent[] {
  const { events, issues } = parseTrainerEvents(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'));
  assert.deepEqual(issues, []);
  return events;
}

function closeTo(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(Number.isFinite(actual) && Math.abs(actual - expected) <= relative * Math.max(Math.abs(expected), 1e-6), `${what}: ${actual} vs ${expected} (relative tolerance ${relative})`);
}

describe('TRL engine', () => {
  before(() => {
    model = tinyModel(join(ws.dir, 'model'));
    // A reference that differs from the policy, so that rewards are not zero at the first step.
    initModel(join(ws.dir, 'reference'), { arch: 'llama', size: 'tiny', seed: 11 });
    reference = join(ws.dir, 'reference');
    data = writeJsonl(join(ws.dir, 'train.jsonl'), colorTask(16));
    chatData = writeJsonl(
      join(ws.dir, 'chat.jsonl'),
      colorTask(16).map((r) => ({ prompt: [{ role: 'system', content: 'Answer in colours.' }, { role: 'user', content: r.prompt }], chosen: [{ role: 'assistant', content: r.chosen }], rejected: [{ role: 'assistant', content: r.rejected }] })),
    );
  });
  after(() => ws.cleanup());

  for (const [label, dataset] of [
    ['standard', () => data],
    ['conversational', () => chatData],
  ] as const) {
    it(`agrees with the tfjs engine on the first step (${label} dataset, within 1e-4)`, async (t) => {
      if (!requireTrl(t)) return;
      const sections = { data: { train_path: dataset() }, dpo: { reference_model: reference }, training: { max_steps: 1, batch_size: 4, logging_steps: 1, seed: 5 } };
      const trl = await train(['--config', config(`equiv-${label}-trl`, sections)]);
      assert.equal(trl.code, 0, trl.stderr);
      const tfjs = await train(['--config', config(`equiv-${label}-tfjs`, { ...sections, training: { ...sections.training, engine: 'tfjs', backend: 'wasm' } })]);
      assert.equal(tfjs.code, 0, tfjs.stderr);
      assert.equal(startOf(trl.events)?.engine, 'trl');
      const a = metricsEvents(trl.events)[0]!.metrics;
      const b = metricsEvents(tfjs.events)[0]!.metrics;
      for (const key of ['loss', 'logps/chosen', 'logps/rejected', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'logits/chosen', 'logits/rejected']) closeTo(a[key]!, b[key]!, 1e-4, `${label} ${key}`);
      assert.ok(Math.abs(a['rewards/margins']!) > 1e-3, 'the reference differs from the policy, so the first step has non-zero rewards to compare');
    });
  }

  it('trains on two processes (torchrun, gloo on CPU) like one process with the same global batch', async (t) => {
    if (!requireTrl(t)) return;
    const common = { training: { max_steps: 4, logging_steps: 1, seed: 5, learning_rate: 5e-3 } };
    const one = await train(['--config', config('one-rank', { training: { ...common.training, batch_size: 4 } })]);
    assert.equal(one.code, 0, one.stderr);
    const two = await train(['--config', config('two-ranks', { training: { ...common.training, batch_size: 2, processes: 2 } })]);
    assert.equal(two.code, 0, two.stderr);
    assert.equal(startOf(two.events)?.worldSize, 2);
    const steps = metricsEvents(fileEvents(join(ws.dir, 'two-ranks'))).map((e) => e.step);
    assert.deepEqual(steps, [1, 2, 3, 4], 'each step written once, by rank 0');
    assert.equal(readdirSync(join(ws.dir, 'two-ranks', 'final')).filter((n) => n === 'adapter_model.safetensors').length, 1);
    const lossesOne = metricsEvents(one.events).map((e) => e.metrics.loss!);
    const lossesTwo = metricsEvents(two.events).map((e) => e.metrics.loss!);
    lossesTwo.forEach((loss, i) => closeTo(loss, lossesOne[i]!, 1e-4, `loss at step ${i + 1}`));
  });

  it("writes adapters that dpo-studio logps scores as PEFT does (within 1e-4)", async (t) => {
    const python = requireTrl(t);
    if (!python) return;
    const run = join(ws.dir, 'one-rank');
    assert.ok(existsSync(join(run, 'final', 'adapter_model.safetensors')), 'the two-process test trained this run');
    const out = join(ws.dir, 'logps.jsonl');
    const ours = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), 'logps', '--model', model, '--adapter', join(run, 'final'), '--data', data, '--out', out, '--backend', 'wasm'], { cwd: root, encoding: 'utf8' });
    assert.equal(ours.status, 0, ours.stderr);
    const scored = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt_ids: number[]; chosen_ids: number[]; rejected_ids: number[]; chosen_logps: number; rejected_logps: number });
    const peft = spawnSync(python, [join(import.meta.dirname, 'trlReferenceLogps.py'), model, join(run, 'final')], { input: scored.map((s) => JSON.stringify(s)).join('\n'), encoding: 'utf8' });
    assert.equal(peft.status, 0, peft.stderr);
    const expected = peft.stdout.trim().split('\n').map((l) => JSON.parse(l) as { chosen_logps: number; rejected_logps: number });
    assert.equal(expected.length, scored.length);
    scored.forEach((s, i) => {
      closeTo(s.chosen_logps, expected[i]!.chosen_logps, 1e-4, `record ${i} chosen`);
      closeTo(s.rejected_logps, expected[i]!.rejected_logps, 1e-4, `record ${i} rejected`);
    });
  });

  it('SIGTERM finishes the step, saves a checkpoint and ends stopped', async (t) => {
    if (!requireTrl(t)) return;
    const run = await spawnTrain(['--config', config('sigterm', { training: { num_epochs: 20, batch_size: 4, logging_steps: 1, save_steps: 1000 } })], (event, child) => {
      if (event.type === 'metrics' && event.step === 2) child.kill('SIGTERM');
    });
    assert.equal(run.code, 143, run.stderr);
    const checkpoint = run.events.find((e): e is Extract<TrainerEvent, { type: 'checkpoint' }> => e.type === 'checkpoint');
    assert.equal(checkpoint?.reason, 'interrupted');
    assert.equal(endOf(run.events)?.status, 'stopped');
    assert.ok(existsSync(join(checkpoint.path, 'adapter_model.safetensors')));
  });

  it('kill -9 of the trainer stops its ranks, and --resume continues from the last checkpoint with metrics.jsonl continuous', async (t) => {
    if (!requireTrl(t)) return;
    const file = config('killed', { training: { max_steps: 8, batch_size: 4, logging_steps: 1, save_steps: 2 } });
    let pid = 0;
    const killed = await spawnTrain(['--config', file], (event, child) => {
      pid = child.pid!;
      if (event.type === 'metrics' && event.step === 3) child.kill('SIGKILL');
    });
    assert.equal(killed.signal, 'SIGKILL');
    // The ranks notice their supervisor is gone within a second and quit.
    await new Promise((done) => setTimeout(done, 2000));
    const ranks = spawnSync('pgrep', ['-f', join(ws.dir, 'killed', '.engine', 'spec.json')], { encoding: 'utf8' }).stdout.trim();
    assert.equal(ranks, '', `no rank of the killed run (supervisor ${pid}) is left running`);
    const resumed = await train(['--config', file, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(startOf(resumed.events)?.resumedFromStep, 2);
    const steps = metricsEvents(fileEvents(join(ws.dir, 'killed'))).map((e: TrainerMetricsEvent) => e.step);
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(endOf(resumed.events)?.status, 'completed');
  });

  it('a rank that dies ends the run with that rank named as the cause, and no rank left running', async (t) => {
    if (!requireTrl(t)) return;
    const spec = join(ws.dir, 'rank-dies', '.engine', 'spec.json');
    let victim = 0;
    const run = await spawnTrain(['--config', config('rank-dies', { training: { processes: 2, batch_size: 2, num_epochs: 40, logging_steps: 1, save_steps: 2 } })], (event) => {
      if (event.type !== 'metrics' || event.step !== 3 || victim) return;
      // The workers are the children of torchrun that run the module (as the OOM killer would pick one).
      const rows = spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(spec));
      const launcher = rows.find((l) => l.includes('torch.distributed.run'))!.trim().split(/\s+/)[0];
      const workers = rows.map((l) => l.trim().split(/\s+/)).filter((f) => f[1] === launcher).map((f) => Number(f[0]));
      victim = Math.max(...workers);
      process.kill(victim, 'SIGKILL');
    });
    assert.ok(victim > 0, 'a worker was killed');
    assert.equal(run.code, 1, run.stderr.slice(-2000));
    const errors = run.events.filter((e): e is Extract<TrainerEvent, { type: 'error' }> => e.type === 'error');
    assert.equal(errors.length, 1, 'one error: the cause');
    assert.match(errors[0]!.message, new RegExp(`^rank \\d died: Signal 9 \\(SIGKILL\\) received by PID ${victim}; the full log is .*engine\\.log$`));
    assert.equal(endOf(run.events)?.status, 'failed');
    assert.equal(spawnSync('pgrep', ['-f', spec], { encoding: 'utf8' }).stdout.trim(), '', 'every rank stopped');
  });

  it('a NaN loss is an error naming the step and its records; the last good checkpoint stays (exit 1)', async (t) => {
    if (!requireTrl(t)) return;
    const { model: poisoned, data: nanData, bad, seed, badStep } = nanScenario(ws.dir);
    const file = writeConfig(join(ws.dir, 'trl-nan.yaml'), { model: { name: poisoned }, data: { train_path: nanData }, training: { engine: 'trl', backend: 'auto', output_dir: join(ws.dir, 'trl-nan'), save_steps: 1, seed, logging_steps: 1 } });
    const run = await train(['--config', file]);
    assert.equal(run.code, 1, run.stderr);
    const error = run.events.find((e): e is Extract<TrainerEvent, { type: 'error' }> => e.type === 'error');
    assert.match(error?.message ?? '', new RegExp(`NaN or infinite at step ${badStep} \\(records .*nan\\.jsonl:${bad + 1}\\b`));
    assert.equal(error?.step, badStep);
    assert.equal(error?.lastCheckpoint, join(ws.dir, 'trl-nan', `checkpoint-${badStep - 1}`));
    assert.equal(endOf(run.events)?.status, 'failed');
    assert.ok(!existsSync(join(ws.dir, 'trl-nan', `checkpoint-${badStep}`)), 'the NaN step is not saved');
  });

  it('writes TensorBoard event files from both engines that tensorboard itself reads back as metrics.jsonl says', async (t) => {
    const python = requireTrl(t);
    if (!python) return;
    const tfjs = await train(['--config', config('tensorboard-tfjs', { training: { engine: 'tfjs', backend: 'wasm', max_steps: 3, logging_steps: 1 } })]);
    assert.equal(tfjs.code, 0, tfjs.stderr);
    const script = 'import json,sys\nfrom tensorboard.backend.event_processing.event_accumulator import EventAccumulator\nacc=EventAccumulator(sys.argv[1]); acc.Reload()\nprint(json.dumps({t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}))';
    for (const name of ['tensorboard-tfjs', 'one-rank']) {
      const read: ReturnType<typeof spawnSync> & { stdout: string; stderr: string } = spawnSync(python, ['-c', script, join(ws.dir, name, 'tensorboard')], { encoding: 'utf8' });
      assert.equal(read.status, 0, read.stderr);
      const scalars = JSON.parse(read.stdout) as Record<string, Array<[number, number]>>;
      const metrics = metricsEvents(fileEvents(join(ws.dir, name)));
      for (const tag of ['train/loss', 'train/rewards/margins', 'train/logps/chosen', 'train/learning_rate']) {
        assert.ok(scalars[tag], `${name}: tag ${tag} (has ${Object.keys(scalars).join(', ')})`);
        const key = tag.slice('train/'.length);
        assert.deepEqual(scalars[tag]!.map(([step]) => step), metrics.map((m) => m.step), `${name} ${tag} steps`);
        scalars[tag]!.forEach(([step, value], i) => closeTo(value, metrics[i]!.metrics[key]!, 1e-6, `${name} ${tag} at ${step}`));
      }
    }
  });

  describe('refuses bad input before anything is written (exit 2, one clear message)', () => {
    const cases: Array<[string, () => string, RegExp]> = [
      ['a Python that does not exist', () => config('bad-python', { training: { python: join(ws.dir, 'no-such-python') } }), /the Python interpreter .*no-such-python.* does not exist/],
      ['a Python without TRL', () => config('no-trl', { training: { python: 'python3' } }), /lacks .*trl.*setup trl/],
      ['a loss this engine cannot run', () => config('bad-loss', { dpo: { loss_type: 'orpo' } }), /loss_type "orpo" is not a DPOTrainer loss.*engine tfjs/],
      ['an accelerate config that is not a file', () => config('bad-accelerate', { training: { accelerate_config: join(ws.dir, 'missing.yaml') } }), /accelerate_config .*missing\.yaml is not a file/],
    ];
    for (const [what, file, message] of cases) {
      it(what, async (t) => {
        if (what === 'a Python without TRL' && spawnSync('python3', ['-c', 'import trl'], { encoding: 'utf8' }).status === 0) return t.skip('the system python3 has TRL');
        const path = file();
        const run = await train(['--config', path]);
        assert.equal(run.code, 2, run.stderr);
        const errors = run.events.filter((e) => e.type === 'error');
        assert.equal(errors.length, 1);
        assert.match(errors[0]!.type === 'error' ? errors[0]!.message : '', message);
        const outputDir = path.replace(/\.yaml$/, '');
        assert.ok(!existsSync(outputDir), `nothing written: ${outputDir} ${existsSync(outputDir) ? readdirSync(outputDir).join(', ') : ''}`);
      });
    }
  });

  it('scores a run as the tfjs engine does (within 1e-4), and a TRL run ends by scoring its eval data', async (t) => {
    if (!requireTrl(t)) return;
    const flipped = colorTask(16).map((r, i) => (i === 3 ? { ...r, chosen: r.rejected, rejected: r.chosen } : r));
    const noisy = writeJsonl(join(ws.dir, 'noisy.jsonl'), flipped);
    const evalData = writeJsonl(join(ws.dir, 'review-eval.jsonl'), colorTask(8, 100));
    const run = await train(['--config', config('review-trl', { data: { train_path: noisy, eval_path: evalData }, training: { max_steps: 4, batch_size: 4, logging_steps: 1, seed: 5, learning_rate: 5e-3 } })]);
    assert.equal(run.code, 0, run.stderr);
    const runDir = join(ws.dir, 'review-trl');
    const after = readdirSync(join(runDir, 'scores', 'final'));
    assert.equal(after.length, 1, `review.score_after (eval) wrote ${after.join(', ')}`);
    const afterScores = readScoresFile(join(runDir, 'scores', 'final', after[0]!));
    assert.equal(afterScores.header.engine, 'trl');
    assert.equal(afterScores.header.pairs, 8);
    const score = async (engine: 'tfjs' | 'trl') => {
      const out = join(ws.dir, `review-${engine}.scores.jsonl`);
      let stderr = '';
      const code = await scoreCommand(['--run', runDir, '--data', noisy, '--out', out, '--engine', engine, '--backend', 'wasm'], { out: { write: () => true }, err: { write: (text: string) => (stderr += text) } });
      assert.equal(code, 0, stderr);
      return readScoresFile(out).records as PairScore[];
    };
    const trl = await score('trl');
    const tfjs = await score('tfjs');
    assert.equal(trl.length, 16);
    trl.forEach((a, i) => {
      const b = tfjs[i]!;
      for (const key of ['chosen_logps', 'rejected_logps', 'ref_chosen_logps', 'ref_rejected_logps', 'margin'] as const) assert.ok(Math.abs(a[key]! - b[key]!) < 1e-4, `record ${i} ${key}: trl ${a[key]} vs tfjs ${b[key]}`);
      assert.equal(a.agrees, b.agrees);
    });
  });
});


import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTrainingConfig } from '../../src/core/config/trainingConfig.ts';
import type { TrainerEvent, TrainerMetricsEvent, TrainerStartEvent } from '../../src/protocol/trainerEvents.ts';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { disposeModel } from '../../src/trainer/model/causalLM.ts';
import { loadModel } from '../../src/trainer/model/modelFolder.ts';
import { TextTokenizer } from '../../src/trainer/tokenizer/textTokenizer.ts';
import { loadSftDatasets } from '../../src/trainer/train/sftData.ts';
import { sftStage } from '../../src/trainer/train/trainingStage.ts';
import { colorSftTask, colorTask, deterministic, metricsEvents, nanScenario, tinyModel, train, workspace, writeConfig, writeJsonl, type ConfigSections } from './trainFixtures.ts';
import { requireTrl } from './trlFixtures.ts';

// Supervised fine-tuning on both engines, and DPO from its result, as the guide's pipeline runs:
// train.py (SFT) then train_dpo.py with the SFT model as start and frozen reference.

const ws = workspace('sft');
const root = join(import.meta.dirname, '..', '..');
let model: string;
const files: Record<string, string> = {};

const startOf = (events: readonly TrainerEvent[]) => events.find((e): e is TrainerStartEvent => e.type === 'start')!;
const evals = (events: readonly TrainerEvent[]) => events.filter((e): e is Extract<TrainerEvent, { type: 'eval' }> => e.type === 'eval');
const FULL_FINE_TUNING: ConfigSections['lora'] = {};

function closeTo(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(Number.isFinite(actual) && Math.abs(actual - expected) <= relative * Math.max(Math.abs(expected), 1e-6), `${what}: ${actual} vs ${expected} (relative tolerance ${relative})`);
}

function sftConfig(name: string, sections: Partial<ConfigSections> & { engine?: 'tfjs' | 'trl' } = {}): string {
  const engine = sections.engine ?? 'tfjs';
  return writeConfig(join(ws.dir, `${name}.yaml`), {
    model: { name: model },
    data: { train_path: files.train, eval_path: files.eval, max_length: 48, ...sections.data },
    ...(sections.sft ? { sft: sections.sft } : {}),
    training: { stage: 'sft', engine, backend: engine === 'trl' ? 'auto' : 'wasm', output_dir: join(ws.dir, name), batch_size: 8, learning_rate: 3e-3, seed: 5, ...sections.training },
    ...(sections.lora ? { lora: sections.lora } : {}),
  });
}

/** eval_loss and token accuracy of the untrained model on the config's eval set, by the tfjs SFT evaluation. */
async function untrainedEval(configPath: string): Promise<Record<string, number>> {
  await initBackend('wasm');
  const { config } = parseTrainingConfig(readFileSync(configPath, 'utf8'), configPath);
  const tokenizer = TextTokenizer.fromFolder(model);
  const data = await loadSftDatasets(config!, ws.dir, tokenizer, () => {});
  const policy = loadModel(model);
  try {
    return sftStage({ policy, trainables: new Map(), padTokenId: tokenizer.padTokenId }, false).evaluate(data.eval!.examples, 8, 0, 0);
  } finally {
    disposeModel(policy);
  }
}

describe('SFT', () => {
  before(() => {
    model = tinyModel(join(ws.dir, 'model'));
    files.train = writeJsonl(join(ws.dir, 'train.jsonl'), colorSftTask(64));
    files.eval = writeJsonl(join(ws.dir, 'eval.jsonl'), colorSftTask(16, 100));
    // The same task as TRL's standard prompt/completion text and as conversations with a system turn.
    files.standard = writeJsonl(join(ws.dir, 'standard.jsonl'), colorSftTask(16).map((r) => ({ prompt: `${r.instruction}\n`, completion: r.output })));
    files.conversational = writeJsonl(
      join(ws.dir, 'conversational.jsonl'),
      colorSftTask(16).map((r) => ({ messages: [{ role: 'system', content: 'Answer in colours.' }, { role: 'user', content: r.instruction }, { role: 'assistant', content: r.output }] })),
    );
    files.pairs = writeJsonl(join(ws.dir, 'pairs.jsonl'), colorTask(16));
  });
  after(() => ws.cleanup());

  const learns = async (engine: 'tfjs' | 'trl') => {
    const path = sftConfig(`learn-${engine}`, { engine, training: { num_epochs: 4, logging_steps: 4 }, lora: FULL_FINE_TUNING });
    const before = await untrainedEval(path);
    const run = await train(['--config', path]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(startOf(run.events).stage, 'sft');
    const last = evals(run.events).at(-1)!.metrics;
    assert.ok(last.eval_loss! < 0.6 * before.eval_loss!, `${engine}: eval loss ${last.eval_loss} after SFT, ${before.eval_loss} before`);
    assert.ok(last.eval_mean_token_accuracy! > before.eval_mean_token_accuracy! + 0.3, `${engine}: token accuracy ${last.eval_mean_token_accuracy} after SFT, ${before.eval_mean_token_accuracy} before`);
    const metrics = metricsEvents(run.events);
    assert.deepEqual(Object.keys(metrics[0]!.metrics).filter((k) => ['loss', 'mean_token_accuracy', 'num_tokens', 'learning_rate', 'grad_norm'].includes(k)).sort(), ['grad_norm', 'learning_rate', 'loss', 'mean_token_accuracy', 'num_tokens']);
    assert.ok(metrics.at(-1)!.metrics.num_tokens! > metrics[0]!.metrics.num_tokens!, 'num_tokens counts up over the run');
    assert.ok(existsSync(join(ws.dir, `learn-${engine}`, 'final', 'model.safetensors')), 'full fine-tuning writes the model to final/');
    return run;
  };

  it('lowers eval loss and raises token accuracy on held-out records (tfjs engine)', async () => {
    await learns('tfjs');
  });

  it('lowers eval loss and raises token accuracy on held-out records (TRL engine, SFTTrainer)', async (t) => {
    if (!requireTrl(t)) return;
    const trl = await learns('trl');
    assert.match(trl.stderr, /SFTTrainer/);
  });

  for (const [label, dataset, extra] of [
    ['standard prompt/completion', () => files.standard!, { maxLength: 128 }],
    ['conversational messages', () => files.conversational!, { maxLength: 128 }],
    ['instruction records, packed', () => files.train!, { maxLength: 48, sft: { packing: true } }],
  ] as const) {
    it(`the TRL and tfjs engines agree on the first SFT step (${label}, within 1e-4)`, async (t) => {
      if (!requireTrl(t)) return;
      const sections = { data: { train_path: dataset(), eval_path: undefined, max_length: extra.maxLength }, training: { max_steps: 1, batch_size: 4, logging_steps: 1 }, ...('sft' in extra ? { sft: extra.sft } : {}) };
      const trl = await train(['--config', sftConfig(`agree-${label.split(' ')[0]}-trl`, { ...sections, engine: 'trl' })]);
      assert.equal(trl.code, 0, trl.stderr);
      const tfjs = await train(['--config', sftConfig(`agree-${label.split(' ')[0]}-tfjs`, sections)]);
      assert.equal(tfjs.code, 0, tfjs.stderr);
      const [a] = metricsEvents(trl.events);
      const [b] = metricsEvents(tfjs.events);
      closeTo(a!.metrics.loss!, b!.metrics.loss!, 1e-4, `${label} loss`);
      closeTo(a!.metrics.mean_token_accuracy!, b!.metrics.mean_token_accuracy!, 1e-6, `${label} mean_token_accuracy`);
      assert.equal(a!.metrics.num_tokens, b!.metrics.num_tokens, `${label} num_tokens`);
      if ('sft' in extra) assert.match(tfjs.stderr, /packing: 64 records into \d+ sequences of up to 48 tokens/);
    });
  }

  it('trains only on the completion by default, on every token with completion_only_loss: false', async () => {
    const masked = await train(['--config', sftConfig('masked', { training: { max_steps: 1 } })]);
    const everything = await train(['--config', sftConfig('everything', { training: { max_steps: 1 }, sft: { completion_only_loss: false } })]);
    assert.equal(masked.code, 0, masked.stderr);
    assert.equal(everything.code, 0, everything.stderr);
    // Same inputs, more targets: the instruction's words are harder to predict than the repeated colour.
    assert.equal(metricsEvents(masked.events)[0]!.metrics.num_tokens, metricsEvents(everything.events)[0]!.metrics.num_tokens);
    assert.notEqual(metricsEvents(masked.events)[0]!.metrics.loss, metricsEvents(everything.events)[0]!.metrics.loss);
  });

  it('packs records without letting them see each other: the packed loss equals the unpacked one over one step of all records', async () => {
    // One step over every record (batch 64) and no LoRA dropout: packing changes the rows, not the sum over targets.
    const sections = { data: { eval_path: undefined }, training: { max_steps: 1, batch_size: 64 }, lora: { r: 8, lora_alpha: 16, lora_dropout: 0 } };
    const unpacked = await train(['--config', sftConfig('unpacked', sections)]);
    const packed = await train(['--config', sftConfig('packed', { ...sections, sft: { packing: true } })]);
    assert.equal(unpacked.code, 0, unpacked.stderr);
    assert.equal(packed.code, 0, packed.stderr);
    closeTo(metricsEvents(packed.events)[0]!.metrics.loss!, metricsEvents(unpacked.events)[0]!.metrics.loss!, 1e-5, 'packed vs unpacked loss');
  });

  it('resumes an SFT run where it stopped, logging what an uninterrupted run logs', async () => {
    const straight = await train(['--config', sftConfig('straight', { training: { num_epochs: 1, save_steps: 2 } })]);
    assert.equal(straight.code, 0, straight.stderr);
    const path = sftConfig('resumed', { training: { num_epochs: 1, save_steps: 2 } });
    const stopped = await train(['--config', path], { stopWhen: (e) => e.type === 'metrics' && e.step === 3 });
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.ok(metricsEvents(stopped.events).length < metricsEvents(straight.events).length, 'the run stopped early');
    const resumed = await train(['--config', path, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const logged = (events: readonly TrainerEvent[]) => metricsEvents(events).map((e: TrainerMetricsEvent) => ({ step: e.step, ...deterministic(e.metrics) }));
    assert.deepEqual([...logged(stopped.events), ...logged(resumed.events)], logged(straight.events));
  });

  for (const engine of ['tfjs', 'trl'] as const) {
    it(`DPO from an SFT run (model.sft_model): starts from the SFT model, which is also the reference (${engine} engine)`, async (t) => {
      if (engine === 'trl' && !requireTrl(t)) return;
      const sftRun = join(ws.dir, `sft-for-dpo-${engine}`);
      const sft = await train(['--config', sftConfig(`sft-for-dpo-${engine}`, { engine, data: { eval_path: undefined }, training: { num_epochs: 2 }, lora: { r: 8, lora_alpha: 16, lora_dropout: 0, target_modules: ['q_proj', 'v_proj', 'up_proj', 'down_proj'] } })]);
      assert.equal(sft.code, 0, sft.stderr);
      const dpoConfig = writeConfig(join(ws.dir, `dpo-after-sft-${engine}.yaml`), {
        model: { base_model: model, sft_model: sftRun },
        data: { train_path: files.pairs },
        training: { engine, backend: engine === 'trl' ? 'auto' : 'wasm', output_dir: join(ws.dir, `dpo-after-sft-${engine}`), max_steps: 1, batch_size: 16, learning_rate: 1e-6 },
        lora: { r: 8, lora_alpha: 16, lora_dropout: 0 },
      });
      const dpo = await train(['--config', dpoConfig]);
      assert.equal(dpo.code, 0, dpo.stderr);
      assert.match(dpo.stderr, /the final model of that SFT run/);
      assert.ok(existsSync(join(sftRun, 'final-merged', 'config.json')), 'the SFT adapter was merged into its base beside the run');
      const first = metricsEvents(dpo.events)[0]!.metrics;
      // Policy = reference at the first step: every reward is 0 and the sigmoid loss is ln 2.
      closeTo(first.loss!, Math.LN2, 1e-6, 'first sigmoid loss');
      assert.ok(Math.abs(first['rewards/chosen']!) < 1e-6 && Math.abs(first['rewards/rejected']!) < 1e-6, 'no reward before the first update');

      // The log-probabilities the run started from are the SFT model's (its adapter on the base), not the base's.
      const score = (extra: string[]) => {
        const out = join(ws.dir, `logps-${engine}-${extra.length}.jsonl`);
        const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), 'logps', '--model', model, ...extra, '--data', files.pairs!, '--out', out, '--backend', 'wasm'], { cwd: root, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { chosen_logps: number });
        return rows.reduce((n, row) => n + row.chosen_logps, 0) / rows.length;
      };
      const sftLogps = score(['--adapter', join(sftRun, 'final')]);
      closeTo(first['logps/chosen']!, sftLogps, 1e-4, 'policy (= reference) logps/chosen against the SFT adapter on the base');
      assert.ok(Math.abs(score([]) - sftLogps) > 0.1, 'SFT moved the log-probabilities, so the base model would have been told apart');
    });
  }

  it('stages: [sft, dpo] runs both in one command, DPO from the SFT result; --resume keeps a completed stage', async () => {
    const path = join(ws.dir, 'pipeline.yaml');
    writeFileSync(
      path,
      stringify({
        model: { name: model },
        stages: ['sft', 'dpo'],
        sft: { data: { train_path: files.train, eval_path: files.eval }, training: { output_dir: join(ws.dir, 'pipeline-sft'), num_epochs: 1, learning_rate: 3e-3 }, lora: { use_lora: false } },
        dpo: { beta: 0.1 },
        data: { train_path: files.pairs, max_length: 64 },
        training: { output_dir: join(ws.dir, 'pipeline-dpo'), max_steps: 2, batch_size: 8, learning_rate: 1e-6, logging_steps: 1, backend: 'wasm', seed: 5 },
        lora: { r: 8, lora_alpha: 16, lora_dropout: 0 },
      }),
    );
    const run = await train(['--config', path]);
    assert.equal(run.code, 0, run.stderr);
    const starts = run.events.filter((e): e is TrainerStartEvent => e.type === 'start');
    assert.deepEqual(starts.map((e) => [e.stage, e.outputDir]), [['sft', join(ws.dir, 'pipeline-sft')], ['dpo', join(ws.dir, 'pipeline-dpo')]]);
    assert.equal(run.events.filter((e) => e.type === 'end').length, 2);
    assert.match(run.stderr, /stage 1 of 2: SFT into .*pipeline-sft\n[\s\S]*stage 2 of 2: DPO into .*pipeline-dpo/);
    const dpoMetrics = metricsEvents(run.events.slice(run.events.indexOf(starts[1]!)));
    closeTo(dpoMetrics[0]!.metrics.loss!, Math.LN2, 1e-6, 'first DPO loss from the SFT model as policy and reference');
    assert.equal(starts[1]!.model, join(ws.dir, 'pipeline-sft'), "DPO's model is the SFT run");

    const again = await train(['--config', path, '--resume']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /stage 1 of 2: SFT into .*: completed earlier, kept/);
    assert.equal(again.events.filter((e) => e.type === 'start').length, 0, 'nothing trains again');
  });

  for (const engine of ['tfjs', 'trl'] as const) {
    it(`a NaN loss in an SFT run names its step and records and keeps the last good checkpoint (${engine} engine)`, async (t) => {
      if (engine === 'trl' && !requireTrl(t)) return;
      const dir = join(ws.dir, `nan-${engine}`);
      const { model: poisoned, data: pairs, bad, seed, badStep } = nanScenario(dir);
      // The same records as SFT data: the poisoned token sits in the bad record's output.
      const sftData = writeJsonl(join(dir, 'nan.jsonl'), readFileSync(pairs, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; chosen: string }).map((r) => ({ instruction: r.prompt, output: r.chosen })));
      const out = join(dir, 'run');
      const config = writeConfig(join(dir, 'nan.yaml'), { model: { name: poisoned }, data: { train_path: sftData }, training: { stage: 'sft', engine, backend: engine === 'trl' ? 'auto' : 'wasm', output_dir: out, save_steps: 1, seed, logging_steps: 1 } });
      const run = await train(['--config', config]);
      assert.equal(run.code, 1, run.stderr);
      const error = run.events.find((e): e is Extract<TrainerEvent, { type: 'error' }> => e.type === 'error');
      assert.match(error?.message ?? '', new RegExp(`(NaN|infinite).* at step ${badStep}.*nan\\.jsonl:${bad + 1}\\b`));
      assert.equal(error?.lastCheckpoint, join(out, `checkpoint-${badStep - 1}`));
      assert.ok(!existsSync(join(out, `checkpoint-${badStep}`)), 'the NaN step is not saved');
    });
  }

  it('SFT on two TRL processes (torchrun, packed) trains what one process does with the same global batch', async (t) => {
    if (!requireTrl(t)) return;
    // No LoRA dropout: its masks are drawn per process.
    const sections = { data: { eval_path: undefined }, sft: { packing: true }, training: { max_steps: 3, logging_steps: 1 }, lora: { r: 8, lora_alpha: 16, lora_dropout: 0 } };
    const two = await train(['--config', sftConfig('two-ranks', { ...sections, engine: 'trl', training: { ...sections.training, processes: 2, batch_size: 2 } })]);
    assert.equal(two.code, 0, two.stderr);
    assert.equal(startOf(two.events).worldSize, 2);
    const one = await train(['--config', sftConfig('one-rank', { ...sections, engine: 'trl', training: { ...sections.training, batch_size: 4 } })]);
    assert.equal(one.code, 0, one.stderr);
    const losses = (run: typeof one) => metricsEvents(run.events).map((e) => e.metrics.loss!);
    losses(two).forEach((loss, i) => closeTo(loss, losses(one)[i]!, 1e-4, `step ${i + 1} loss`));
    assert.equal(losses(two).length, 3);
  });
});

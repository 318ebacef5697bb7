import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logpsCommand } from '../../src/cli/logpsCommand.ts';
import { scoreCommand } from '../../src/cli/scoreCommand.ts';
import { normalizeRecord } from '../../src/core/dataset/formats.ts';
import { detectFormat } from '../../src/core/dataset/formats.ts';
import { recordKeys } from '../../src/core/review/recordKey.ts';
import { ScoreIndex } from '../../src/core/review/reviewMarks.ts';
import { reviewOrder, reviewSummary } from '../../src/core/review/reviewOrder.ts';
import { readScoresFile, type PairScore } from '../../src/core/review/scoresFile.ts';
import { initBackend } from '../../src/trainer/backend/index.ts';
import { colorTask, tinyModel, train, workspace, writeConfig, writeJsonl } from './trainFixtures.ts';

// The model reviews the labels: a learnable preference (the colour task) with four labels
// stored the wrong way round. After training on the noisy data, the model's implicit-reward
// margin should point at exactly those four.

const ws = workspace('review');
const FLIPPED = [5, 18, 33, 50];
let model: string;
let data: string;
let evalData: string;
let runDir: string;
let trainStderr = '';

async function cli(command: typeof scoreCommand, args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await command(args, { out: { write: (t: string) => (stdout += t) }, err: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

function keysOf(record: Record<string, unknown>) {
  return recordKeys(normalizeRecord(record, detectFormat(record)!))!;
}

describe('the trained model reviews the labels', () => {
  before(async () => {
    await initBackend('wasm');
    model = tinyModel(join(ws.dir, 'model'));
    const records = colorTask(64).map((r, i) => (FLIPPED.includes(i) ? { ...r, chosen: r.rejected, rejected: r.chosen } : r));
    data = writeJsonl(join(ws.dir, 'noisy.jsonl'), records);
    evalData = writeJsonl(join(ws.dir, 'eval.jsonl'), colorTask(16, 1000));
    runDir = join(ws.dir, 'run');
    const config = writeConfig(join(ws.dir, 'config.yaml'), {
      model: { name: model },
      data: { train_path: data, eval_path: evalData },
      dpo: { loss_type: 'sigmoid', beta: 0.1 },
      training: { output_dir: runDir, num_epochs: 3, batch_size: 8, logging_steps: 4 },
    });
    const run = await train(['--config', config]);
    trainStderr = run.stderr;
    assert.equal(run.code, 0, run.stderr);
  });
  after(() => ws.cleanup());

  it('the end of the run scored the eval data (review.score_after defaults to eval)', () => {
    const files = readdirSync(join(runDir, 'scores', 'final'));
    assert.equal(files.length, 1, files.join(', '));
    assert.match(files[0]!, /^eval-[0-9a-f]{8}\.jsonl$/);
    const scores = readScoresFile(join(runDir, 'scores', 'final', files[0]!));
    assert.equal(scores.header.pairs, 16);
    assert.ok(scores.header.agreeing >= 14, `held-out agreement ${scores.header.agreeing}/16`);
    assert.match(trainStderr, /review: .*eval\.jsonl: the final model agrees with \d+ of 16 labels/);
    // Evaluation ran the reference over the eval pairs already: the scoring at the end needed the policy alone.
    assert.match(trainStderr, /scored 16 records of .*eval\.jsonl in [\d.]+ s with final \(tfjs engine; reference all cached\)/);
  });

  it('ranks the flipped labels first under "model disagrees", and agrees with the clean ones', async () => {
    const out = join(ws.dir, 'noisy.scores.jsonl');
    const result = await cli(scoreCommand, ['--run', runDir, '--data', data, '--out', out, '--backend', 'wasm']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /noisy\.jsonl: the model agrees with \d+ of 64 labels/);
    const scores = readScoresFile(out);
    assert.equal(scores.records.length, 64);
    const top8 = reviewOrder(scores.records, 'disagrees').slice(0, 8);
    const recall = FLIPPED.filter((i) => top8.includes(i)).length / FLIPPED.length;
    assert.ok(recall >= 0.75, `flipped ${FLIPPED} in top 8 ${top8}: recall ${recall}`);
    const clean = (scores.records as PairScore[]).filter((s) => !FLIPPED.includes(s.index));
    const agreement = clean.filter((s) => s.agrees).length / clean.length;
    assert.ok(agreement >= 0.9, `clean agreement ${agreement}`);
    // The file says what it is and how each number came about.
    assert.equal(scores.header.checkpoint, 'final');
    assert.equal(scores.header.loss_type, 'sigmoid');
    for (const s of scores.records as PairScore[]) {
      assert.ok(Math.abs(s.chosen_reward - 0.1 * (s.chosen_logps - s.ref_chosen_logps!)) < 1e-9);
      assert.ok(Math.abs(s.margin - (s.chosen_reward - s.rejected_reward)) < 1e-9);
      assert.equal(s.line, s.index + 1);
    }
    assert.equal(reviewSummary(scores.records).agreement, scores.header.agreeing / 64);
  });

  it('scores match logps of the same checkpoint (policy with the adapter, reference without) to 1e-5', async () => {
    const out = join(ws.dir, 'noisy.scores.jsonl');
    const scores = readScoresFile(out).records as PairScore[];
    const policy = join(ws.dir, 'policy.logps.jsonl');
    const reference = join(ws.dir, 'reference.logps.jsonl');
    assert.equal((await cli(logpsCommand, ['--model', model, '--adapter', join(runDir, 'final'), '--data', data, '--out', policy, '--backend', 'wasm', '--max-length', '64', '--max-prompt-length', '32'])).code, 0);
    assert.equal((await cli(logpsCommand, ['--model', model, '--data', data, '--out', reference, '--backend', 'wasm', '--max-length', '64', '--max-prompt-length', '32'])).code, 0);
    const read = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { index: number; chosen_logps: number; rejected_logps: number });
    const p = read(policy);
    const r = read(reference);
    for (const s of scores) {
      assert.ok(Math.abs(s.chosen_logps - p[s.index]!.chosen_logps) < 1e-5, `record ${s.index} chosen ${s.chosen_logps} vs ${p[s.index]!.chosen_logps}`);
      assert.ok(Math.abs(s.rejected_logps - p[s.index]!.rejected_logps) < 1e-5);
      assert.ok(Math.abs(s.ref_chosen_logps! - r[s.index]!.chosen_logps) < 1e-5);
      assert.ok(Math.abs(s.ref_rejected_logps! - r[s.index]!.rejected_logps) < 1e-5);
    }
  });

  it('an edited record is stale; a swapped one shows the same score from the other side; a moved one keeps its score', () => {
    const scores = readScoresFile(join(ws.dir, 'noisy.scores.jsonl'));
    const index = new ScoreIndex(scores);
    const records = readFileSync(data, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const score = scores.records[5] as PairScore;
    assert.deepEqual(index.mark(5, keysOf(records[5]!)), { state: 'current', kind: 'pair', margin: score.margin, agrees: score.agrees, chosenReward: score.chosen_reward, rejectedReward: score.rejected_reward });
    const edited = index.mark(5, keysOf({ ...records[5]!, chosen: `${records[5]!.chosen as string}!` }));
    assert.deepEqual(edited, { state: 'stale', was: score.margin });
    const swapped = index.mark(5, keysOf({ ...records[5]!, chosen: records[5]!.rejected, rejected: records[5]!.chosen }));
    assert.equal(swapped.state, 'swapped');
    assert.ok(swapped.state === 'swapped' && swapped.margin === -score.margin && swapped.agrees === -score.margin > 0);
    // A decision or a note changes the line, not the texts scored: still current.
    assert.equal(index.mark(5, keysOf({ ...records[5]!, decision: 'chosen', note: 'checked' })).state, 'current');
    // A line inserted above moves the record: found by its texts.
    assert.equal(index.mark(6, keysOf(records[5]!)).state, 'current');
    assert.equal(index.mark(70, undefined).state, 'unscored');
  });

  it('--fail-on-disagreement stops a pipeline on a noisy batch', async () => {
    const strict = await cli(scoreCommand, ['--run', runDir, '--data', data, '--out', join(ws.dir, 'strict.jsonl'), '--backend', 'wasm', '--fail-on-disagreement', '0.02']);
    assert.equal(strict.code, 1, strict.stderr);
    assert.match(strict.stderr, /of the pairs disagree with the model, more than --fail-on-disagreement 0.02 allows/);
    const lenient = await cli(scoreCommand, ['--run', runDir, '--data', data, '--out', join(ws.dir, 'lenient.jsonl'), '--backend', 'wasm', '--fail-on-disagreement', '0.5']);
    assert.equal(lenient.code, 0, lenient.stderr);
  });

  it('a second scoring reuses the reference cache and gives the same numbers', async () => {
    const first = readScoresFile(join(ws.dir, 'noisy.scores.jsonl'));
    const again = await cli(scoreCommand, ['--run', runDir, '--data', data, '--out', join(ws.dir, 'again.jsonl'), '--backend', 'wasm']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /reference all cached/);
    const second = readScoresFile(join(ws.dir, 'again.jsonl'));
    second.records.forEach((s, i) => assert.ok(Math.abs((s as PairScore).margin - (first.records[i] as PairScore).margin) < 1e-5));
    // A labeler fixes two answers: only those two pairs go through the reference again.
    const edited = readFileSync(data, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    for (const i of [7, 40]) edited[i]!.chosen = `${edited[i]!.chosen} indeed`;
    const editedData = writeJsonl(join(ws.dir, 'edited.jsonl'), edited);
    const rescored = await cli(scoreCommand, ['--run', runDir, '--data', editedData, '--out', join(ws.dir, 'edited.scores.jsonl'), '--backend', 'wasm']);
    assert.equal(rescored.code, 0, rescored.stderr);
    assert.match(rescored.stderr, /reference 62 cached, 2 computed with /);
    const fresh = readScoresFile(join(ws.dir, 'edited.scores.jsonl')).records as PairScore[];
    const reference = join(ws.dir, 'edited.reference.jsonl');
    assert.equal((await cli(logpsCommand, ['--model', model, '--data', editedData, '--out', reference, '--backend', 'wasm', '--max-length', '64', '--max-prompt-length', '32'])).code, 0);
    const expected = readFileSync(reference, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { chosen_logps: number; rejected_logps: number });
    fresh.forEach((s, i) => assert.ok(Math.abs(s.ref_chosen_logps! - expected[i]!.chosen_logps) < 1e-5, `record ${i}: cached or computed, the reference is the base model's`));
  });

  it('ranks a candidates record by reward and names bad input with its place', async () => {
    const candidates = writeJsonl(join(ws.dir, 'candidates.jsonl'), [{ prompt: 'Item 7: answer with blue.', candidates: ['red red red', 'blue blue blue', 'red blue red'] }, { prompt: 'Item 9: answer with red.', chosen: 'red red red' }]);
    const out = join(ws.dir, 'candidates.scores.jsonl');
    const result = await cli(scoreCommand, ['--run', runDir, '--data', candidates, '--out', out, '--backend', 'wasm']);
    assert.equal(result.code, 1, 'a record with an error is reported and the exit says so');
    assert.match(result.stderr, /candidates\.jsonl:2:\d+: skipped record 1: .*rejected/);
    const scores = readScoresFile(out);
    const record = scores.records[0]!;
    assert.equal(record.kind, 'candidates');
    assert.ok(record.kind === 'candidates' && record.ranking[0] === 1, `blue first: ${JSON.stringify(record)}`);
    assert.ok(existsSync(out));
    const missing = await cli(scoreCommand, ['--run', join(ws.dir, 'nowhere'), '--data', data]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /is not a training run's output folder/);
  });

  it('full fine-tuning and a reference-free loss: the trained model itself, and the length-normalised policy margin', async () => {
    const full = join(ws.dir, 'full');
    const fullConfig = writeConfig(join(ws.dir, 'full.yaml'), { model: { name: model }, data: { train_path: evalData }, lora: {}, training: { output_dir: full, max_steps: 2, batch_size: 4 } });
    assert.equal((await train(['--config', fullConfig])).code, 0);
    const out = join(ws.dir, 'full.scores.jsonl');
    const result = await cli(scoreCommand, ['--run', full, '--checkpoint', '2', '--data', evalData, '--out', out, '--backend', 'wasm']);
    assert.equal(result.code, 0, result.stderr);
    const logps = join(ws.dir, 'full.logps.jsonl');
    assert.equal((await cli(logpsCommand, ['--model', join(full, 'checkpoint-2'), '--data', evalData, '--out', logps, '--backend', 'wasm', '--max-length', '64', '--max-prompt-length', '32'])).code, 0);
    const expected = readFileSync(logps, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { chosen_logps: number });
    const scores = readScoresFile(out);
    assert.equal(scores.header.checkpoint, 'checkpoint-2');
    (scores.records as PairScore[]).forEach((s, i) => assert.ok(Math.abs(s.chosen_logps - expected[i]!.chosen_logps) < 1e-5));

    const simpo = join(ws.dir, 'simpo');
    const simpoConfig = writeConfig(join(ws.dir, 'simpo.yaml'), { model: { name: model }, data: { train_path: evalData }, dpo: { loss_type: 'simpo', beta: 2 }, training: { output_dir: simpo, max_steps: 2, batch_size: 4 } });
    assert.equal((await train(['--config', simpoConfig])).code, 0);
    const simpoOut = join(ws.dir, 'simpo.scores.jsonl');
    assert.equal((await cli(scoreCommand, ['--run', simpo, '--data', evalData, '--out', simpoOut, '--backend', 'wasm'])).code, 0);
    const simpoScores = readScoresFile(simpoOut);
    assert.match(simpoScores.header.reference, /reference-free/);
    for (const s of simpoScores.records as PairScore[]) {
      assert.equal(s.ref_chosen_logps, undefined);
      assert.ok(Math.abs(s.chosen_reward - (2 * s.chosen_logps) / s.chosen_tokens) < 1e-9);
    }
  });

  it("a run that replaces another takes its scores away with its checkpoints: a new final never shows the old one's scores", async () => {
    const dir = join(ws.dir, 'replaced');
    const sections = { model: { name: model }, data: { train_path: evalData, eval_path: evalData }, training: { output_dir: dir, max_steps: 1, batch_size: 4 } };
    assert.equal((await train(['--config', writeConfig(join(ws.dir, 'replaced-a.yaml'), sections)])).code, 0);
    assert.ok(existsSync(join(dir, 'scores', 'final')));
    const second = await train(['--config', writeConfig(join(ws.dir, 'replaced-b.yaml'), { ...sections, review: { score_after: 'none' } }), '--overwrite_output_dir']);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(!existsSync(join(dir, 'scores')), 'the old scores are gone');
    assert.ok(existsSync(join(dir, 'ref_logps')), 'the reference cache stays: it depends on the reference, not on the run');
  });

  it('a stop asked for as the run finishes skips the scoring at its end, saying how to score later', async () => {
    const dir = join(ws.dir, 'stopped-at-end');
    const config = writeConfig(join(ws.dir, 'stopped-at-end.yaml'), { model: { name: model }, data: { train_path: evalData, eval_path: evalData }, training: { output_dir: dir, max_steps: 2, batch_size: 4 } });
    const run = await train(['--config', config], { stopWhen: (event) => event.type === 'checkpoint' && event.reason === 'final' });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.events.some((e) => e.type === 'end' && e.status === 'completed'));
    assert.ok(run.events.some((e) => e.type === 'log' && /review: not scoring the data with the final model \(stopped\); `dpo-studio score --run /.test(e.message)));
    assert.ok(!existsSync(join(dir, 'scores')));
  });
});

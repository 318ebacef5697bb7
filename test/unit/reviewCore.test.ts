import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { LossType } from '../../src/core/config/types.ts';
import { agreesWithLabel, implicitReward, type RewardRule } from '../../src/core/review/implicitReward.ts';
import { recordKeys } from '../../src/core/review/recordKey.ts';
import { marginHistogram, reviewOrder, reviewSummary } from '../../src/core/review/reviewOrder.ts';
import { findScores, runReview, scoredDataFile } from '../../src/core/review/runReview.ts';
import { parseScores, scoresPath, serializeScores, ScoresFileError, SCORES_FORMAT, SCORES_KIND, type PairScore, type RecordScore, type ScoresHeader } from '../../src/core/review/scoresFile.ts';
import { preferenceLoss } from '../../src/trainer/dpo/dpoLoss.ts';
import { rewardRule } from '../../src/trainer/review/scoringEngine.ts';
import type { TrainingConfig } from '../../src/core/config/types.ts';

function pair(index: number, margin: number): PairScore {
  return { kind: 'pair', index, line: index + 1, key: `k${index}`, swapped_key: `s${index}`, chosen_logps: -1, rejected_logps: -1, chosen_tokens: 3, rejected_tokens: 3, chosen_reward: margin, rejected_reward: 0, margin, agrees: agreesWithLabel(margin) };
}

function header(overrides: Partial<ScoresHeader> = {}): ScoresHeader {
  return { kind: SCORES_KIND, format: SCORES_FORMAT, run: '/r', checkpoint: 'final', step: 10, data: 'data/a.jsonl', files: ['/nowhere/data/a.jsonl'], data_sha256: 'x', loss_type: 'sigmoid', beta: 0.1, length_normalize: false, engine: 'tfjs', reference: 'm', scored_at: '2026-12-07T00:00:00.000Z', pairs: 0, agreeing: 0, candidates: 0, skipped: 0, ...overrides };
}

describe('the implicit reward', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  // The scorer's numbers are the ones training reports as rewards/chosen and rewards/rejected, for every loss.
  for (const [lossType, lengthNormalize] of [['sigmoid', false], ['sigmoid', true], ['ipo', false], ['hinge', false], ['robust', false], ['simpo', false], ['orpo', false]] as Array<[LossType, boolean]>) {
    it(`${lossType}${lengthNormalize ? ' (length-normalised)' : ''}: equals the trainer's rewards`, () => {
      const policy = [-10.5, -13.25];
      const reference = [-11, -12];
      const tokens = [4, 6];
      const out = preferenceLoss(
        { policy: { chosen: tf.tensor1d([policy[0]!]), rejected: tf.tensor1d([policy[1]!]) }, reference: { chosen: tf.tensor1d([reference[0]!]), rejected: tf.tensor1d([reference[1]!]) }, chosenTokens: tf.tensor1d([tokens[0]!]), rejectedTokens: tf.tensor1d([tokens[1]!]) },
        { lossType, beta: 0.3, labelSmoothing: 0.1, simpoGamma: 0.5, rpoAlpha: 0, lengthNormalize },
      );
      const rule: RewardRule = { lossType, beta: 0.3, lengthNormalize };
      const chosen = implicitReward(rule, { policy: policy[0]!, reference: reference[0]!, tokens: tokens[0]! });
      const rejected = implicitReward(rule, { policy: policy[1]!, reference: reference[1]!, tokens: tokens[1]! });
      assert.ok(Math.abs(chosen - out.chosenRewards.dataSync()[0]!) < 1e-6, `${chosen} vs ${out.chosenRewards.dataSync()[0]}`);
      assert.ok(Math.abs(rejected - out.rejectedRewards.dataSync()[0]!) < 1e-6);
    });
  }

  it('a loss that needs the reference says so when it is missing; a tie is not agreement', () => {
    assert.throws(() => implicitReward({ lossType: 'sigmoid', beta: 0.1, lengthNormalize: false }, { policy: -1, tokens: 2 }), /reference/);
    assert.equal(agreesWithLabel(0), false);
    assert.equal(agreesWithLabel(1e-9), true);
  });

  it('a scheduled beta is scored with the value the checkpoint trained at last', () => {
    const config = { dpo: { beta: 0.1, beta_end: 0.5, loss_type: 'sigmoid', length_normalize: false } } as TrainingConfig;
    assert.equal(rewardRule(config, null, 11).beta, 0.5);
    assert.ok(Math.abs(rewardRule(config, 6, 11).beta - 0.3) < 1e-12);
    assert.equal(rewardRule({ dpo: { beta: 0.2, loss_type: 'ipo', length_normalize: false } } as TrainingConfig, 3, 10).beta, 0.2);
  });
});

describe('review orders and the summary', () => {
  const scores: RecordScore[] = [pair(0, 0.5), pair(1, -2), pair(2, 0.01), pair(3, -0.1), pair(4, 3), pair(5, -2), { kind: 'candidates', index: 6, line: 7, key: 'c', candidates: [], ranking: [] }];

  it('disagrees: only disagreeing pairs, most negative first (ties in file order); uncertain: nearest zero first; confident: largest agreeing margin first', () => {
    assert.deepEqual(reviewOrder(scores, 'disagrees'), [1, 5, 3]);
    assert.deepEqual(reviewOrder(scores, 'uncertain'), [2, 3, 0, 1, 5, 4]);
    assert.deepEqual(reviewOrder(scores, 'confident'), [4, 0, 2]);
  });

  it('the histogram is symmetric around zero, so zero is a bin edge and every pair is counted once', () => {
    const h = marginHistogram(scores, 8);
    assert.equal(h.edges.length, 9);
    assert.equal(h.edges[4], 0);
    assert.equal(h.counts.reduce((a, b) => a + b, 0), 6);
    const belowZero = h.counts.slice(0, 4).reduce((a, b) => a + b, 0);
    assert.equal(belowZero, 3);
    assert.equal(h.counts[7], 1, 'the largest margin is in the last bin');
  });

  it('agreement and the pairs to review', () => {
    const s = reviewSummary(scores, 2);
    assert.equal(s.pairs, 6);
    assert.equal(s.agreeing, 3);
    assert.equal(s.agreement, 0.5);
    assert.deepEqual(s.top, [{ index: 1, line: 2, margin: -2 }, { index: 5, line: 6, margin: -2 }]);
    assert.equal(reviewSummary([]).agreement, null);
  });
});

describe('scores files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dpo-review-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips, and refuses what it is not with the line', () => {
    const file = { header: header({ pairs: 1, agreeing: 1 }), records: [pair(0, 1)] };
    assert.deepEqual(parseScores(serializeScores(file), 's.jsonl'), file);
    assert.throws(() => parseScores('{"index":0}\n', 's.jsonl'), (e: Error) => e instanceof ScoresFileError && /s\.jsonl:1: not a scores file/.test(e.message));
    assert.throws(() => parseScores(JSON.stringify(header({ format: 99 })) + '\n', 's.jsonl'), /format 99; this version reads 1: score the data again/);
    assert.throws(() => parseScores(serializeScores(file) + '{"kind":"pa', 's.jsonl'), /s\.jsonl:3: not JSON \(a torn write\?\)/);
  });

  it('two files of the same name in different folders get different scores files', () => {
    assert.notEqual(scoresPath('/run', 'final', '/a/train.jsonl'), scoresPath('/run', 'final', '/b/train.jsonl'));
    assert.match(scoresPath('/run', 'checkpoint-4', '/a/train.jsonl'), /^\/run\/scores\/checkpoint-4\/train-[0-9a-f]{8}\.jsonl$/);
  });

  it('a run folder copied from another machine finds its data under the workspace by the name the config gave it', () => {
    const workspace = join(dir, 'ws');
    const data = join(workspace, 'data', 'a.jsonl');
    const run = join(workspace, 'runs', 'r');
    const scoresDir = join(run, 'scores', 'final');
    mkdirSync(join(workspace, 'data'), { recursive: true });
    mkdirSync(scoresDir, { recursive: true });
    writeFileSync(data, '{"prompt":"p","chosen":"a","rejected":"b"}\n');
    writeFileSync(join(scoresDir, 'a-00000000.jsonl'), serializeScores({ header: header({ pairs: 1 }), records: [pair(0, -1)] }));
    assert.equal(scoredDataFile(header(), [workspace]), data);
    assert.equal(scoredDataFile(header(), [dir]), undefined);
    assert.equal(findScores(run, 'final', data, [workspace]), join(scoresDir, 'a-00000000.jsonl'));
    assert.equal(findScores(run, 'checkpoint-2', data, [workspace]), undefined);
    const review = runReview(run, { roots: [workspace] })!;
    assert.equal(review.checkpoint, 'final');
    assert.equal(review.datasets[0]!.dataFile, data);
    assert.deepEqual(review.datasets[0]!.prompts, { 0: 'p' });
  });
});

describe('record keys', () => {
  it('follow the texts, not the line: a swap has its own key, known in advance', () => {
    const a = recordKeys({ kind: 'pair', format: 'standard', promptText: 'p', chosenText: 'a', rejectedText: 'b' })!;
    const swapped = recordKeys({ kind: 'pair', format: 'standard', promptText: 'p', chosenText: 'b', rejectedText: 'a' })!;
    assert.equal(a.swappedKey, swapped.key);
    assert.notEqual(a.key, swapped.key);
    assert.equal(recordKeys({ kind: 'sft', format: 'text', promptText: '', completionText: 'x' }), undefined);
  });
});

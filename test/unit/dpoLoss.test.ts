import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs';
import { preferenceLoss, scheduledBeta, type LossOptions, type PreferenceBatchLogps } from '../../src/trainer/dpo/dpoLoss.ts';

// Expected values are computed by hand with Python's math module (see each comment), not by this code.
const options = (overrides: Partial<LossOptions>): LossOptions => ({ lossType: 'sigmoid', beta: 0.1, labelSmoothing: 0, simpoGamma: 0.5, rpoAlpha: 0, lengthNormalize: false, ...overrides });
const t = (values: number[]) => tf.tensor1d(values);

function batch(policy: [number, number], reference: [number, number] | undefined, tokens: [number, number] = [4, 5]): PreferenceBatchLogps {
  return {
    policy: { chosen: t([policy[0]]), rejected: t([policy[1]]) },
    ...(reference ? { reference: { chosen: t([reference[0]]), rejected: t([reference[1]]) } } : {}),
    chosenTokens: t([tokens[0]]),
    rejectedTokens: t([tokens[1]]),
  };
}
const value = (x: tf.Tensor) => x.dataSync()[0]!;
const close = (actual: number, expected: number, tolerance = 1e-5) => assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} vs ${expected}`);

describe('preference losses', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });
  // Made per test, after the backend is set: tensors belong to the backend that made them.
  const example = () => batch([-10, -12], [-11, -11]);

  it('sigmoid: ln 2 and zero rewards when the policy equals the reference', () => {
    const out = preferenceLoss(batch([-7, -9], [-7, -9]), options({}));
    close(value(out.loss), Math.LN2);
    close(value(out.chosenRewards), 0);
    close(value(out.rejectedRewards), 0);
  });

  it('sigmoid: −log σ(βz) and β-scaled rewards', () => {
    // z = (−10 + 12) − (−11 + 11) = 2; −log σ(0.2) = 0.5981388693815918
    const out = preferenceLoss(example(), options({}));
    close(value(out.loss), 0.5981388693815918);
    close(value(out.chosenRewards), 0.1);
    close(value(out.rejectedRewards), -0.1);
  });

  it('sigmoid with label smoothing (cDPO) and robust', () => {
    close(value(preferenceLoss(example(), options({ labelSmoothing: 0.1 })).loss), 0.6181388693815918);
    close(value(preferenceLoss(example(), options({ lossType: 'robust', labelSmoothing: 0.1 })).loss), 0.5731388693815918);
  });

  it('hinge', () => close(value(preferenceLoss(example(), options({ lossType: 'hinge' })).loss), 0.8));

  it('ipo on length-averaged log-ratios with target 1/(2β)', () => {
    // z = (−10 + 11)/4 − (−12 + 11)/5 = 0.45; (0.45 − 5)² = 20.7025
    close(value(preferenceLoss(example(), options({ lossType: 'ipo' })).loss), 20.7025, 1e-4);
  });

  it('kto_pair against the batch KL estimates', () => {
    const two: PreferenceBatchLogps = {
      policy: { chosen: t([-10, -9]), rejected: t([-12, -8]) },
      reference: { chosen: t([-11, -9.5]), rejected: t([-11, -9]) },
      chosenTokens: t([4, 4]),
      rejectedTokens: t([5, 5]),
    };
    const out = preferenceLoss(two, options({ lossType: 'kto_pair' }));
    const losses = Array.from(out.losses.dataSync());
    close(losses[0]!, 0.46569106264199056);
    close(losses[1]!, 0.49687613900765004);
  });

  it('simpo: reference-free, average log-probs, margin γ', () => {
    // β = 2, γ = 0.5: z = −10/4 − (−12/5) − 0.25 = −0.35; −log σ(−0.7) = 1.103186048885458
    const out = preferenceLoss(batch([-10, -12], undefined), options({ lossType: 'simpo', beta: 2 }));
    close(value(out.loss), 1.103186048885458);
    close(value(out.chosenRewards), -5);
    close(value(out.rejectedRewards), -4.8);
  });

  it('orpo: odds-ratio term plus the NLL of chosen', () => {
    const out = preferenceLoss(batch([-10, -12], undefined), options({ lossType: 'orpo' }));
    close(value(out.nllLoss!), 2.5);
    close(value(out.loss), 0.07493685653683034 + 2.5);
  });

  it('sft is the NLL on chosen, and rpo_alpha adds it to any loss', () => {
    close(value(preferenceLoss(batch([-10, -12], undefined), options({ lossType: 'sft' })).loss), 2.5);
    const rpo = preferenceLoss(example(), options({ rpoAlpha: 0.5 }));
    close(value(rpo.nllLoss!), 2.5);
    close(value(rpo.loss), 0.5981388693815918 + 1.25);
  });

  it('length-normalised DPO uses per-token log-ratios', () => {
    // z = 0.45 (as for IPO); −log σ(0.045)
    close(value(preferenceLoss(example(), options({ lengthNormalize: true })).loss), Math.log1p(Math.exp(-0.045)));
  });

  it('the sigmoid loss gradient pushes chosen up and rejected down', () => {
    const ref = { chosen: t([-11]), rejected: t([-11]) };
    const grads = tf.grads((chosen: tf.Tensor, rejected: tf.Tensor) =>
      preferenceLoss({ policy: { chosen: chosen as tf.Tensor1D, rejected: rejected as tf.Tensor1D }, reference: ref, chosenTokens: t([4]), rejectedTokens: t([5]) }, options({})).loss,
    )([t([-10]), t([-12])]);
    // d/dπc of −log σ(β(πc − πr − c)) = −β σ(−βz) = −0.1 · σ(−0.2) = −0.04501660026875221
    close(value(grads[0]!), -0.04501660026875221);
    close(value(grads[1]!), 0.04501660026875221);
  });

  it('refuses reference-based losses without reference log-probabilities', () => {
    assert.throws(() => preferenceLoss(batch([-1, -2], undefined), options({})), /needs reference log-probabilities/);
  });

  it('schedules beta linearly from start to end', () => {
    assert.equal(scheduledBeta(0.5, 0.1, 0, 11), 0.5);
    close(scheduledBeta(0.5, 0.1, 5, 11), 0.3);
    close(scheduledBeta(0.5, 0.1, 10, 11), 0.1);
    assert.equal(scheduledBeta(0.2, undefined, 7, 11), 0.2);
  });
});

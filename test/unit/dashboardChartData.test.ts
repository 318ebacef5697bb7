import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildChartData, nearestPoint, type ChartLine } from '../../webview/dashboard/chartData.ts';
import { MinMaxPyramid } from '../../webview/dashboard/minMaxPyramid.ts';

function line(xs: number[], ys: number[], generation: unknown = 0): ChartLine {
  return { xs: Float64Array.from(xs), ys: Float64Array.from(ys), length: xs.length, generation, pyramid: new MinMaxPyramid() };
}

/** Reference: min and max of every bucket, by brute force. */
function extremes(ys: ArrayLike<number>, i0: number, i1: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = i0; i < i1; i++) {
    if (!Number.isFinite(ys[i]!)) continue;
    min = Math.min(min, ys[i]!);
    max = Math.max(max, ys[i]!);
  }
  return { min, max };
}

function noisy(n: number, seed = 1): Float64Array {
  const ys = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    ys[i] = Math.sin(i / 500) + (s / 2 ** 31 - 0.5) * 0.3;
  }
  return ys;
}

describe('min/max pyramid', () => {
  it('draws few points for many, and keeps the overall lowest and highest', () => {
    const ys = noisy(100_000);
    const pyramid = new MinMaxPyramid();
    pyramid.sync(ys, ys.length, 0);
    const out: number[] = [];
    pyramid.select(ys, 0, ys.length, 600, out);
    assert.ok(out.length <= 4 * 600, `${out.length} points for 600 columns`);
    assert.ok(out.length >= 600);
    const picked = out.map((i) => ys[i]!);
    const { min, max } = extremes(ys, 0, ys.length);
    assert.equal(Math.min(...picked), min);
    assert.equal(Math.max(...picked), max);
    assert.ok(out.every((v, i) => i === 0 || v > out[i - 1]!), 'indices increase');
  });

  it('keeps the extremes of every part of a zoomed range, edges included', () => {
    const ys = noisy(10_000, 7);
    const pyramid = new MinMaxPyramid();
    pyramid.sync(ys, ys.length, 0);
    const out: number[] = [];
    pyramid.select(ys, 1234, 8765, 100, out);
    assert.ok(out.every((i) => i >= 1234 && i < 8765), 'nothing outside the range');
    const picked = out.map((i) => ys[i]!);
    const { min, max } = extremes(ys, 1234, 8765);
    assert.equal(Math.min(...picked), min);
    assert.equal(Math.max(...picked), max);
  });

  it('built point by point or all at once, the levels are the same', () => {
    const ys = noisy(5000, 3);
    const whole = new MinMaxPyramid();
    whole.sync(ys, ys.length, 0);
    const grown = new MinMaxPyramid();
    for (let n = 1; n <= ys.length; n += 1 + (n % 37)) grown.sync(ys, n, 0);
    grown.sync(ys, ys.length, 0);
    for (const [i0, i1, w] of [[0, 5000, 50], [17, 4099, 64], [100, 120, 5]] as const) {
      const a: number[] = [];
      const b: number[] = [];
      whole.select(ys, i0, i1, w, a);
      grown.select(ys, i0, i1, w, b);
      assert.deepEqual(a, b);
    }
  });

  it('skips missing values and rebuilds when the data changes under it', () => {
    const ys = Float64Array.from([1, Number.NaN, 3, Number.NaN, Number.NaN, Number.NaN, 0, 2]);
    const pyramid = new MinMaxPyramid();
    pyramid.sync(ys, ys.length, 'a');
    const out: number[] = [];
    pyramid.select(ys, 0, 8, 2, out);
    assert.deepEqual(out.map((i) => ys[i]), [1, 3, 0, 2]);
    ys[2] = -5;
    pyramid.sync(ys, ys.length, 'b');
    const again: number[] = [];
    pyramid.select(ys, 0, 8, 2, again);
    assert.ok(again.map((i) => ys[i]).includes(-5));
  });
});

describe('chart data', () => {
  it('aligns lines with different steps on one axis, null where a line has no point', () => {
    const train = line([1, 2, 3, 4], [0.69, 0.6, 0.5, 0.4]);
    const evals = line([2, 4], [0.65, 0.45]);
    const { data, drawn } = buildChartData([train, evals], undefined, 600);
    assert.deepEqual([...data[0]], [1, 2, 3, 4]);
    assert.deepEqual(data[1], [0.69, 0.6, 0.5, 0.4]);
    assert.deepEqual(data[2], [null, 0.65, null, 0.45]);
    assert.equal(drawn, 6);
  });

  it('a zoomed range holds only its steps', () => {
    const a = line([10, 20, 30, 40, 50], [1, 2, 3, 4, 5]);
    const { data } = buildChartData([a], [20, 40], 600);
    assert.deepEqual([...data[0]], [20, 30, 40]);
  });

  it('100,000 steps per line become a few thousand points', () => {
    const n = 100_000;
    const xs = Array.from({ length: n }, (_, i) => i + 1);
    const lines = [line(xs, [...noisy(n, 1)]), line(xs, [...noisy(n, 2)])];
    const { data, drawn } = buildChartData(lines, undefined, 800);
    assert.ok(drawn <= 2 * 4 * 800, `${drawn} points drawn`);
    assert.ok(data[0].length <= drawn);
  });

  it('hover reads the exact value of the nearest step, skipping missing values', () => {
    const l = line([10, 20, 30, 40], [1, Number.NaN, 3, 4]);
    assert.deepEqual(nearestPoint(l, 26), { step: 30, value: 3 });
    assert.deepEqual(nearestPoint(l, 19), { step: 10, value: 1 });
    assert.deepEqual(nearestPoint(l, 1000), { step: 40, value: 4 });
    assert.equal(nearestPoint(line([], []), 5), undefined);
  });
});

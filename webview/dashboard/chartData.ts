import { lowerBound, MinMaxPyramid, upperBound } from './minMaxPyramid.ts';

/** One line of a chart: a run's metric (raw or smoothed), with its steps. */
export interface ChartLine {
  xs: Float64Array;
  ys: Float64Array;
  length: number;
  /** Changes when the values change other than by appending (rows removed, smoothing changed). */
  generation: unknown;
  pyramid: MinMaxPyramid;
  /** Share of the chart's resolution this line is drawn at (the faint raw line behind a smoothed one needs less). */
  detail?: number;
}

/** What uPlot draws: one x array, and per line its values at those x (null: no point there). */
export type AlignedData = [Float64Array, ...(number | null)[][]];

export interface BuiltChart {
  data: AlignedData;
  /** Points handed to the chart, all lines together. */
  drawn: number;
}

/**
 * The data of a chart for the step range `range` (all steps when undefined), at most about
 * `width` points per line, aligned on one x axis as uPlot wants it. Lines with different steps
 * (training vs eval, or runs logged at other steps) share the axis with nulls where a line has
 * no point; the lines are drawn across those gaps.
 */
export function buildChartData(lines: readonly ChartLine[], range: readonly [number, number] | undefined, width: number): BuiltChart {
  const picks: number[][] = [];
  let total = 0;
  for (const line of lines) {
    line.pyramid.sync(line.ys, line.length, line.generation);
    const i0 = range ? lowerBound(line.xs, line.length, range[0]) : 0;
    const i1 = range ? upperBound(line.xs, line.length, range[1]) : line.length;
    const picked: number[] = [];
    line.pyramid.select(line.ys, i0, i1, Math.max(16, Math.floor(width * (line.detail ?? 1))), picked);
    picks.push(picked);
    total += picked.length;
  }
  // The union of the picked steps, sorted, without repeats.
  const all = new Float64Array(total);
  let n = 0;
  lines.forEach((line, l) => {
    for (const i of picks[l]!) all[n++] = line.xs[i]!;
  });
  all.sort();
  let unique = 0;
  for (let i = 0; i < n; i++) if (i === 0 || all[i] !== all[unique - 1]) all[unique++] = all[i]!;
  const xs = all.slice(0, unique);
  const data: AlignedData = [xs];
  lines.forEach((line, l) => {
    const ys: (number | null)[] = new Array(unique).fill(null);
    let at = 0;
    for (const i of picks[l]!) {
      const x = line.xs[i]!;
      while (xs[at]! < x) at++;
      ys[at] = line.ys[i]!;
    }
    data.push(ys);
  });
  return { data, drawn: total };
}

/** The value of a line at the point nearest to step `x` (for the hover box): exact, from all rows. */
export function nearestPoint(line: Pick<ChartLine, 'xs' | 'ys' | 'length'>, x: number): { step: number; value: number } | undefined {
  if (line.length === 0) return undefined;
  let i = lowerBound(line.xs, line.length, x);
  if (i >= line.length || (i > 0 && x - line.xs[i - 1]! < line.xs[i]! - x)) i--;
  // Nearest finite value, looking outwards (a metric may be missing at some steps).
  for (let d = 0; d < line.length; d++) {
    for (const j of [i - d, i + d]) {
      if (j >= 0 && j < line.length && Number.isFinite(line.ys[j]!)) return { step: line.xs[j]!, value: line.ys[j]! };
    }
    if (i - d < 0 && i + d >= line.length) break;
  }
  return undefined;
}

import type { RunSeries } from './metricTable.ts';

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Shortest text that reads back as the same double (String() round-trips); empty when missing. */
function csvNumber(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '' : String(value);
}

/**
 * A run's metrics as CSV: one row per step that has training or eval metrics, `step` first,
 * then the training metrics and the eval metrics (already `eval_`-prefixed) in the order they
 * first appeared. Loads as is into pandas, a spreadsheet or TensorBoard's CSV tools.
 */
export function metricsCsv(series: RunSeries): string {
  const { train, eval: evals } = series;
  const trainNames = train.names();
  const evalNames = evals.names().filter((name) => !trainNames.includes(name));
  const trainColumns = trainNames.map((name) => train.column(name)!);
  const evalColumns = evalNames.map((name) => evals.column(name)!);
  // Eval rows also carry `epoch`, which training rows have: fill it from eval when training lacks it.
  const sharedFromEval = trainNames.map((name) => (evals.has(name) ? evals.column(name)! : undefined));
  const lines = [['step', ...trainNames, ...evalNames].map(csvField).join(',')];
  const trainSteps = train.steps;
  const evalSteps = evals.steps;
  let i = 0;
  let j = 0;
  while (i < trainSteps.length || j < evalSteps.length) {
    const a = i < trainSteps.length ? trainSteps[i]! : Number.POSITIVE_INFINITY;
    const b = j < evalSteps.length ? evalSteps[j]! : Number.POSITIVE_INFINITY;
    const step = Math.min(a, b);
    const ti = a === step ? i++ : -1;
    const ej = b === step ? j++ : -1;
    const cells = [csvNumber(step)];
    trainColumns.forEach((column, k) => {
      const own = ti >= 0 ? column[ti] : undefined;
      const shared = sharedFromEval[k];
      cells.push(csvNumber(own !== undefined && Number.isFinite(own) ? own : ej >= 0 && shared ? shared[ej] : undefined));
    });
    for (const column of evalColumns) cells.push(csvNumber(ej >= 0 ? column[ej] : undefined));
    lines.push(cells.join(','));
  }
  return lines.join('\n') + '\n';
}

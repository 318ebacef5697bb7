import { resolve } from 'node:path';
import { reviewSummary } from '../core/review/reviewOrder.ts';
import { BACKEND_CHAIN, type BackendRequest } from '../trainer/backend/index.ts';
import { scoreRun } from '../trainer/review/scoreRun.ts';
import { ScoringSetupError } from '../core/review/scoredRun.ts';
import { TrainingSetupError } from '../trainer/train/trainErrors.ts';
import { parseCommandArgs, wholeNumberFlag } from './cliArgs.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';
import { columnsFlag, DATASET_FLAGS, DATASET_FLAGS_HELP } from './datasetArgs.ts';

const HELP = `Usage: dpo-studio score --run <output_dir> [--checkpoint N|final] [--data <file>] [--out <file>] [options]

Asks a trained DPO model what it thinks of every record of a dataset: the policy's and the
reference's log-probabilities of chosen and rejected, the implicit rewards
beta * (log pi - log pi_ref) and their margin under the run's loss (for reference-free losses, the
length-normalised policy margin), and whether the model agrees with the label. A candidates
record gets every answer's reward and their ranking. Records are keyed by line and by a hash of
their texts, so an edited record's score is known to be stale.

Writes <output_dir>/scores/<checkpoint>/<name>-<hash>.jsonl (atomically), or --out. The pair
editor's "DPO: Review with Model" and the dashboard's "Pairs to review" read these files.
Exit 0: scored; 1: records were skipped or could not be scored, or --fail-on-disagreement tripped;
2: usage, run, model or data error.

Options:
  --run <dir>                      the run's training.output_dir (run.json, final/, checkpoint-N/)
  --checkpoint <N|final>           which weights (default: final, else the newest checkpoint)
  --data <file>                    dataset to score (.jsonl, .json, .parquet or a Hub org/name);
                                   default: the run's own training and eval data
  --out <file>                     where to write (one --data only)
  --engine <tfjs|trl>              which engine computes (default: the run's)
  --batch-size <N>                 pairs per forward pass (default: the run's batch_size)
  --backend <B>                    tfjs backend: auto | ${BACKEND_CHAIN.join(' | ')}
  --fail-on-disagreement <share>   exit 1 when more than this share (0..1) of the pairs disagree
  --top <N>                        disagreeing records listed (default 10)
${DATASET_FLAGS_HELP}
`;

export async function scoreCommand(args: string[], io: CliStreams): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    {
      run: { type: 'string' },
      checkpoint: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      engine: { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      'fail-on-disagreement': { type: 'string' },
      top: { type: 'string', default: '10' },
      ...DATASET_FLAGS,
    },
    false,
  );
  if (values.help) {
    io.out.write(HELP);
    return 0;
  }
  if (!values.run) throw new UsageError('score needs --run <output_dir>');
  if (values.out && !values.data) throw new UsageError('--out needs --data: without it every dataset of the run is scored, each to its own file');
  const engine = values.engine;
  if (engine !== undefined && engine !== 'tfjs' && engine !== 'trl') throw new UsageError(`--engine must be tfjs or trl, got "${engine}"`);
  const backend = values.backend as BackendRequest | undefined;
  if (backend !== undefined && backend !== 'auto' && !BACKEND_CHAIN.includes(backend)) throw new UsageError(`--backend must be auto or one of ${BACKEND_CHAIN.join(', ')}, got "${backend}"`);
  let threshold: number | undefined;
  if (values['fail-on-disagreement'] !== undefined) {
    threshold = Number(values['fail-on-disagreement']);
    if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1) throw new UsageError(`--fail-on-disagreement is a share of the pairs from 0 to 1 (0.1 = 10%), got "${values['fail-on-disagreement']}"`);
  }
  const batchSize = wholeNumberFlag(values['batch-size'], 'batch-size', 1);
  const top = wholeNumberFlag(values.top, 'top', 0) ?? 10;
  const columns = columnsFlag(values.columns);
  const split = values.split;
  try {
    const scores = await scoreRun({
      runDir: values.run,
      ...(values.checkpoint ? { checkpoint: values.checkpoint } : {}),
      ...(values.data ? { datasets: [{ data: values.data, role: 'train', ...(values.out ? { out: resolve(values.out) } : {}) }] } : {}),
      ...(engine ? { engine } : {}),
      ...(backend ? { backend } : {}),
      ...(batchSize ? { batchSize } : {}),
      dataOverrides: { ...(columns ? { columns } : {}), ...(split ? { train_split: split } : {}), ...(values.revision ? { revision: values.revision } : {}) },
      cwd: process.cwd(),
      log: (line) => io.err.write(`${line}\n`),
    });
    let failed = false;
    for (const outcome of scores.outcomes) {
      for (const line of outcome.skipped.slice(0, 20)) io.err.write(`${line}\n`);
      if (outcome.skipped.length > 20) io.err.write(`(${outcome.skipped.length - 20} more records left out)\n`);
      for (const u of outcome.unscored.slice(0, 10)) io.err.write(`${outcome.data}:${u.line}: record ${u.index}: not scored: a NaN or infinite log-probability\n`);
      const summary = reviewSummary(outcome.file.records, top);
      const h = outcome.file.header;
      const share = summary.agreement === null ? 'no pairs' : `the model agrees with ${summary.agreeing} of ${summary.pairs} labels (${(100 * summary.agreement).toFixed(1)}%)`;
      io.out.write(`${outcome.data}: ${share}${h.candidates ? `; ${h.candidates} candidates records ranked` : ''}; ${scores.checkpoint.name}, ${h.loss_type} beta ${h.beta}\n`);
      for (const t of summary.top) io.out.write(`  disagrees  ${outcome.data}:${t.line}  record ${t.index + 1}  margin ${t.margin.toFixed(4)}\n`);
      io.out.write(`  wrote ${outcome.path}\n`);
      if (outcome.skipped.length + outcome.unscored.length > 0) failed = true;
      if (threshold !== undefined && summary.pairs > 0) {
        const disagreeing = (summary.pairs - summary.agreeing) / summary.pairs;
        if (disagreeing > threshold) {
          io.err.write(`${outcome.data}: ${(100 * disagreeing).toFixed(1)}% of the pairs disagree with the model, more than --fail-on-disagreement ${threshold} allows\n`);
          failed = true;
        }
      }
    }
    return failed ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const known = error instanceof ScoringSetupError || error instanceof TrainingSetupError;
    if (!known && process.env.DPO_STUDIO_DEBUG && error instanceof Error) io.err.write(`${error.stack}\n`);
    io.err.write(`dpo-studio: ${(error as Error).message}\n`);
    return 2;
  }
}

import { isLintCode, LINT_RULES, lintOptions } from '../core/dataset/lintRules.ts';
import { isParquetPath, ParquetReadError } from '../core/dataset/parquetTable.ts';
import { rowWhere } from '../core/dataset/readRecords.ts';
import { validateParquet } from '../core/dataset/validateParquet.ts';
import { columnsFlag, DATASET_FLAGS, DATASET_FLAGS_HELP, isTableSource, resolveDatasetArg } from './datasetArgs.ts';
import type { ColumnMapping } from '../core/dataset/columnMapping.ts';
import { validateFile } from '../core/dataset/validateFile.ts';
import type { ValidationResult } from '../core/dataset/datasetValidation.ts';
import type { Problem } from '../core/dataset/types.ts';
import { formatStats } from '../core/dataset/statsSummary.ts';
import { numberFlag, parseCommandArgs, wholeNumberFlag } from './cliArgs.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';
import { classifyInput, InputError, spoolStream, type SpooledInput } from './streamInput.ts';

const HELP = `Usage: dpo-studio validate <file...> [options]

A file is JSON Lines, a JSON array or Parquet, or a Hugging Face Hub dataset by name (org/name:
its --split, from the HF cache or downloaded). A file may also be - (standard input) or a pipe,
e.g. <(zcat data.jsonl.gz); a named pipe is waited for 10 s (DPO_STUDIO_PIPE_WAIT_SECONDS) for its writer.
Problems in Parquet rows are located by row and column (the file's own column names).

Options:
  --json                 one JSON object per file, one per line
  --disable <codes>      comma-separated lint codes not to report (e.g. length-bias,near-identical-answers)
  --max-length <N>       longest text, in characters, before text-too-long (default 20000)
  --similarity <T>       similarity in [0,1] from which answers are near-identical (default 0.9)
${DATASET_FLAGS_HELP}
`;

export async function validateCommand(args: string[], io: CliStreams): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    json: { type: 'boolean', default: false },
    disable: { type: 'string', multiple: true },
    'max-length': { type: 'string' },
    similarity: { type: 'string' },
    ...DATASET_FLAGS,
  });
  if (values.help) {
    io.out.write(HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('validate needs at least one file');
  const disabled = (values.disable ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const unknown = disabled.filter((code) => !isLintCode(code));
  if (unknown.length > 0) throw new UsageError(`--disable: no lint is called ${unknown.map((c) => `"${c}"`).join(', ')}; the codes are ${Object.keys(LINT_RULES).join(', ')}`);
  const options = lintOptions({
    disabled,
    ...optional('maxTextLength', wholeNumberFlag(values['max-length'], 'max-length', 1)),
    ...optional('nearIdenticalThreshold', numberFlag(values.similarity, 'similarity', 0, 1)),
  });
  const columns = columnsFlag(values.columns);
  if (columns) options.columns = columns;

  let exitCode = 0;
  for (const file of positionals) {
    let result: ValidationResult;
    let spooled: SpooledInput | undefined;
    try {
      if (isTableSource(file)) {
        const resolved = await resolveDatasetArg(file, '', values, io.err);
        result = resolved.files.every(isParquetPath) ? await validateParquet(resolved.files, options) : validateFile(resolved.files[0]!, options);
      } else {
        const input = classifyInput(file, io.in ?? process.stdin);
        if (input.kind === 'stream') spooled = await spoolStream(file === '-' ? '<stdin>' : file, await input.open());
        result = validateFile(spooled?.path ?? file, options);
      }
    } catch (error) {
      const message = ioMessage(file, error);
      if (values.json) io.out.write(JSON.stringify({ file, format: null, records: 0, errors: [{ line: 0, column: 0, pointer: '', code: 'io-error', message }], warnings: [], stats: null }) + '\n');
      io.err.write(`dpo-studio: ${message}\n`);
      exitCode = 2;
      continue;
    } finally {
      spooled?.dispose();
    }
    if (result.errorCount > 0 && exitCode === 0) exitCode = 1;
    io.out.write(values.json ? JSON.stringify({ ...toJson(file, result), ...(columns ? { columns } : {}) }) + '\n' : toText(file, result, columns));
  }
  return exitCode;
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

function ioMessage(file: string, error: unknown): string {
  if (error instanceof InputError) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${file}: no such file`;
  if (code === 'EISDIR') return `${file} is a directory, not a dataset file`;
  if (code === 'EACCES' || code === 'EPERM') return `${file}: permission denied`;
  if (code === 'EFBIG' || code === 'DATASET' || error instanceof ParquetReadError) return (error as Error).message;
  return `${file}: ${(error as Error).message}`;
}

function problemJson(p: Problem, kind: ValidationResult['kind']) {
  // Parquet: `row` and the column's name instead of a line and column of text.
  if (kind === 'parquet') return { row: p.recordIndex === undefined ? null : p.line, column: p.pointer.startsWith('/') ? p.pointer.slice(1).split('/')[0] : null, pointer: p.pointer, code: p.code, message: p.message };
  return { line: p.line, column: p.column, pointer: p.pointer, code: p.code, message: p.message };
}

function toJson(file: string, result: ValidationResult) {
  return {
    file,
    format: result.format,
    stage: result.stage,
    records: result.stats.records,
    errors: result.problems.filter((p) => p.severity === 'error').map((p) => problemJson(p, result.kind)),
    warnings: result.problems.filter((p) => p.severity !== 'error').map((p) => problemJson(p, result.kind)),
    stats: result.stats,
  };
}

const STAGE_WORDS = { dpo: 'for DPO', sft: 'for SFT', labeling: 'candidates to label', mixed: 'DPO and SFT records mixed' } as const;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function toText(file: string, result: ValidationResult, columns?: ColumnMapping): string {
  const lines = result.problems.map((p) => {
    if (result.kind === 'parquet') return `  ${file}, ${p.recordIndex === undefined ? 'file' : rowWhere(p.line, p.pointer)}  ${p.severity.padEnd(7)}  ${p.message}  [${p.code}]`;
    const field = p.pointer ? ` ${p.pointer}` : '';
    return `  ${file}:${p.line}:${p.column}  ${p.severity.padEnd(7)}  ${p.message}  [${p.code}${field}]`;
  });
  const verdict = result.errorCount === 0 && result.warningCount === 0 ? 'ok' : `${plural(result.errorCount, 'error')}, ${plural(result.warningCount, 'warning')}`;
  const header = `${file}: ${plural(result.stats.records, result.kind === 'parquet' ? 'row' : 'record')} (${result.format ?? 'no records'}${result.stage ? `, ${STAGE_WORDS[result.stage]}` : ''}): ${verdict}`;
  const mapping = columns ? [`  columns: ${Object.entries(columns).map(([field, column]) => `${field} ← "${column}"`).join(', ')}`] : [];
  return [header, ...mapping, ...lines, ...formatStats(result.stats).map((l) => `  ${l}`), ''].join('\n');
}

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/main.ts';
import { DEFAULT_LINT_OPTIONS, lintOptions } from '../../src/core/dataset/lintRules.ts';
import { validateFile } from '../../src/core/dataset/validateFile.ts';
import { validateParquet } from '../../src/core/dataset/validateParquet.ts';
import { readValidRecords } from '../../src/core/dataset/readRecords.ts';
import { parseWhere } from '../../src/core/dataset/convertDataset.ts';
import { TableRecords } from '../../src/core/pairEditor/tableRecords.ts';
import { RENAMED_COLUMNS, requirePyarrow, writeAllShapes, writeParquet, type ParquetShape } from '../support/parquetFixtures.ts';
import { colorTask, metricsEvents, tinyModel, train, workspace, writeConfig, writeJsonl } from './trainFixtures.ts';
import { trlPython } from './trlFixtures.ts';

// Parquet written by pyarrow, as published datasets are, read by every reader: validate,
// convert, and training on both engines.

const ws = workspace('parquet');
let python: string | undefined;
let files: ReturnType<typeof writeAllShapes> = [];

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: { write: (t: string) => (out += t) }, err: { write: (t: string) => (err += t) } });
  return { code, out, err };
}

const columnsFor = (shape: ParquetShape) => (shape === 'renamed' ? RENAMED_COLUMNS : undefined);
const columnsFlag = (shape: ParquetShape) => (shape === 'renamed' ? ['--columns', 'prompt=question,chosen=response_j,rejected=response_k'] : []);
const sourceRecords = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('Parquet datasets', () => {
  before(() => {
    python = trlPython();
    if (python) files = writeAllShapes(python, join(ws.dir, 'shapes'));
  });
  after(() => ws.cleanup());

  it('validate reads the three shapes, snappy and zstd, with the mapping for renamed columns', async (t) => {
    if (!requirePyarrow(t)) return;
    assert.equal(files.length, 6);
    for (const file of files) {
      const run = await cli(['validate', '--json', ...columnsFlag(file.shape), file.path]);
      const report = JSON.parse(run.out) as { format: string; stage: string; records: number; errors: unknown[] };
      assert.equal(run.code, 0, `${file.shape} ${file.compression}: ${run.out}${run.err}`);
      assert.deepEqual(report.errors, [], `${file.shape} ${file.compression}`);
      assert.equal(report.records, sourceRecords(file.source).length);
      assert.equal(report.stage, 'dpo');
      assert.equal(report.format, file.shape === 'conversational' ? 'conversational' : 'standard');
    }
    // gzip too (brotli and lz4 come with the same compressors).
    const gzip = writeParquet(requirePyarrow(t)!, files[0]!.source, join(ws.dir, 'shapes', 'standard.gzip.parquet'), 'standard', 'gzip');
    const gzipped = JSON.parse((await cli(['validate', '--json', gzip])).out) as { records: number; errors: unknown[] };
    assert.deepEqual([gzipped.records, gzipped.errors.length], [sourceRecords(files[0]!.source).length, 0]);
    const renamed = files.find((f) => f.shape === 'renamed')!.path;
    // Without the mapping every row is an unknown format, and the message says how to map it.
    const unmapped = await cli(['validate', renamed]);
    assert.equal(unmapped.code, 1);
    assert.match(unmapped.out, /row 1 .*"question", "response_j", "response_k".*--columns/);
    // A mapped column the file lacks: one error for the file, not one per row.
    const wrong = await cli(['validate', '--json', '--columns', 'prompt=q,chosen=response_j,rejected=response_k', renamed]);
    const report = JSON.parse(wrong.out) as { errors: Array<{ code: string; message: string; row: number | null }> };
    assert.equal(report.errors.length, 1);
    assert.equal(report.errors[0]!.code, 'missing-column');
    assert.equal(report.errors[0]!.row, null);
    assert.match(report.errors[0]!.message, /"q" \(mapped to prompt\)/);
  });

  it('locates a bad row by its number and column, with the file\'s own column names', async (t) => {
    const py = requirePyarrow(t);
    if (!py) return;
    const path = join(ws.dir, 'bad.parquet');
    const script = `import pyarrow as pa, pyarrow.parquet as pq
pq.write_table(pa.table({"question": ["a?", "b?", "c?"], "response_j": ["yes", "", "no"], "response_k": ["no", "maybe", "no"]}), ${JSON.stringify(path)}, compression="zstd")`;
    assert.equal(spawnSync(py, ['-c', script]).status, 0);
    const run = await cli(['validate', '--json', '--columns', 'prompt=question,chosen=response_j,rejected=response_k', path]);
    const report = JSON.parse(run.out) as { errors: unknown[]; warnings: Array<{ row: number; column: string; code: string }> };
    const empty = [...report.warnings, ...(report.errors as typeof report.warnings)].filter((p) => p.code === 'empty-text');
    assert.deepEqual(empty.map((p) => [p.row, p.column]), [[2, 'response_j']]);
    const identical = report.warnings.filter((p) => p.code === 'identical-answers');
    assert.deepEqual(identical.map((p) => p.row), [3]);
    const text = await cli(['validate', '--columns', 'prompt=question,chosen=response_j,rejected=response_k', path]);
    assert.match(text.out, /bad\.parquet, row 2, column "response_j" .*\[empty-text\]/);
  });

  it('finds the same duplicates and contradictions in Parquet as in the JSON Lines it came from, on worker threads or not', async (t) => {
    const py = requirePyarrow(t);
    if (!py) return;
    // Duplicates and swaps across row groups, and answers that differ in one character only (same length: their sampled keys may agree).
    const records: Array<{ prompt: string; chosen: string; rejected: string }> = [];
    for (let i = 0; i < 60; i++) records.push({ prompt: `What is ${i} + ${i}?`, chosen: `The answer is ${2 * i}.`, rejected: `The answer is ${2 * i + 1}.` });
    records.push({ ...records[3]! }, { prompt: records[10]!.prompt, chosen: records[10]!.rejected, rejected: records[10]!.chosen }, { ...records[20]!, chosen: records[20]!.chosen.replace('.', '!') }, { ...records[3]! });
    const jsonl = writeJsonl(join(ws.dir, 'dups.jsonl'), records);
    const parquet = writeParquet(py, jsonl, join(ws.dir, 'dups.parquet'), 'standard', 'zstd', 7);
    const located = (result: Awaited<ReturnType<typeof validateParquet>>) => result.problems.map((p) => `${p.code}@${p.recordIndex ?? '-'}`).sort();
    const fromJsonl = located(validateFile(jsonl));
    assert.ok(fromJsonl.includes('duplicate-record@60') && fromJsonl.includes('duplicate-record@63') && fromJsonl.includes('contradicting-pairs@61'), fromJsonl.join(' '));
    assert.ok(!fromJsonl.some((p) => p.endsWith('@62') && !p.startsWith('length')), 'one character apart is not a duplicate');
    for (const workers of [1, 2]) {
      const result = await validateParquet([parquet], DEFAULT_LINT_OPTIONS, { workers });
      assert.deepEqual(located(result), fromJsonl, `${workers} worker(s)`);
      assert.deepEqual(result.stats, validateFile(jsonl).stats);
    }
  });

  it('convert writes JSON Lines that read back as the same records as the Parquet', async (t) => {
    if (!requirePyarrow(t)) return;
    for (const file of files) {
      const out = join(ws.dir, 'converted', `${file.shape}.${file.compression}.jsonl`);
      const run = await cli(['convert', file.path, out, ...columnsFlag(file.shape)]);
      assert.equal(run.code, 0, run.err);
      const fromParquet = await readValidRecords([file.path], lintOptions(columnsFor(file.shape) ? { columns: columnsFor(file.shape)! } : {}));
      const fromJsonl = await readValidRecords([out]);
      assert.equal(fromJsonl.records.length, sourceRecords(file.source).length);
      assert.deepEqual(
        fromJsonl.records.map((r) => r.value),
        fromParquet.records.map((r) => r.value),
        `${file.shape} ${file.compression}`,
      );
      // And they are the pairs the Parquet was written from.
      const source = sourceRecords(file.source);
      fromJsonl.records.forEach((r, i) => {
        for (const key of ['prompt', 'chosen', 'rejected']) assert.deepEqual(r.value[key], file.shape === 'conversational' || typeof source[i]![key] === 'string' ? source[i]![key] : r.value[key]);
      });
      if (file.shape === 'renamed') assert.deepEqual(Object.keys(fromJsonl.records[0]!.value), ['prompt', 'chosen', 'rejected', 'id', 'score'], 'mapped fields first, the other columns kept');
    }
  });

  it('convert --where keeps the rows a condition holds for, --limit stops early', async (t) => {
    if (!requirePyarrow(t)) return;
    const renamed = files.find((f) => f.shape === 'renamed' && f.compression === 'zstd')!.path;
    const out = join(ws.dir, 'converted', 'top.jsonl');
    const run = await cli(['convert', renamed, out, '--columns', 'prompt=question,chosen=response_j,rejected=response_k', '--where', 'score >= 4', '--limit', '5']);
    assert.equal(run.code, 0, run.err);
    const written = sourceRecords(out);
    assert.equal(written.length, 5);
    assert.ok(written.every((r) => (r.score as number) >= 4));
    assert.match(run.out, /Wrote 5 records of \d+ read/);
    const bad = await cli(['convert', renamed, out, '--where', 'score ~ 4']);
    assert.equal(bad.code, 2);
  });

  it('generate answers the prompts of a Parquet file (mapped column), one candidates record per row', async (t) => {
    if (!requirePyarrow(t)) return;
    const renamed = files.find((f) => f.shape === 'renamed' && f.compression === 'snappy')!.path;
    const model = tinyModel(join(ws.dir, 'gen-model'));
    const out = join(ws.dir, 'gen.candidates.jsonl');
    const run = await cli(['generate', '--prompts', renamed, '--columns', 'prompt=question', '--out', out, '--model', model, '--n', '2', '--max-tokens', '4', '--backend', 'cpu']);
    assert.equal(run.code, 0, run.err);
    const written = sourceRecords(out);
    const source = sourceRecords(files.find((f) => f.shape === 'renamed')!.source);
    assert.equal(written.length, source.length);
    assert.deepEqual(new Set(written.map((r) => r.prompt)), new Set(source.map((r) => r.prompt)));
    assert.ok(written.every((r) => Array.isArray(r.candidates) && (r.candidates as unknown[]).length >= 1));
  });

  it('the pair editor reads rows by group, orders them by a score column, and exports the order or a filter', async (t) => {
    if (!requirePyarrow(t)) return;
    const file = files.find((f) => f.shape === 'renamed' && f.compression === 'zstd')!;
    const source = sourceRecords(file.source);
    const records = await TableRecords.open(file.path, lintOptions({ columns: RENAMED_COLUMNS }));
    try {
      assert.equal(records.count, source.length);
      assert.equal(records.table.rowGroups.length, 4);
      const [first, twentieth] = await records.views([0, 19]);
      assert.equal(first!.kind, 'pair');
      assert.equal(first!.kind === 'pair' && first!.prompt.text, source[0]!.prompt);
      assert.equal(twentieth!.row, 20);
      assert.deepEqual(first!.extras, [{ name: 'score', value: '1' }]);
      await records.sortBy({ column: 'score', descending: true });
      const sorted = await records.views([0, 1, 2]);
      const scoreOf = (v: (typeof sorted)[number]) => Number(v.extras!.find((e) => e.name === 'score')!.value);
      assert.ok(scoreOf(sorted[0]!) >= scoreOf(sorted[1]!) && scoreOf(sorted[1]!) >= scoreOf(sorted[2]!));
      // Search goes through the rows in the order shown.
      const found = await records.search('git commit', 0, 1);
      assert.notEqual(found, undefined);
      const [match] = await records.views([found!]);
      assert.match(JSON.stringify(match), /git commit/i);
      const top = join(ws.dir, 'top.pairs.jsonl');
      assert.equal((await records.exportJsonl(top, { limit: 10 })).written, 10);
      const written = sourceRecords(top);
      assert.ok(written.every((r, i) => i === 0 || (r.score as number) <= (written[i - 1]!.score as number)), 'in the order shown');
      assert.deepEqual(Object.keys(written[0]!), ['prompt', 'chosen', 'rejected', 'id', 'score']);
      await records.sortBy(undefined);
      const filtered = join(ws.dir, 'filtered.pairs.jsonl');
      const result = await records.exportJsonl(filtered, { where: parseWhere('score >= 4') });
      assert.equal(result.written, source.filter((_, i) => 1 + ((i * 7) % 10) / 2 >= 4).length);
      assert.deepEqual(sourceRecords(filtered).map((r) => r.id), source.filter((_, i) => 1 + ((i * 7) % 10) / 2 >= 4).map((r) => r.id));
    } finally {
      await records.close();
    }
  });

  describe('training', () => {
    let model: string;
    let pairs: string;
    const parquet: Partial<Record<ParquetShape, string>> = {};
    before(() => {
      if (!python) return;
      model = tinyModel(join(ws.dir, 'model'));
      pairs = writeJsonl(join(ws.dir, 'color.jsonl'), colorTask(16));
      for (const shape of ['standard', 'conversational', 'renamed'] as const) parquet[shape] = writeParquet(python, pairs, join(ws.dir, `color.${shape}.parquet`), shape, shape === 'renamed' ? 'snappy' : 'zstd', 5);
    });

    const config = (name: string, engine: 'tfjs' | 'trl', data: Record<string, unknown>) =>
      writeConfig(join(ws.dir, `${name}.yaml`), {
        model: { name: model },
        data: { max_length: 64, max_prompt_length: 32, ...data },
        dpo: { beta: 0.1 },
        training: { engine, backend: engine === 'tfjs' ? 'wasm' : 'auto', output_dir: join(ws.dir, name), max_steps: 1, batch_size: 4, logging_steps: 1, seed: 3 },
        lora: { r: 8, lora_alpha: 16, lora_dropout: 0 },
      });

    it('tfjs trains on Parquet (renamed columns mapped) exactly as on the JSON Lines it was written from', async (t) => {
      if (!requirePyarrow(t)) return;
      const fromJsonl = await train(['--config', config('jsonl-tfjs', 'tfjs', { train_path: pairs })]);
      assert.equal(fromJsonl.code, 0, fromJsonl.stderr);
      const fromParquet = await train(['--config', config('parquet-tfjs', 'tfjs', { train_path: parquet.renamed, columns: RENAMED_COLUMNS })]);
      assert.equal(fromParquet.code, 0, fromParquet.stderr);
      assert.match(fromParquet.stderr, /16 pairs/);
      assert.deepEqual(metricsEvents(fromParquet.events)[0]!.metrics.loss, metricsEvents(fromJsonl.events)[0]!.metrics.loss);
      assert.deepEqual(metricsEvents(fromParquet.events)[0]!.metrics['logps/chosen'], metricsEvents(fromJsonl.events)[0]!.metrics['logps/chosen']);
      const chat = await train(['--config', config('chat-tfjs', 'tfjs', { train_path: parquet.conversational })]);
      assert.equal(chat.code, 0, chat.stderr);
      assert.match(chat.stderr, /16 pairs/);
    });

    it('the TRL engine trains on the same Parquet and agrees with tfjs on the first step (1e-4)', async (t) => {
      if (!requirePyarrow(t)) return;
      const trl = await train(['--config', config('parquet-trl', 'trl', { train_path: parquet.renamed, columns: RENAMED_COLUMNS })]);
      assert.equal(trl.code, 0, trl.stderr);
      const tfjs = await train(['--config', config('parquet-tfjs-2', 'tfjs', { train_path: parquet.standard })]);
      assert.equal(tfjs.code, 0, tfjs.stderr);
      const a = metricsEvents(trl.events)[0]!.metrics;
      const b = metricsEvents(tfjs.events)[0]!.metrics;
      for (const key of ['loss', 'logps/chosen', 'logps/rejected']) assert.ok(Math.abs(a[key]! - b[key]!) <= 1e-4 * Math.max(1, Math.abs(b[key]!)), `${key}: TRL ${a[key]} vs tfjs ${b[key]}`);
    });
  });
});

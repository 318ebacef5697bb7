import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';

// The shipped bundle, as `npx dpo-studio` runs it (npm test builds it before the unit tests).
const CLI = resolve('dist/cli.cjs');
const dir = mkdtempSync(join(tmpdir(), 'dpo-cli-'));

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const good = file('good.jsonl', '{"prompt":"What is 2+2?","chosen":"4","rejected":"5"}\n');
const bad = file('bad.jsonl', ['{"prompt":"p","chosen":"good answer","rejected":"bad"}', '{"prompt":"q","chosen":"same","rejected":"same"}', '{"prompt": "r", "chosen": 5, "rejected": "x"}', 'not json'].join('\n') + '\n');
const warnOnly = file('warn.jsonl', '{"prompt":"q","chosen":"same","rejected":"same"}\n');

describe('dpo-studio CLI', () => {
  before(() => assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build`));

  it('validate exits 0 for a clean file and says ok', () => {
    const r = run('validate', good);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /good\.jsonl: 1 record \(standard, for DPO\): ok/);
  });

  it('validate exits 0 when there are only warnings', () => {
    const r = run('validate', warnOnly);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /warn\.jsonl:1:\d+ +warning +chosen and rejected are identical/);
  });

  it('validate exits 1 with located, readable problems', () => {
    const r = run('validate', bad);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /bad\.jsonl: 4 records \(standard, for DPO\): 2 errors, 1 warning/);
    assert.match(r.stdout, /bad\.jsonl:3:27 +error +"chosen" must be a string +\[schema-type \/chosen\]/);
    assert.match(r.stdout, /bad\.jsonl:4:1 +error +Invalid JSON/);
  });

  it('validate --json prints one object per file with 1-based lines', () => {
    const r = run('validate', '--json', good, bad);
    assert.equal(r.code, 1);
    const [first, second] = r.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(Object.keys(first).sort(), ['errors', 'file', 'format', 'records', 'stage', 'stats', 'warnings']);
    assert.equal(first.file, good);
    assert.equal(first.format, 'standard');
    assert.equal(first.stage, 'dpo');
    assert.equal(first.records, 1);
    assert.deepEqual(first.errors, []);
    assert.equal(second.records, 4);
    assert.deepEqual(second.errors, [
      { line: 3, column: 27, pointer: '/chosen', code: 'schema-type', message: '"chosen" must be a string' },
      { line: 4, column: 1, pointer: '', code: 'invalid-json', message: 'Invalid JSON: unexpected character' },
    ]);
    assert.deepEqual(second.warnings.map((w: { line: number; code: string }) => [w.line, w.code]), [[2, 'identical-answers']]);
    assert.equal(second.stats.pairs, 2);
    assert.equal(typeof second.stats.chosenLongerRate, 'number');
  });

  it('validate --disable switches a lint off', () => {
    const r = run('validate', '--json', '--disable', 'identical-answers', warnOnly);
    assert.deepEqual(JSON.parse(r.stdout).warnings, []);
  });

  it('validate exits 2 for a missing file, a directory and an unreadable file, and still checks the others', () => {
    mkdirSync(join(dir, 'folder'), { recursive: true });
    assert.equal(run('validate', join(dir, 'missing.jsonl')).code, 2);
    const r = run('validate', '--json', join(dir, 'folder'), good);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is a directory/);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].errors[0].code, 'io-error');
    assert.equal(lines[1].records, 1);
    if (process.getuid?.() !== 0) {
      const locked = file('locked.jsonl', '{}');
      chmodSync(locked, 0);
      assert.equal(run('validate', locked).code, 2);
    }
  });

  it('exits 2 for usage errors', () => {
    assert.equal(run('validate').code, 2);
    assert.equal(run('frobnicate').code, 2);
    assert.equal(run('validate', '--similarity', '3', good).code, 2);
    assert.equal(run('sample').code, 2);
    assert.equal(run('sample', join(dir, 'x.jsonl'), '--format', 'yaml').code, 2);
    assert.equal(run('sample', join(dir, 'x.jsonl'), '--count', '0').code, 2);
  });

  for (const format of ['standard', 'conversational', 'instruction']) {
    it(`sample writes a valid ${format} dataset that validate accepts`, () => {
      const out = join(dir, 'nested', `${format}.jsonl`);
      const r = run('sample', out, '--count', '30', '--format', format);
      assert.equal(r.code, 0, r.stderr);
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      assert.equal(lines.length, 30);
      const check = JSON.parse(run('validate', '--json', out).stdout);
      assert.equal(check.format, format);
      assert.equal(check.records, 30);
      assert.deepEqual(check.errors, []);
      assert.deepEqual(check.warnings, []);
    });
  }

  it('sample writes a JSON array for a .json name', () => {
    const out = join(dir, 'sample.json');
    assert.equal(run('sample', out, '--count', '5').code, 0);
    const records = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(records.length, 5);
    assert.equal(JSON.parse(run('validate', '--json', out).stdout).errors.length, 0);
  });
});

describe('dpo-studio validate on what is not a plain file', () => {
  it('refuses a device by name at once instead of reading it without end', () => {
    const r = run('validate', '/dev/zero');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\/dev\/zero is a character device: give a dataset file, a pipe, or - for standard input/);
  });

  it('reads standard input (-), a pipe from process substitution, and a named pipe once its writer comes', () => {
    const stdin = spawnSync(process.execPath, [CLI, 'validate', '-'], { encoding: 'utf8', input: readFileSync(bad) });
    assert.equal(stdin.status, 1);
    assert.match(stdin.stdout, /^-: 4 records \(standard, for DPO\): 2 errors, 1 warning/);
    assert.match(stdin.stdout, /-:3:27 +error +"chosen" must be a string/);
    const substituted = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" validate <(cat "${good}")`], { encoding: 'utf8' });
    assert.equal(substituted.status, 0, substituted.stderr);
    assert.match(substituted.stdout, /\/dev\/fd\/\d+: 1 record \(standard, for DPO\): ok/);
    const fifo = join(dir, 'named.pipe');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const later = spawnSync('bash', ['-c', `(sleep 0.3; cat "${good}" > "${fifo}") & "${process.execPath}" "${CLI}" validate "${fifo}"`], { encoding: 'utf8' });
    assert.equal(later.status, 0, later.stderr);
    assert.match(later.stdout, /named\.pipe: 1 record \(standard, for DPO\): ok/);
  });

  it('gives up on a named pipe that nothing writes to, instead of hanging', () => {
    const fifo = join(dir, 'silent.pipe');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const r = spawnSync(process.execPath, [CLI, 'validate', fifo], { encoding: 'utf8', env: { ...process.env, DPO_STUDIO_PIPE_WAIT_SECONDS: '0.5' }, timeout: 20000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /silent\.pipe is a named pipe and nothing wrote to it within 0\.5 s/);
  });

  it('refuses an unknown lint code in --disable', () => {
    const r = run('validate', '--disable', 'length-bias,no-such-code', good);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--disable: no lint is called "no-such-code"; the codes are identical-answers, /);
  });
});

describe('stream bounds', () => {
  it('stops an endless line from a stream at the line bound, naming the line', async () => {
    const { spoolStream } = await import('../../src/cli/streamInput.ts');
    const { Readable } = await import('node:stream');
    const endless = Readable.from((function* () {
      yield Buffer.from('{"prompt":"p","chosen":"a","rejected":"b"}\n');
      for (;;) yield Buffer.alloc(64 * 1024);
    })());
    await assert.rejects(spoolStream('<stdin>', endless, { maxBytes: 1024 ** 3, maxLineBytes: 1024 ** 2 }), /<stdin>:2: the line is longer than 1 MB without a line end/);
    const long = Readable.from((function* () {
      for (;;) yield Buffer.from('{"prompt":"p","chosen":"a","rejected":"b"}\n'.repeat(1000));
    })());
    await assert.rejects(spoolStream('<stdin>', long, { maxBytes: 1024 ** 2, maxLineBytes: 1024 ** 2 }), /<stdin>: more than .* came in; validate reads at most that much from a stream/);
  });
});

describe('commands that write a file never replace one of the user\'s', () => {
  it('sample refuses an existing file unless --force', () => {
    const notes = file('notes.jsonl', 'my notes\n');
    const r = run('sample', notes, '--count', '2');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /notes\.jsonl already exists: pass --force to replace it/);
    assert.equal(readFileSync(notes, 'utf8'), 'my notes\n');
    assert.equal(run('sample', notes, '--count', '2', '--force').code, 0);
    assert.match(readFileSync(notes, 'utf8'), /"prompt"/);
  });

  it('logps refuses --out equal to --data, or a file it did not write', () => {
    const model = join(dir, 'logps-model');
    assert.equal(run('init-model', model, '--arch', 'llama', '--size', 'tiny').code, 0);
    const data = file('logps-data.jsonl', '{"prompt":"a","chosen":"b","rejected":"c"}\n');
    const same = run('logps', '--model', model, '--data', data, '--out', data);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /--out .*logps-data\.jsonl is the --data file itself/);
    assert.equal(readFileSync(data, 'utf8'), '{"prompt":"a","chosen":"b","rejected":"c"}\n');
    const other = file('keep.jsonl', 'mine\n');
    const foreign = run('logps', '--model', model, '--data', data, '--out', other);
    assert.equal(foreign.code, 2);
    assert.match(foreign.stderr, /exists and is not a log-probabilities file this command wrote/);
    const out = join(dir, 'scores.jsonl');
    assert.equal(run('logps', '--model', model, '--data', data, '--out', out).code, 0);
    assert.equal(run('logps', '--model', model, '--data', data, '--out', out).code, 0, 'its own earlier output is replaced');
  });
});

describe('a folder that cannot be made', () => {
  // Node's mkdirSync(..., { recursive: true }) spins forever on such a path (under /proc).
  it('is an error at once, not a hang', { skip: !existsSync('/proc/self') }, () => {
    const r = spawnSync(process.execPath, [CLI, 'sample', '/proc/dpo-studio-test/out.jsonl'], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 2, r.error?.message);
    assert.match(r.stderr, /cannot write \/proc\/dpo-studio-test\/out\.jsonl: ENOENT/);
  });
});

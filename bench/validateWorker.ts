// One measurement of bench/validate.bench.ts, in a process of its own: the baseline (read the
// file, JSON.parse each line), or the shipped CLI (`validate --json <file>`, its report
// counted and dropped). The last line of stdout is this process's peak RSS and the record count.
import { readFileSync, writeSync } from 'node:fs';

const [mode, file, cli] = process.argv.slice(2) as ['baseline' | 'cli', string, string];

function report(records: number): void {
  writeSync(1, `\n${JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024, records })}\n`);
}

if (mode === 'baseline') {
  let records = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.length === 0) continue;
    JSON.parse(line);
    records++;
  }
  report(records);
} else {
  // The CLI writes its JSON report to stdout: keep only its record count.
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  process.argv = [process.argv[0]!, cli, 'validate', '--json', file];
  process.on('exit', (code) => {
    if (code !== 0) throw new Error(`validate exited ${code}: the benchmark data should be clean`);
    report((JSON.parse(out) as { records: number }).records);
  });
  require(cli);
}

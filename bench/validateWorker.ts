// One measurement of bench/validate.bench.ts, in a process of its own.
import { readFileSync } from 'node:fs';
import { validateFile } from '../src/core/dataset/validateFile.ts';

const [mode, file] = process.argv.slice(2) as ['baseline' | 'validate', string];
let records = 0;
const start = performance.now();
if (mode === 'baseline') {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.length === 0) continue;
    JSON.parse(line);
    records++;
  }
} else {
  const result = validateFile(file);
  records = result.stats.records;
  if (result.errorCount > 0) throw new Error(`benchmark data has ${result.errorCount} errors: ${JSON.stringify(result.problems.slice(0, 3))}`);
}
const ms = performance.now() - start;
console.log(JSON.stringify({ ms, maxRssBytes: process.resourceUsage().maxRSS * 1024, records }));

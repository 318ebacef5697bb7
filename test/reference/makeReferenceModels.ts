/**
 * Writes the reference models and cases.json into a folder for reference_logps.py:
 *   node --import tsx test/reference/makeReferenceModels.ts /tmp/dpo-reference
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initModel } from '../../src/trainer/model/initModel.ts';
import { REFERENCE_CASES } from './referenceCases.ts';

const root = process.argv[2];
if (!root) {
  process.stderr.write('usage: makeReferenceModels.ts <folder>\n');
  process.exit(2);
}
mkdirSync(root, { recursive: true });
for (const c of REFERENCE_CASES) initModel(join(root, c.name), { ...c.init, overwrite: true });
writeFileSync(join(root, 'cases.json'), JSON.stringify({ cases: REFERENCE_CASES }, null, 1) + '\n');
process.stdout.write(`wrote ${REFERENCE_CASES.length} models to ${root}\n`);

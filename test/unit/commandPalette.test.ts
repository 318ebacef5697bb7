import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

// VS Code's command palette lists the matches of what a person typed alphabetically (until
// they have run some), and Enter runs the first. Typing the headline command's title must
// therefore run it: no other DPO command that also matches may sort before it.
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { commands: Array<{ command: string; title: string; category?: string }> } };
const labels = manifest.contributes.commands.map((c) => ({ id: c.command, label: c.category ? `${c.category}: ${c.title}` : c.title }));

describe('the command palette', () => {
  for (const typed of ['DPO: Train', 'DPO: Validate Dataset', 'DPO: Generate Candidates', 'DPO: Create Config (SFT or DPO)', 'DPO: Review with Model']) {
    it(`typing "${typed}" puts that command first among the DPO commands it matches`, () => {
      const words = typed.toLowerCase().split(/[\s:]+/).filter(Boolean);
      const matches = labels.filter((l) => words.every((w) => l.label.toLowerCase().includes(w))).map((l) => l.label).sort((a, b) => a.localeCompare(b));
      assert.equal(matches[0], typed, `matches in palette order: ${JSON.stringify(matches)}`);
    });
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_LOADED_RUNS, parseDashboardMessage, pngBytes } from '../../src/protocol/dashboardMessages.ts';

const PNG = 'data:image/png;base64,' + Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).toString('base64');

function accepted(raw: unknown) {
  const check = parseDashboardMessage(raw);
  assert.ok(check.ok, `expected ${JSON.stringify(raw).slice(0, 200)} to be accepted: ${check.ok ? '' : check.reason}`);
  return check.message;
}

function refused(raw: unknown): string {
  const check = parseDashboardMessage(raw);
  assert.ok(!check.ok, `expected ${JSON.stringify(raw).slice(0, 200)} to be refused`);
  return check.reason;
}

describe('dashboard messages (host-side check)', () => {
  it('accepts every message of the protocol', () => {
    accepted({ type: 'ready' });
    assert.deepEqual(accepted({ type: 'load', runs: ['/w/outputs/a', '/w/outputs/a', '/w/outputs/b'] }), { type: 'load', runs: ['/w/outputs/a', '/w/outputs/b'] });
    for (const type of ['stop', 'resume', 'exportCsv', 'openOutput']) accepted({ type, run: '/w/outputs/a' });
    accepted({ type: 'savePng', chart: 'learning-rate', dataUrl: PNG });
    for (const type of ['reviewData', 'score']) accepted({ type, run: '/w/outputs/a' });
    assert.deepEqual(accepted({ type: 'openReview', run: '/w/outputs/a', dataset: 0, index: 17 }), { type: 'openReview', run: '/w/outputs/a', dataset: 0, index: 17 });
  });

  it('a record of the review is named by place, never by path', () => {
    assert.match(refused({ type: 'openReview', run: '/w/outputs/a', dataset: 0, index: 3, file: '/etc/passwd' }), /unexpected field "file"/);
    assert.match(refused({ type: 'openReview', run: '/w/outputs/a', dataset: '../x', index: 3 }), /whole numbers/);
    assert.match(refused({ type: 'openReview', run: '/w/outputs/a', dataset: 0, index: -1 }), /whole numbers/);
    assert.match(refused({ type: 'openReview', run: '/w/outputs/a', dataset: 0, index: 1.5 }), /whole numbers/);
    assert.match(refused({ type: 'score', run: '/w/outputs/a', checkpoint: 'final' }), /unexpected field "checkpoint"/);
  });

  it('refuses anything else, saying why', () => {
    assert.match(refused('ready'), /must be an object/);
    assert.match(refused({ type: 'runCommand', command: 'rm -rf' }), /unknown message type/);
    assert.match(refused({ type: 'ready', extra: 1 }), /unexpected field "extra"/);
    assert.match(refused({ type: 'stop' }), /run must be a run key/);
    assert.match(refused({ type: 'stop', run: 'x'.repeat(5000) }), /run must be a run key/);
    assert.match(refused({ type: 'load', runs: Array.from({ length: MAX_LOADED_RUNS + 1 }, (_, i) => `/r${i}`) }), /at most/);
    assert.match(refused({ type: 'load', runs: [1] }), /run keys/);
    assert.match(refused({ type: 'savePng', chart: '../../etc/passwd', dataUrl: PNG }), /chart id/);
    assert.match(refused({ type: 'savePng', chart: 'loss', dataUrl: 'data:text/html;base64,PHNjcmlwdD4=' }), /PNG data URL/);
    assert.match(refused({ type: 'resume', run: '/w/a', path: '/etc' }), /unexpected field "path"/);
  });

  it('a PNG is written only when its bytes are a PNG', () => {
    assert.deepEqual([...pngBytes(PNG)!.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    assert.equal(pngBytes('data:image/png;base64,' + Buffer.from('<svg/>').toString('base64')), undefined);
    assert.equal(pngBytes('data:image/png;base64,@@@@'), undefined);
  });
});

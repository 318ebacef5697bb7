import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardWebviewMessage, isOpenableLink } from '../../src/extension/pairEditor/webviewMessageGuard.ts';

function accepted(raw: unknown) {
  const result = guardWebviewMessage(raw);
  assert.ok(result.ok, `expected ${JSON.stringify(raw)} to be accepted: ${result.ok ? '' : result.reason}`);
  return result.message;
}

function refused(raw: unknown): string {
  const result = guardWebviewMessage(raw);
  assert.ok(!result.ok, `expected ${JSON.stringify(raw)} to be refused`);
  return result.reason;
}

describe('webview message guard', () => {
  it('accepts every message of the protocol', () => {
    accepted({ type: 'ready', index: 0 });
    accepted({ type: 'getRecords', requestId: 1, start: 10, end: 70 });
    accepted({ type: 'act', requestId: 2, index: 3, revision: 123456789, action: { kind: 'decide', preference: 'rejected' }, timeMs: 1500.5 });
    accepted({ type: 'act', requestId: 3, index: 3, revision: 1, action: { kind: 'chooseCandidates', ranking: [2, 0, 1] } });
    accepted({ type: 'act', requestId: 4, index: 3, revision: 1, action: { kind: 'editText', pointer: '/prompt/1/content', value: 'new' } });
    accepted({ type: 'act', requestId: 5, index: 3, revision: 1, action: { kind: 'editText', pointer: '/candidates/2/text', value: '' } });
    accepted({ type: 'search', requestId: 6, query: 'x', from: 0, step: -1 });
    accepted({ type: 'current', index: 99 });
    accepted({ type: 'openLink', url: 'https://example.com' });
    accepted({ type: 'runCommand', command: 'exportPairs' });
  });

  it('refuses unknown types, extra fields and wrong shapes', () => {
    assert.match(refused(null), /object/);
    assert.match(refused({ type: 'deleteFile', path: '/' }), /unknown message type/);
    assert.match(refused({ type: 'ready', index: 0, evil: true }), /unexpected field "evil"/);
    assert.match(refused({ type: 'ready', index: -1 }), /index/);
    assert.match(refused({ type: 'ready', index: 1.5 }), /index/);
    assert.match(refused({ type: 'getRecords', requestId: 1, start: 0, end: 5000 }), /0 to 200 records/);
    assert.match(refused({ type: 'getRecords', requestId: 1, start: 10, end: 5 }), /records/);
    assert.match(refused({ type: 'runCommand', command: 'workbench.action.terminal.new' }), /unknown command/);
    assert.match(refused({ type: 'search', requestId: 1, query: 'x', from: 0, step: 2 }), /step/);
  });

  it('refuses actions that could write outside the record texts', () => {
    const act = (action: unknown, extra: object = {}) => ({ type: 'act', requestId: 1, index: 0, revision: 1, action, ...extra });
    assert.match(refused(act({ kind: 'editText', pointer: '/decision', value: 'x' })), /not an editable field/);
    assert.match(refused(act({ kind: 'editText', pointer: '/chosen/../../x', value: 'x' })), /not an editable field/);
    assert.match(refused(act({ kind: 'editText', pointer: '/chosen', value: 5 })), /must be a string/);
    assert.match(refused(act({ kind: 'decide', preference: 'left' })), /preference/);
    assert.match(refused(act({ kind: 'chooseCandidates', best: 0, worst: 1, ranking: [0, 1] })), /not both/);
    assert.match(refused(act({ kind: 'chooseCandidates', best: 'first', worst: 1 })), /best/);
    assert.match(refused(act({ kind: 'swap', preference: 'x' })), /unexpected field/);
    assert.match(refused(act({ kind: 'decide', preference: 'tie' }, { timeMs: -1 })), /timeMs/);
    assert.match(refused(act({ kind: 'decide', preference: 'tie' }, { timeMs: Infinity })), /timeMs/);
    assert.match(refused(act({ kind: 'note', note: 'x'.repeat(5_000_001) })), /longer than/);
  });

  it('opens only plain web links', () => {
    assert.equal(isOpenableLink('https://huggingface.co/docs/trl'), true);
    assert.equal(isOpenableLink('http://example.com/a?b=c'), true);
    for (const bad of ['javascript:alert(1)', 'file:///etc/passwd', 'command:workbench.action.terminal.new', 'vscode://x', 'https://user:pw@example.com', 'not a url', '']) {
      assert.equal(isOpenableLink(bad), false, bad);
    }
  });
});

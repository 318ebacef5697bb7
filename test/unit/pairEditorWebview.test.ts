// The webview's pure parts, run in Node: Markdown safety, word diff, blind sides, keys.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PairRecordView } from '../../src/core/pairEditor/recordView.ts';
import { commandForKey } from '../../webview/editor/keyboard.ts';
import { renderMarkdown } from '../../webview/editor/markdown.ts';
import { pairSides } from '../../webview/editor/sides.ts';
import { wordDiffSegments } from '../../webview/editor/wordDiff.ts';

describe('markdown rendering', () => {
  it('shows raw HTML as text: no script, image or handler can come from a record', () => {
    const html = renderMarkdown('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n<a href="javascript:alert(3)">x</a>');
    assert.doesNotMatch(html, /<script|<img|<a /i);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /&lt;img src=x onerror=&quot;alert\(2\)&quot;&gt;/);
  });

  it('never loads images: they show as their description', () => {
    const html = renderMarkdown('![chart](https://evil.example/pixel.png)');
    assert.doesNotMatch(html, /<img/);
    assert.match(html, /\[image: chart\]/);
  });

  it('keeps only http(s) links, and the webview never follows them itself', () => {
    const html = renderMarkdown('[docs](https://huggingface.co/docs) [bad](javascript:alert(1)) [file](file:///etc/passwd)');
    assert.match(html, /<a href="#" data-href="https:\/\/huggingface.co\/docs"/);
    assert.doesNotMatch(html, /href="(javascript|file):/);
    assert.equal((html.match(/<a /g) ?? []).length, 1);
  });

  it('renders code blocks escaped', () => {
    const html = renderMarkdown('```html\n<b onclick="x()">hi</b>\n```');
    assert.match(html, /<pre><code class="language-html">&lt;b onclick=&quot;x\(\)&quot;&gt;hi&lt;\/b&gt;/);
  });
});

describe('word diff', () => {
  it('marks the words only one side has, and each side joins back to its own text', () => {
    const left = 'The capital of France is Paris.';
    const right = 'The capital of France is Lyon, I think.';
    const diff = wordDiffSegments(left, right)!;
    assert.equal(diff.left.map((s) => s.text).join(''), left);
    assert.equal(diff.right.map((s) => s.text).join(''), right);
    assert.deepEqual(diff.left.filter((s) => s.changed).map((s) => s.text.trim()).filter(Boolean), ['Paris']);
    assert.ok(diff.right.some((s) => s.changed && s.text.includes('Lyon')));
  });
});

describe('blind sides', () => {
  const record = (index: number): PairRecordView => ({
    kind: 'pair',
    format: 'standard',
    index,
    line: index + 1,
    revision: 1,
    problems: [],
    prompt: { text: 'p', length: 1 },
    chosen: { text: 'good', length: 4 },
    rejected: { text: 'bad', length: 3 },
  });

  it('shows chosen on the left unless blind', () => {
    for (let i = 0; i < 20; i++) assert.deepEqual(pairSides(record(i), false, 99).map((s) => s.stored), ['chosen', 'rejected']);
  });

  it('in blind mode a pick names the field that holds the answer shown on that side', () => {
    let swapped = 0;
    for (let i = 0; i < 50; i++) {
      const [left, right] = pairSides(record(i), true, 12345);
      assert.equal(left.field.text, left.stored === 'chosen' ? 'good' : 'bad');
      assert.equal(right.field.text, right.stored === 'chosen' ? 'good' : 'bad');
      assert.notEqual(left.stored, right.stored);
      if (left.stored === 'rejected') swapped++;
      assert.deepEqual(pairSides(record(i), true, 12345), [left, right], 'the order stays when the labeler comes back');
    }
    assert.ok(swapped > 10 && swapped < 40, `some but not all pairs shown swapped (${swapped} of 50)`);
  });
});

describe('keys', () => {
  const key = (k: string, mods: Partial<KeyboardEvent> = {}) => commandForKey({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...mods } as KeyboardEvent);

  it('maps the labeling keys, letters in either case, and leaves modified keys to VS Code', () => {
    assert.equal(key('ArrowLeft'), 'chooseLeft');
    assert.equal(key('ArrowRight'), 'chooseRight');
    assert.deepEqual(key('2'), { pick: 1 });
    assert.equal(key('j'), 'next');
    assert.equal(key('K'), 'previous');
    assert.equal(key('t'), 'tie');
    assert.equal(key('/'), 'search');
    assert.equal(key('z', { ctrlKey: true }), undefined, 'Ctrl+Z is VS Code undo');
    assert.equal(key('s', { metaKey: true }), undefined);
    assert.equal(key('q'), undefined);
  });
});

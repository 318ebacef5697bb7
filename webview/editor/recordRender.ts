import { signed } from '../shared/format.ts';
import type { CandidatesRecordView, InvalidRecordView, PairRecordView, ProblemView, RecordView, TextField } from '../../src/protocol/pairEditorMessages.ts';
import { chars, h, trustedHtml } from './dom.ts';
import { escapeHtml, renderMarkdown } from './markdown.ts';
import { candidateOrder, pairSides, type ShownAnswer } from './sides.ts';
import { wordDiffSegments, type DiffSegment } from './wordDiff.ts';

export interface RenderOptions {
  count: number;
  blind: boolean;
  diff: boolean;
  seed: number;
  /** Candidates picked so far for the record on screen (best first). */
  picks: readonly number[];
  rankMode: boolean;
  /** A model review is on: show each record's score. */
  reviewing: boolean;
}

/** Builds the DOM of one record. Dataset text only ever enters as text or sanitised Markdown. */
export function renderRecord(record: RecordView, options: RenderOptions): HTMLElement {
  const article = h('article', { class: `record record-${record.kind}`, 'data-index': record.index, 'aria-label': `Record ${record.index + 1} of ${options.count}` });
  article.append(metaLine(record, options), problemList(record.problems, record.row));
  if (options.reviewing && record.review) article.append(reviewStrip(record, options));
  if (record.kind === 'pair') article.append(...pairBody(record, options));
  else if (record.kind === 'candidates') article.append(...candidatesBody(record, options));
  else article.append(invalidBody(record));
  if (record.kind !== 'invalid' && record.note !== undefined) {
    article.append(h('p', { class: 'note-line' }, h('span', { class: 'label' }, 'Note: '), record.note));
  }
  return article;
}

function metaLine(record: RecordView, options: RenderOptions): HTMLElement {
  const parts: Array<string | HTMLElement> = [`Record ${record.index + 1} of ${options.count.toLocaleString('en-US')}`, record.row !== undefined ? h('span', { class: 'row-number' }, `row ${record.row}`) : `line ${record.line}`];
  if (record.kind !== 'invalid') {
    if (record.id !== undefined) parts.push(`id ${record.id}`);
    // A read-only table has no labels to show: its other columns (scores, sources) instead.
    if (record.row === undefined) parts.push(h('span', { class: `label-state ${labelState(record) ? 'labeled' : 'unlabeled'}` }, labelState(record) ?? 'not labeled'));
    if (record.annotator) parts.push(`by ${record.annotator}`);
    if (record.timeMs !== undefined) parts.push(`${(record.timeMs / 1000).toFixed(1)} s`);
  } else {
    parts.push(h('span', { class: 'label-state invalid' }, 'invalid record'));
  }
  for (const extra of record.extras ?? []) parts.push(h('span', { class: 'extra-column', 'data-column': extra.name }, `${extra.name}: ${extra.value.length > 120 ? `${extra.value.slice(0, 120)}…` : extra.value}`));
  const line = h('p', { class: 'record-meta' });
  parts.forEach((part, i) => {
    if (i > 0) line.append(' · ');
    line.append(part);
  });
  return line;
}

/**
 * What the model's score says of the record on screen. A stale score is never shown as
 * current: only as what it was. In blind mode the verdict would give the stored order away.
 */
function reviewStrip(record: RecordView, options: RenderOptions): HTMLElement {
  const mark = record.review!;
  const strip = (state: string, ...children: Array<string | HTMLElement>) => h('p', { class: `review-strip ${state}`, 'data-review': state, role: 'note' }, ...children);
  if (options.blind) return strip('hidden', 'Model review hidden in blind mode.');
  switch (mark.state) {
    case 'unscored':
      return strip('unscored', 'Not scored by the model (a record with errors, or added since).');
    case 'stale':
      return strip('stale', h('strong', {}, 'Score stale: '), `the record changed since the model scored it${mark.was !== undefined ? ` (margin was ${signed(mark.was)})` : ''}. Run "Review with Model" again to score it.`);
    case 'swapped':
    case 'current':
      if (mark.kind === 'candidates') {
        const best = mark.ranking[0]! + 1;
        const worst = mark.ranking[mark.ranking.length - 1]! + 1;
        return strip('suggestion', h('strong', {}, 'Model suggests: '), `candidate ${best} best, candidate ${worst} worst (by implicit reward). A suggestion until you confirm: `, h('kbd', {}, 'A'), ' accepts it.');
      }
      if (mark.agrees)
        return strip('agrees', h('strong', {}, 'Model agrees'), ` · margin ${signed(mark.margin)} (chosen ${signed(mark.chosenReward)}, rejected ${signed(mark.rejectedReward)})${mark.state === 'swapped' ? ' · swapped since scoring' : ''}`);
      return strip(
        'disagrees',
        h('strong', {}, 'Model disagrees'),
        ` · margin ${signed(mark.margin)}: it prefers the rejected answer${mark.state === 'swapped' ? ' (swapped since scoring)' : ''}. `,
        h('kbd', {}, 'A'),
        ' swaps chosen and rejected as the model suggests.',
      );
  }
}

function labelState(record: PairRecordView | CandidatesRecordView): string | undefined {
  if (record.kind === 'pair') {
    if (record.decision === 'tie') return 'labeled: tie';
    return record.decision !== undefined ? 'labeled' : undefined;
  }
  if (record.ranking) return 'labeled: ranked';
  return record.best !== undefined || record.worst !== undefined ? 'labeled: best and worst' : undefined;
}

function problemList(problems: readonly ProblemView[], row?: number): HTMLElement | string {
  if (problems.length === 0) return '';
  const list = h('ul', { class: 'problems', 'aria-label': `${problems.length} ${problems.length === 1 ? 'problem' : 'problems'} in this record` });
  for (const p of problems) {
    list.append(
      h(
        'li',
        { class: `problem ${p.severity}`, 'data-code': p.code },
        h('span', { class: 'severity' }, p.severity === 'error' ? 'Error' : p.severity === 'warning' ? 'Warning' : 'Info'),
        ` ${p.message} `,
        h('span', { class: 'code' }, row === undefined ? `[${p.code}${p.pointer ? ` ${p.pointer}` : ''}] line ${p.line}, column ${p.column}` : `[${p.code}] row ${row}${p.pointer ? `, column "${p.pointer.slice(1).split('/')[0]}"` : ''}`),
      ),
    );
  }
  return list;
}

/** One editable unit: a whole field, or one chat turn. */
function textUnit(text: string, pointer: string | undefined, editValue: string | undefined, role: string | undefined, body: HTMLElement, editLabel: string): HTMLElement {
  const head = h('div', { class: 'unit-head' });
  if (role) head.append(h('span', { class: 'role' }, role));
  if (pointer) {
    head.append(h('vscode-button', { class: 'edit-button', secondary: true, 'data-action': 'edit', 'aria-label': `Edit ${editLabel}` }, 'Edit'));
  }
  const unit = h('div', { class: 'unit', ...(pointer ? { 'data-pointer': pointer } : {}) }, head, body);
  if (pointer) (unit as HTMLElement & { editValue?: string }).editValue = editValue ?? text;
  return unit;
}

function fieldUnits(field: TextField, what: string): HTMLElement[] {
  if (field.turns) {
    return field.turns.map((turn, i) => textUnit(turn.content, turn.pointer, undefined, turn.role, markdown(turn.content), `${what}, turn ${i + 1}`));
  }
  return [textUnit(field.text, field.pointer, field.editValue, undefined, markdown(field.text), what)];
}

function markdown(text: string): HTMLElement {
  return text.trim() ? trustedHtml('div', 'markdown', renderMarkdown(text)) : h('p', { class: 'empty-text' }, '(empty)');
}

function diffBody(segments: DiffSegment[]): HTMLElement {
  return trustedHtml('div', 'diff-text', segments.map((s) => (s.changed ? `<mark class="diff-changed">${escapeHtml(s.text)}</mark>` : escapeHtml(s.text))).join(''));
}

function promptSection(field: TextField): HTMLElement {
  return h('section', { class: 'prompt', 'aria-label': 'Prompt' }, h('h2', {}, 'Prompt', h('span', { class: 'length' }, chars(field.length))), ...fieldUnits(field, 'the prompt'));
}

function pairBody(record: PairRecordView, options: RenderOptions): HTMLElement[] {
  const sides = pairSides(record, options.blind, options.seed);
  const diff = options.diff ? wordDiffSegments(sides[0].field.text, sides[1].field.text) : undefined;
  const answers = h('div', { class: 'answers' });
  sides.forEach((side, i) => answers.append(answerSection(record, side, i as 0 | 1, options, diff ? (i === 0 ? diff.left : diff.right) : undefined)));
  const out = [promptSection(record.prompt), answers];
  if (options.diff && !diff) out.push(h('p', { class: 'hint' }, 'The answers are too different or too long to compare word by word.'));
  return out;
}

function answerSection(record: PairRecordView, side: ShownAnswer, position: 0 | 1, options: RenderOptions, diff: DiffSegment[] | undefined): HTMLElement {
  const letter = position === 0 ? 'A' : 'B';
  const where = position === 0 ? 'left' : 'right';
  const name = options.blind ? `Answer ${letter}` : side.stored === 'chosen' ? 'Chosen' : 'Rejected';
  const picked = record.decision === 'chosen' && side.stored === 'chosen';
  const tie = record.decision === 'tie';
  const heading = h(
    'h2',
    {},
    `${name} `,
    h('kbd', { 'aria-hidden': 'true' }, String(position + 1)),
    picked ? h('span', { class: 'picked-badge' }, options.blind ? 'your pick' : 'confirmed') : '',
    tie ? h('span', { class: 'picked-badge tie' }, 'tie') : '',
    h('span', { class: 'length' }, chars(side.field.length)),
  );
  const section = h('section', {
    class: `answer ${where}${picked ? ' picked' : ''}`,
    'data-side': where,
    tabindex: 0,
    'aria-label': `${where === 'left' ? 'Left' : 'Right'} answer, ${name}, ${chars(side.field.length)}${picked ? ', picked' : ''}`,
  });
  section.append(heading);
  if (diff) {
    const whole = side.field.turns ? undefined : side.field.pointer;
    section.append(textUnit(side.field.text, whole, side.field.editValue, undefined, diffBody(diff), `the ${where} answer`));
  } else {
    section.append(...fieldUnits(side.field, `the ${where} answer`));
  }
  return section;
}

function candidatesBody(record: CandidatesRecordView, options: RenderOptions): HTMLElement[] {
  const order = candidateOrder(record, options.blind, options.seed);
  const n = record.candidates.length;
  const instructions = options.rankMode
    ? `Rank the candidates: press their numbers from best to worst (${options.picks.length} of ${n} ranked). Backspace takes the last one back.`
    : options.picks.length === 0
      ? 'Pick the best candidate (its number), then the worst.'
      : 'Now pick the worst candidate. Backspace takes the best back.';
  const grid = h('div', { class: 'candidates' });
  order.forEach((candidateIndex, position) => grid.append(candidateCard(record, candidateIndex, position, options)));
  return [promptSection(record.prompt), h('p', { class: 'hint', role: 'note' }, instructions), grid];
}

function candidateCard(record: CandidatesRecordView, candidateIndex: number, position: number, options: RenderOptions): HTMLElement {
  const field = record.candidates[candidateIndex]!;
  const key = position + 1;
  const badges: string[] = [];
  const rank = record.ranking?.indexOf(candidateIndex) ?? -1;
  if (rank >= 0) badges.push(`rank ${rank + 1}`);
  if (record.best === candidateIndex) badges.push('best');
  if (record.worst === candidateIndex) badges.push('worst');
  const mark = options.reviewing && !options.blind && record.review?.state === 'current' && record.review.kind === 'candidates' ? record.review : undefined;
  if (mark && mark.ranking[0] === candidateIndex) badges.push('suggested best');
  if (mark && mark.ranking[mark.ranking.length - 1] === candidateIndex) badges.push('suggested worst');
  const pick = options.picks.indexOf(candidateIndex);
  const pickLabel = options.rankMode ? `Rank next` : options.picks.length === 0 ? 'Best' : 'Worst';
  const section = h(
    'section',
    { class: `candidate${pick >= 0 ? ' pending' : ''}${record.best === candidateIndex ? ' best' : ''}${record.worst === candidateIndex ? ' worst' : ''}`, 'data-candidate': candidateIndex, 'data-position': position, tabindex: 0, 'aria-label': `Candidate ${key}${badges.length ? `, ${badges.join(', ')}` : ''}, ${chars(field.length)}` },
    h(
      'h2',
      {},
      `Candidate ${key} `,
      key <= 9 ? h('kbd', { 'aria-hidden': 'true' }, String(key)) : '',
      ...badges.map((b) => h('span', { class: `picked-badge ${b.split(' ')[0]}` }, b)),
      mark ? h('span', { class: 'reward', title: 'implicit reward' }, `reward ${signed(mark.rewards[candidateIndex]!)}`) : '',
      pick >= 0 ? h('span', { class: 'picked-badge pending' }, options.rankMode ? `#${pick + 1}` : pick === 0 ? 'best (pending)' : 'worst (pending)') : '',
      h('span', { class: 'length' }, chars(field.length)),
    ),
    ...fieldUnits(field, `candidate ${key}`),
  );
  if (field.caption) section.append(h('p', { class: 'caption' }, field.caption));
  section.append(h('vscode-button', { class: 'pick-button', 'data-action': 'pick', 'data-position': position, disabled: pick >= 0, 'aria-label': `${pickLabel}: candidate ${key}` }, `${pickLabel} (${key})`));
  return section;
}

function invalidBody(record: InvalidRecordView): HTMLElement {
  return h(
    'section',
    { class: 'invalid', 'aria-label': 'Record source' },
    h('p', { class: 'hint' }, 'This record cannot be labeled until it is fixed. Its text:'),
    h('pre', { class: 'source' }, record.source + (record.truncated ? '\n…' : '')),
  );
}

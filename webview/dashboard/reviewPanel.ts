import { signed } from '../shared/format.ts';
import type { ReviewDataMessage, ReviewDatasetView } from '../../src/protocol/dashboardMessages.ts';
import { h } from './dom.ts';

/**
 * "Pairs to review" for the focused run: per scored dataset, how often the model agrees with
 * the labels, a histogram of its margins (left of zero: it disagrees), and the records it
 * disagrees with most, each opening the pair editor at that record in review mode.
 */
export class ReviewPanel {
  readonly element: HTMLElement;
  /** One line above the charts saying what the review found, with a way down to it. */
  readonly banner: HTMLElement;
  private readonly body: HTMLElement;

  constructor(
    private readonly onScore: (run: string) => void,
    private readonly onOpen: (run: string, dataset: number, index: number) => void,
  ) {
    this.body = h('div', { class: 'review-body' });
    this.element = h('section', { class: 'review', 'aria-label': 'Pairs to review', hidden: true }, h('h2', {}, 'Pairs to review'), this.body);
    this.banner = h('p', { class: 'review-banner', hidden: true });
  }

  show(review: ReviewDataMessage | undefined): void {
    this.element.hidden = review === undefined;
    this.banner.hidden = !review || review.datasets.length === 0;
    if (!review) return;
    const toReview = review.datasets.reduce((n, d) => n + d.pairs - d.agreeing, 0);
    const pairs = review.datasets.reduce((n, d) => n + d.pairs, 0);
    const jump = h('vscode-button', { class: 'review-jump', secondary: true }, 'Show pairs to review');
    jump.addEventListener('click', () => this.element.scrollIntoView({ behavior: 'smooth', block: 'start' }));
    this.banner.replaceChildren(`Model review (${review.checkpoint}): it disagrees with ${toReview} of ${pairs} labels`, ' ', jump);
    const scoreButton = h('vscode-button', { class: 'score-run', secondary: review.checkpoint !== null, disabled: !review.canScore || review.scoring }, review.scoring ? 'Scoring…' : review.checkpoint ? 'Score again' : 'Score the data with the model');
    scoreButton.addEventListener('click', () => !review.scoring && review.canScore && this.onScore(review.run));
    const intro =
      review.checkpoint === null
        ? h('p', { class: 'hint' }, 'The model has not scored this run’s data yet. Scoring shows which labels it disagrees with (likely mislabeled) and which it is unsure of (label these first).')
        : h('p', { class: 'hint' }, `Scores of ${review.checkpoint}: margin = chosen reward − rejected reward; below zero the model prefers the rejected answer.`);
    this.body.replaceChildren(h('div', { class: 'review-actions' }, intro, scoreButton), ...review.datasets.map((d, i) => this.dataset(review.run, d, i)));
  }

  private dataset(run: string, d: ReviewDatasetView, position: number): HTMLElement {
    const share = d.pairs ? `agrees with ${d.agreeing} of ${d.pairs} labels (${((100 * d.agreeing) / d.pairs).toFixed(1)}%)` : 'no pairs';
    const heading = h('h3', {}, d.label, h('span', { class: 'agreement', 'data-agreement': d.pairs ? (d.agreeing / d.pairs).toFixed(4) : '' }, ` · ${share}`), d.candidates ? ` · ${d.candidates} candidates records ranked` : '', d.changed ? h('span', { class: 'changed' }, ' · changed since scored') : '');
    const table = h('table', { class: 'review-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Record'), h('th', {}, 'Line'), h('th', {}, 'Margin'), h('th', {}, 'Prompt'))));
    const rows = h('tbody', {});
    for (const t of d.top) {
      const open = h('vscode-button', { class: 'open-record', secondary: true, disabled: !d.openable, 'aria-label': `Open record ${t.index + 1} in the pair editor` }, `#${t.index + 1}`);
      open.addEventListener('click', () => d.openable && this.onOpen(run, position, t.index));
      rows.append(h('tr', { 'data-index': t.index }, h('td', {}, open), h('td', {}, String(t.line)), h('td', { class: 'margin' }, signed(t.margin)), h('td', { class: 'prompt-preview' }, t.prompt)));
    }
    table.append(rows);
    const parts: HTMLElement[] = [heading, histogram(d)];
    parts.push(d.top.length ? table : h('p', { class: 'hint' }, 'The model agrees with every label.'));
    return h('div', { class: 'review-dataset' }, ...parts);
  }
}

function histogram(d: ReviewDatasetView): HTMLElement {
  const { edges, counts } = d.histogram;
  const most = Math.max(1, ...counts);
  const bars = h('div', { class: 'histogram', role: 'img', 'aria-label': `Margins of ${d.pairs} pairs from ${signed(edges[0] ?? 0)} to ${signed(edges[edges.length - 1] ?? 0)}: ${counts.filter((_, i) => edges[i + 1]! <= 0).reduce((a, b) => a + b, 0)} at or below zero` });
  counts.forEach((count, i) => {
    const bar = h('div', { class: `bar ${edges[i + 1]! <= 0 ? 'disagrees' : 'agrees'}`, title: `${signed(edges[i]!)} to ${signed(edges[i + 1]!)}: ${count}` });
    bar.style.height = `${(100 * count) / most}%`;
    bars.append(bar);
  });
  return h('figure', { class: 'margin-histogram' }, bars, h('figcaption', {}, `margin ${signed(edges[0] ?? 0)} … 0 … ${signed(edges[edges.length - 1] ?? 0)}`));
}

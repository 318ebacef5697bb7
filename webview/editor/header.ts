import type { DatasetSummary } from '../../src/protocol/pairEditorMessages.ts';
import { h } from './dom.ts';

/** Progress (labeled/total) and the dataset's statistics, length bias first among them. */
export function renderSummary(summary: DatasetSummary | undefined, labeled: number | undefined): HTMLElement {
  if (!summary) return h('div', { class: 'summary', role: 'status' }, 'Checking the file…');
  const { stats, total } = summary;
  const done = labeled ?? summary.labeled;
  const percent = total ? Math.round((done / total) * 100) : 0;
  const progress = h(
    'div',
    { class: 'progress', role: 'progressbar', 'aria-label': 'Labeled records', 'aria-valuemin': 0, 'aria-valuemax': total, 'aria-valuenow': done, 'aria-valuetext': `${done} of ${total} labeled` },
    h('div', { class: 'progress-fill', 'data-percent': percent }),
  );
  (progress.firstElementChild as HTMLElement).style.width = `${percent}%`;
  const parts: Array<HTMLElement | string> = [
    h('span', { class: 'progress-text', 'data-labeled': done, 'data-total': total }, `${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} labeled (${percent}%)`),
    progress,
  ];
  const facts: string[] = [];
  if (stats.pairs) facts.push(`${stats.pairs.toLocaleString('en-US')} pairs`);
  if (stats.candidateRecords) facts.push(`${stats.candidateRecords.toLocaleString('en-US')} candidates records`);
  if (stats.pairs) facts.push(`mean length: chosen ${Math.round(stats.meanChosenLength)}, rejected ${Math.round(stats.meanRejectedLength)}`);
  parts.push(h('span', { class: 'facts' }, facts.join(' · ')));
  if (stats.chosenLongerRate !== null) {
    const biased = summary.fileProblems.some((p) => p.code === 'length-bias');
    parts.push(
      h(
        'span',
        { class: `length-bias${biased ? ' warning' : ''}`, title: biased ? summary.fileProblems.find((p) => p.code === 'length-bias')!.message : 'Share of pairs whose chosen answer is the longer one' },
        `${biased ? '⚠ length bias: ' : ''}chosen is longer in ${Math.round(stats.chosenLongerRate * 100)}%`,
      ),
    );
  }
  parts.push(
    h('span', { class: 'problem-counts', 'data-errors': summary.errorCount, 'data-warnings': summary.warningCount }, `${summary.errorCount} errors, ${summary.warningCount} warnings in ${summary.recordsWithProblems} records`),
  );
  return h('div', { class: 'summary' }, ...parts);
}

import { REVIEW_ORDER_LABELS, REVIEW_ORDERS, type ReviewOrder } from '../../src/core/review/reviewOrder.ts';
import type { ReviewMessage } from '../../src/protocol/pairEditorMessages.ts';
import { h } from './dom.ts';

/**
 * The toolbar of a review with a model: which run and checkpoint scored the records, how often
 * it agrees with the labels, and the order to work through them in (file order, or one of the
 * review orders, each a list of records from the scores).
 */
export function reviewBar(review: ReviewMessage, order: ReviewOrder | null, onOrder: (order: ReviewOrder | null) => void): HTMLElement {
  const select = h('select', { class: 'review-order', 'aria-label': 'Review order (O)' }, h('option', { value: '' }, 'File order'));
  for (const o of REVIEW_ORDERS) select.append(h('option', { value: o }, `${REVIEW_ORDER_LABELS[o]} · ${review.orders[o].length}`));
  (select as HTMLSelectElement).value = order ?? '';
  select.addEventListener('change', () => onOrder(((select as HTMLSelectElement).value || null) as ReviewOrder | null));
  const parts = [
    ...(review.pairs ? [`agrees with ${review.agreeing} of ${review.pairs} labels (${((100 * review.agreeing) / review.pairs).toFixed(1)}%)`] : []),
    ...(review.candidates ? [`ranked the answers of ${review.candidates} candidates record${review.candidates === 1 ? '' : 's'}`] : []),
  ];
  const share = parts.join(' · ') || 'nothing scored';
  return h(
    'div',
    { class: 'review-bar', role: 'group', 'aria-label': 'Review with model' },
    h('span', { class: 'review-facts', title: `${review.lossType}, beta ${review.beta}` }, `Model review: ${review.label} · ${share}`),
    select,
  );
}

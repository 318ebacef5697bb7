import type { TableInfo } from '../../src/protocol/pairEditorMessages.ts';
import { h } from './dom.ts';

/**
 * The toolbar of a read-only table (Parquet): what the file holds, an order by a numeric column
 * (scores, ratings), and the way to label it: export rows to a JSON Lines file.
 */
export function tableBar(table: TableInfo, onSort: (column: string | null, descending: boolean) => void): HTMLElement {
  const sort = h('select', { class: 'sort', 'aria-label': 'Order records by' }, h('option', { value: '' }, 'File order'));
  for (const column of table.numericColumns) {
    sort.append(h('option', { value: `${column}:desc` }, `${column}, highest first`), h('option', { value: `${column}:asc` }, `${column}, lowest first`));
  }
  sort.disabled = table.numericColumns.length === 0;
  sort.title = table.numericColumns.length ? 'Order the records by a numeric column' : 'This file has no numeric column to order by';
  sort.addEventListener('change', () => {
    const value = (sort as HTMLSelectElement).value;
    if (!value) return onSort(null, false);
    const at = value.lastIndexOf(':');
    onSort(value.slice(0, at), value.slice(at + 1) === 'desc');
  });
  const facts = [`Parquet, read-only`, `${table.rows.toLocaleString('en-US')} rows in ${table.rowGroups.toLocaleString('en-US')} row group${table.rowGroups === 1 ? '' : 's'}`];
  if (table.mapping) facts.push(`columns ${table.mapping}`);
  return h(
    'div',
    { class: 'table-bar', role: 'group', 'aria-label': 'Parquet file' },
    h('span', { class: 'table-facts', title: `Columns: ${table.columns.join(', ')}` }, facts.join(' · ')),
    sort,
    h('vscode-button', { 'data-host-command': 'exportJsonl', 'aria-label': 'Export rows to a JSON Lines file to label' }, 'Export to JSONL to label'),
  );
}

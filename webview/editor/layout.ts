import { COMMANDS, keyHint, type Command } from './keyboard.ts';
import { h } from './dom.ts';

export interface Layout {
  root: HTMLElement;
  title: HTMLElement;
  summary: HTMLElement;
  filter: HTMLSelectElement;
  blind: HTMLElement & { checked: boolean };
  diff: HTMLElement & { checked: boolean };
  record: HTMLElement;
  form: HTMLElement;
  status: HTMLElement;
  help: HTMLElement;
}

const ACTION_ROWS: Command[][] = [
  ['chooseLeft', 'chooseRight', 'tie', 'swap', 'acceptSuggestion', 'toggleRankMode', 'undoPick', 'clearLabel'],
  ['previous', 'next', 'skip', 'nextUnlabeled', 'search', 'goTo', 'edit', 'note', 'help'],
];

export function commandButton(command: Command, extraClass = ''): HTMLElement {
  const info = COMMANDS[command];
  return h(
    'vscode-button',
    {
      class: `command for-${info.for} ${extraClass}`.trim(),
      'data-command': command,
      secondary: !['chooseLeft', 'chooseRight', 'tie'].includes(command),
      'aria-label': `${info.label} (${keyHint(command)})`,
      'aria-keyshortcuts': info.keys.join(' '),
    },
    `${info.label} `,
    h('kbd', { 'aria-hidden': 'true' }, keyHint(command)),
  );
}

/** The editor's fixed frame: toolbar, summary, the record, the actions, status and help. */
export function buildLayout(app: HTMLElement): Layout {
  const title = h('h1', { class: 'file-name' }, 'Pair editor');
  const filter = h(
    'select',
    { class: 'filter', 'aria-label': `Show records (${keyHint('cycleFilter')})`, 'data-command-select': 'filter' },
    h('option', { value: 'all' }, 'All records'),
    h('option', { value: 'unlabeled' }, 'Unlabeled'),
    h('option', { value: 'problems' }, 'With problems'),
  );
  const blind = h('vscode-checkbox', { class: 'toggle', 'data-command': 'toggleBlind', label: `Blind (${keyHint('toggleBlind')})`, 'aria-keyshortcuts': 'B' }) as Layout['blind'];
  const diff = h('vscode-checkbox', { class: 'toggle', 'data-command': 'toggleDiff', label: `Word diff (${keyHint('toggleDiff')})`, 'aria-keyshortcuts': 'D' }) as Layout['diff'];
  const toolbar = h(
    'header',
    { class: 'toolbar', role: 'toolbar', 'aria-label': 'Pair editor' },
    title,
    filter,
    blind,
    diff,
    h('vscode-button', { secondary: true, 'data-host-command': 'showText', 'aria-label': 'Show this record in the text editor' }, 'Text view'),
    h('vscode-button', { secondary: true, 'data-host-command': 'exportPairs', 'aria-label': 'Export labeled candidates as preference pairs' }, 'Export pairs'),
  );
  const summary = h('div', { class: 'summary-slot' });
  const record = h('main', { class: 'record-slot', tabindex: -1, 'aria-live': 'off' });
  const actions = h('footer', { class: 'actions', role: 'toolbar', 'aria-label': 'Labeling actions' });
  for (const row of ACTION_ROWS) actions.append(h('div', { class: 'action-row' }, ...row.map((c) => commandButton(c))));
  const form = h('div', { class: 'form-slot' });
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const help = h('section', { class: 'help', hidden: true, 'aria-label': 'Keyboard shortcuts' }, h('h2', {}, 'Keys'), keyTable());
  app.replaceChildren(toolbar, summary, record, form, actions, status, help);
  return { root: app, title, summary, filter, blind, diff, record, form, status, help };
}

function keyTable(): HTMLElement {
  const list = h('dl', { class: 'key-table' });
  for (const [command, info] of Object.entries(COMMANDS) as Array<[Command, (typeof COMMANDS)[Command]]>) {
    list.append(h('dt', {}, keyHint(command)), h('dd', {}, info.label + (info.for === 'all' ? '' : ` (${info.for === 'pair' ? 'pairs' : 'candidates'})`)));
  }
  list.append(h('dt', {}, '1 … 9'), h('dd', {}, 'Pick a candidate (best first)'));
  list.append(h('dt', {}, 'Ctrl+Z / Ctrl+S'), h('dd', {}, 'Undo / save (VS Code)'));
  return list;
}

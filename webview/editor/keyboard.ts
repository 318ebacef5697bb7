/** Every labeling command, each bound to keys and to a visible button. */
export type Command =
  | 'chooseLeft'
  | 'chooseRight'
  | 'tie'
  | 'swap'
  | 'skip'
  | 'next'
  | 'previous'
  | 'nextUnlabeled'
  | 'edit'
  | 'note'
  | 'search'
  | 'goTo'
  | 'clearLabel'
  | 'toggleBlind'
  | 'toggleDiff'
  | 'cycleFilter'
  | 'toggleRankMode'
  | 'undoPick'
  | 'clearPicks'
  | 'acceptSuggestion'
  | 'cycleReviewOrder'
  | 'help';

export interface CommandInfo {
  label: string;
  /** Keys as shown on the button and announced (aria-keyshortcuts names). */
  keys: string[];
  /** Which records the command applies to. */
  for: 'pair' | 'candidates' | 'all';
}

export const COMMANDS: Record<Command, CommandInfo> = {
  chooseLeft: { label: 'Choose left', keys: ['1', 'ArrowLeft'], for: 'pair' },
  chooseRight: { label: 'Choose right', keys: ['2', 'ArrowRight'], for: 'pair' },
  tie: { label: 'Tie', keys: ['T'], for: 'pair' },
  swap: { label: 'Swap', keys: ['W'], for: 'pair' },
  skip: { label: 'Skip', keys: ['S'], for: 'all' },
  previous: { label: 'Previous', keys: ['K'], for: 'all' },
  next: { label: 'Next', keys: ['J'], for: 'all' },
  nextUnlabeled: { label: 'Next unlabeled', keys: ['N'], for: 'all' },
  edit: { label: 'Edit', keys: ['E'], for: 'all' },
  note: { label: 'Note', keys: ['M'], for: 'all' },
  search: { label: 'Search', keys: ['/'], for: 'all' },
  goTo: { label: 'Go to', keys: ['G'], for: 'all' },
  clearLabel: { label: 'Clear label', keys: ['U'], for: 'all' },
  toggleRankMode: { label: 'Rank all', keys: ['R'], for: 'candidates' },
  undoPick: { label: 'Undo pick', keys: ['Backspace'], for: 'candidates' },
  clearPicks: { label: 'Clear picks', keys: ['Escape'], for: 'candidates' },
  toggleBlind: { label: 'Blind', keys: ['B'], for: 'all' },
  toggleDiff: { label: 'Diff', keys: ['D'], for: 'all' },
  cycleFilter: { label: 'Filter', keys: ['F'], for: 'all' },
  acceptSuggestion: { label: "Accept model's suggestion", keys: ['A'], for: 'all' },
  cycleReviewOrder: { label: 'Review order', keys: ['O'], for: 'all' },
  help: { label: 'Keys', keys: ['?'], for: 'all' },
};

const BY_KEY = new Map<string, Command>();
for (const [command, info] of Object.entries(COMMANDS) as Array<[Command, CommandInfo]>) {
  for (const key of info.keys) BY_KEY.set(key.length === 1 ? key.toLowerCase() : key, command);
}

/** The command a keypress asks for, or a candidate number (1-9); undefined for anything else. */
export function commandForKey(event: KeyboardEvent): Command | { pick: number } | undefined {
  if (event.ctrlKey || event.metaKey || event.altKey) return undefined;
  if (/^[1-9]$/.test(event.key)) return { pick: Number(event.key) - 1 };
  return BY_KEY.get(event.key.length === 1 ? event.key.toLowerCase() : event.key);
}

/** Typing in a text box must never label a record. */
export function isTypingTarget(event: Event): boolean {
  for (const el of event.composedPath()) {
    if (!(el instanceof HTMLElement)) continue;
    const tag = el.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || tag === 'VSCODE-TEXTAREA' || tag === 'VSCODE-TEXTFIELD' || el.isContentEditable) return true;
  }
  return false;
}

export function keyHint(command: Command): string {
  return COMMANDS[command].keys.map((k) => (k === 'ArrowLeft' ? '←' : k === 'ArrowRight' ? '→' : k === 'Backspace' ? '⌫' : k === 'Escape' ? 'Esc' : k)).join(' / ');
}

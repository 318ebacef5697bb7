import { nextMatching, nextUnlabeled, RECORD_FILTERS, matchesFilter, type RecordFilter } from '../../src/core/pairEditor/recordFlags.ts';
import type { DatasetSummary, HostToWebview, RecordAction, RecordView, ReviewMessage, ReviewOrder } from '../../src/protocol/pairEditorMessages.ts';
import { REVIEW_ORDER_LABELS, REVIEW_ORDERS } from '../../src/core/review/reviewOrder.ts';
import { reviewBar } from './reviewBar.ts';
import { inlineForm } from './forms.ts';
import { renderSummary } from './header.ts';
import { HostBridge } from './hostBridge.ts';
import { commandForKey, isTypingTarget, type Command } from './keyboard.ts';
import { buildLayout, type Layout } from './layout.ts';
import { markOpened, markPhase, markRecordShown } from './perf.ts';
import { renderRecord } from './recordRender.ts';
import { tableBar } from './tableBar.ts';
import { isLabeledView, RecordStore } from './recordStore.ts';
import { candidateOrder, pairSides } from './sides.ts';
import { restoreViewState, type ViewState } from './viewState.ts';

type KeyInput = { key: string; timeStamp: number };

/** What a read-only table allows: moving, finding and changing how records are shown. */
const READ_ONLY_COMMANDS = new Set<Command>(['previous', 'next', 'search', 'goTo', 'help', 'toggleBlind', 'toggleDiff', 'cycleFilter', 'cycleReviewOrder']);

/**
 * The pair editor's webview: shows one record at a time from a window of records held locally,
 * turns keys and buttons into labeling actions for the host, and keeps its place (record, blind
 * mode, filter) across being hidden.
 */
export class PairEditorApp {
  private readonly ui: Layout;
  private readonly bridge: HostBridge;
  private readonly store: RecordStore;
  private readonly state: ViewState;
  private summary: DatasetSummary | undefined;
  private count = 0;
  /** What is on screen: which record, as what JSON (to tell whether an update changes it). */
  private shown: { index: number; json: string } | undefined;
  private shownAt = performance.now();
  /** Candidates picked so far on the record on screen (candidate indices, best first). */
  private picks: number[] = [];
  private editing = false;
  /** Set for a read-only table: what to say when a key would change a record. */
  private readOnly: string | undefined;
  /** A model review: its scores' orders, and the one the labeler works in (null: file order). */
  private review: { message: ReviewMessage; order: ReviewOrder | null; bar: HTMLElement } | undefined;

  constructor(app: HTMLElement) {
    this.ui = buildLayout(app);
    this.bridge = new HostBridge((m) => this.onHostMessage(m));
    this.state = restoreViewState(this.bridge.getState());
    this.store = new RecordStore(this.bridge, (records) => this.onRecordsArrived(records));
    this.syncToggles();
    window.addEventListener('keydown', (e) => this.onKeyDown(e));
    app.addEventListener('click', (e) => this.onClick(e));
    this.ui.filter.addEventListener('change', () => this.setFilter(this.ui.filter.value as RecordFilter));
    for (const toggle of [this.ui.blind, this.ui.diff]) toggle.addEventListener('change', () => this.setToggles());
    this.bridge.connect({ type: 'ready', index: this.state.index });
    markPhase('connected');
  }

  // ---- host messages ----

  private onHostMessage(message: HostToWebview): void {
    switch (message.type) {
      case 'init':
        markPhase('initReceived');
        markOpened(message.openedAt);
        this.count = message.count;
        this.store.reset(message.count, message.records);
        this.ui.title.textContent = message.fileName;
        if (message.table && !this.ui.root.classList.contains('read-only')) {
          this.ui.root.classList.add('read-only');
          this.readOnly = 'This Parquet file is read-only: "Export to JSONL to label" writes its rows to a .pairs.jsonl file to label.';
          this.ui.root.querySelector('.toolbar')!.after(tableBar(message.table, (column, descending) => {
              // A new order starts at its top (the highest score, when that is the order).
              this.state.index = 0;
              this.bridge.send({ type: 'sortBy', column, descending });
            }),);
        }
        this.state.index = message.index;
        this.ui.root.dataset.state = 'ready';
        this.renderSummary();
        this.renderCurrent();
        return;
      case 'changed': {
        const countChanged = message.count !== this.count;
        this.count = message.count;
        this.store.applyChanged(message.count, message.records);
        this.renderSummary();
        if (countChanged || message.records.some((r) => r.index === this.state.index)) this.renderCurrent();
        return;
      }
      case 'reset':
        this.count = message.count;
        this.store.reset(message.count);
        this.renderCurrent();
        return;
      case 'summary': {
        const problemsMoved = this.summary?.problemFlags !== message.summary.problemFlags;
        this.summary = message.summary;
        this.store.setFlags(message.summary.total, message.summary.labeledFlags, message.summary.problemFlags);
        this.renderSummary();
        // Problems found across records (duplicates, contradictions) are new to the held views.
        if (problemsMoved) this.store.ensureAround(this.state.index, this.state.filter, true);
        return;
      }
      case 'goTo':
        this.show(message.index);
        return;
      case 'review':
        this.startReview(message);
        return;
      default:
        return;
    }
  }

  private onRecordsArrived(records: RecordView[]): void {
    if (this.count !== this.store.count) this.count = this.store.count;
    const current = records.find((r) => r.index === this.state.index);
    if (current && (!this.shown || this.shown.index !== current.index || this.shown.json !== JSON.stringify(current))) this.renderCurrent();
  }

  // ---- rendering ----

  private renderSummary(): void {
    const labeled = this.store.flags ? this.store.flags.labeled.countSet() : undefined;
    this.ui.summary.replaceChildren(renderSummary(this.summary, labeled));
  }

  private renderCurrent(input?: KeyInput): void {
    if (this.editing) return;
    if (this.count === 0) {
      this.shown = undefined;
      this.ui.record.replaceChildren(Object.assign(document.createElement('p'), { className: 'empty', textContent: 'This file has no records.' }));
      return;
    }
    this.state.index = Math.min(Math.max(this.state.index, 0), this.count - 1);
    const index = this.state.index;
    const record = this.store.get(index);
    if (!record) {
      this.ui.record.replaceChildren(Object.assign(document.createElement('p'), { className: 'loading', textContent: `Loading record ${index + 1}…` }));
      void this.store.load(index).then(
        () => {
          if (this.state.index === index && this.store.get(index)) this.renderCurrent(input);
        },
        () => {
          if (this.state.index !== index) return;
          this.ui.record.replaceChildren(
            Object.assign(document.createElement('p'), { className: 'empty', role: 'alert', textContent: `Record ${index + 1} did not arrive from VS Code. Move to another record and back to try again.` }),
          );
        },
      );
      return;
    }
    const changedRecord = this.shown?.index !== index;
    if (changedRecord) {
      this.picks = [];
      this.shownAt = performance.now();
    }
    const hadFocus = this.ui.record.contains(document.activeElement) ? (document.activeElement as HTMLElement).closest('[data-side],[data-candidate]') : null;
    const focusKey = hadFocus ? (hadFocus.getAttribute('data-side') ?? hadFocus.getAttribute('data-candidate')) : null;
    this.ui.record.replaceChildren(renderRecord(record, { count: this.count, blind: this.state.blind, diff: this.state.diff, seed: this.state.seed, picks: this.picks, rankMode: this.state.rankMode, reviewing: this.review !== undefined }));
    this.ui.root.dataset.kind = record.kind;
    this.shown = { index, json: JSON.stringify(record) };
    if (focusKey !== null) (this.ui.record.querySelector(`[data-side="${focusKey}"],[data-candidate="${focusKey}"]`) as HTMLElement | null)?.focus();
    markRecordShown(input);
    if (changedRecord) {
      this.saveState();
      this.bridge.send({ type: 'current', index });
    }
    this.store.ensureAround(index, this.state.filter);
  }

  private show(index: number, input?: KeyInput): void {
    if (index < 0 || index >= this.count) return;
    this.state.index = index;
    this.renderCurrent(input);
  }

  private say(text: string): void {
    this.ui.status.textContent = text;
  }

  private saveState(): void {
    this.bridge.setState(this.state);
  }

  private syncToggles(): void {
    this.ui.blind.checked = this.state.blind;
    this.ui.diff.checked = this.state.diff;
    this.ui.filter.value = this.state.filter;
    this.ui.root.classList.toggle('blind', this.state.blind);
    this.ui.root.classList.toggle('rank-mode', this.state.rankMode);
  }

  // ---- input ----

  private onKeyDown(event: KeyboardEvent): void {
    if (isTypingTarget(event) || this.editing) return;
    const command = commandForKey(event);
    if (command === undefined) return;
    event.preventDefault();
    const input = { key: event.key, timeStamp: event.timeStamp };
    if (typeof command === 'object') this.pick(command.pick, input);
    else this.run(command, input);
  }

  private onClick(event: MouseEvent): void {
    const target = event.target as HTMLElement;
    const link = target.closest('a.md-link');
    if (link) {
      event.preventDefault();
      this.bridge.send({ type: 'openLink', url: link.getAttribute('data-href') ?? '' });
      return;
    }
    const control = target.closest('[data-command],[data-action],[data-host-command]');
    if (!control || control.hasAttribute('disabled')) return;
    const command = control.getAttribute('data-command') as Command | null;
    // Checkboxes report through their change event.
    if (command && control.tagName !== 'VSCODE-CHECKBOX') this.run(command);
    const hostCommand = control.getAttribute('data-host-command');
    if (hostCommand === 'showText' || hostCommand === 'exportPairs' || hostCommand === 'exportJsonl') this.bridge.send({ type: 'runCommand', command: hostCommand });
    const action = control.getAttribute('data-action');
    if (action === 'edit' && !this.readOnly) this.editUnit(control.closest('.unit[data-pointer]'));
    if (action === 'pick') this.pick(Number(control.getAttribute('data-position')));
  }

  private run(command: Command, input?: KeyInput): void {
    const record = this.store.get(this.state.index);
    // A read-only table (Parquet) moves, searches and shows; what would change a record says how to label it instead.
    if (this.readOnly && !READ_ONLY_COMMANDS.has(command)) return this.say(this.readOnly);
    switch (command) {
      case 'chooseLeft':
      case 'chooseRight':
        return this.choose(command === 'chooseLeft' ? 0 : 1, input);
      case 'tie':
        if (record?.kind === 'pair') this.act(record, { kind: 'decide', preference: 'tie' }, { labeled: true, advance: true, input, said: 'Marked as a tie' });
        return;
      case 'swap':
        if (record?.kind === 'pair') this.act(record, { kind: 'swap' }, { labeled: false, said: 'Swapped chosen and rejected' });
        return;
      case 'clearLabel':
        if (record && record.kind !== 'invalid') this.act(record, { kind: 'clearDecision' }, { labeled: false, said: 'Label cleared' });
        return;
      case 'skip':
        this.say(`Skipped record ${this.state.index + 1}`);
        return this.move(1, input);
      case 'next':
        return this.move(1, input);
      case 'previous':
        return this.move(-1, input);
      case 'nextUnlabeled': {
        const target = this.store.flags ? nextUnlabeled(this.state.index, this.count, this.store.flags.labeled) : undefined;
        if (target === undefined) this.say(this.store.flags ? 'Every record is labeled.' : 'Still checking the file: try again in a moment.');
        else this.show(target, input);
        return;
      }
      case 'edit':
        return this.editUnit(this.focusedUnit());
      case 'note':
        return this.editNote();
      case 'search':
        return this.openSearch();
      case 'goTo':
        return this.openGoTo();
      case 'toggleBlind':
        this.state.blind = !this.state.blind;
        return this.afterToggle(this.state.blind ? 'Blind mode on: answers in random order' : 'Blind mode off');
      case 'toggleDiff':
        this.state.diff = !this.state.diff;
        return this.afterToggle(this.state.diff ? 'Word diff on' : 'Word diff off');
      case 'cycleFilter':
        return this.setFilter(RECORD_FILTERS[(RECORD_FILTERS.indexOf(this.state.filter) + 1) % RECORD_FILTERS.length]!);
      case 'toggleRankMode':
        this.state.rankMode = !this.state.rankMode;
        this.picks = [];
        return this.afterToggle(this.state.rankMode ? 'Rank all candidates' : 'Pick best and worst');
      case 'undoPick':
        this.picks.pop();
        return this.rerender();
      case 'clearPicks':
        if (this.form()) return this.closeForm();
        this.picks = [];
        return this.rerender();
      case 'acceptSuggestion':
        return this.acceptSuggestion(record, input);
      case 'cycleReviewOrder': {
        if (!this.review) return this.say('Run "DPO: Review with Model" to order the records by what the model thinks of them.');
        const orders: Array<ReviewOrder | null> = [null, ...REVIEW_ORDERS];
        return this.setReviewOrder(orders[(orders.indexOf(this.review.order) + 1) % orders.length]!);
      }
      case 'help':
        this.ui.help.hidden = !this.ui.help.hidden;
        return;
    }
  }

  // ---- review with a model ----

  private startReview(message: ReviewMessage): void {
    this.review?.bar.remove();
    // An order with no records (the model disagrees with no label) leaves the file's order; a
    // rebuilt page goes on in the order it had.
    const top = message.orders[message.order].length;
    const order = message.resumed ? this.state.reviewOrder : top > 0 ? message.order : null;
    this.state.reviewOrder = order;
    this.saveState();
    const bar = reviewBar(message, order, (picked) => this.setReviewOrder(picked));
    this.review = { message, order, bar };
    this.ui.root.querySelector('.toolbar')!.after(bar);
    this.ui.root.classList.add('reviewing');
    if (!message.resumed) this.say(top > 0 ? `Model review: ${REVIEW_ORDER_LABELS[message.order]} (${top} record${top === 1 ? '' : 's'})` : `Model review: ${REVIEW_ORDER_LABELS[message.order]}: none, so the file's order`);
    this.rerender();
  }

  private setReviewOrder(order: ReviewOrder | null): void {
    if (!this.review) return;
    this.review.order = order;
    this.state.reviewOrder = order;
    this.saveState();
    (this.review.bar.querySelector('select') as HTMLSelectElement).value = order ?? '';
    if (order === null) return this.say('File order');
    const list = this.review.message.orders[order];
    this.say(list.length ? `${REVIEW_ORDER_LABELS[order]} (${list.length} record${list.length === 1 ? '' : 's'})` : `${REVIEW_ORDER_LABELS[order]}: there are none`);
    if (list.length) this.show(list[0]!);
  }

  /** The model's suggestion as an ordinary edit: a swap for a pair it disagrees with, its best and worst for candidates. */
  private acceptSuggestion(record: RecordView | undefined, input?: KeyInput): void {
    const mark = record?.review;
    if (!this.review || !record || record.kind === 'invalid' || !mark) return this.say('No model suggestion here: run "DPO: Review with Model" first.');
    if (this.state.blind) return this.say('Turn blind mode off to see and accept the model’s suggestion.');
    if (mark.state === 'stale') return this.say('The score is stale (the record changed since it was scored): nothing to accept.');
    if (mark.state === 'unscored') return this.say('The model did not score this record.');
    if (record.kind === 'candidates' && mark.kind === 'candidates') {
      const best = mark.ranking[0]!;
      const worst = mark.ranking[mark.ranking.length - 1]!;
      return this.act(record, { kind: 'chooseCandidates', best, worst }, { labeled: true, advance: true, input, said: `Accepted the model's suggestion: candidate ${best + 1} best, ${worst + 1} worst` });
    }
    if (record.kind === 'pair' && mark.kind === 'pair') {
      if (mark.agrees) return this.say('The model agrees with this label: nothing to swap.');
      this.act(record, { kind: 'swap' }, { labeled: false, said: 'Swapped chosen and rejected as the model suggests' });
    }
  }

  private rerender(): void {
    this.shown = this.shown && { ...this.shown, json: '' };
    this.renderCurrent();
  }

  private afterToggle(said: string): void {
    this.syncToggles();
    this.saveState();
    this.say(said);
    this.rerender();
  }

  private setToggles(): void {
    if (this.ui.blind.checked !== this.state.blind) this.run('toggleBlind');
    if (this.ui.diff.checked !== this.state.diff) this.run('toggleDiff');
  }

  private setFilter(filter: RecordFilter): void {
    this.state.filter = filter;
    this.syncToggles();
    this.saveState();
    const labels = { all: 'Showing all records', unlabeled: 'Showing unlabeled records', problems: 'Showing records with problems' };
    if (!this.store.flags && filter !== 'all') return this.say(`${labels[filter]} once the file is checked`);
    if (!matchesFilter(this.state.index, filter, this.store.flags)) {
      const next = nextMatching(this.state.index, 1, this.count, filter, this.store.flags) ?? nextMatching(this.state.index, -1, this.count, filter, this.store.flags);
      if (next === undefined) return this.say(`${labels[filter]}: there are none`);
      this.show(next);
    }
    this.say(labels[filter]);
    this.store.ensureAround(this.state.index, filter);
  }

  private move(step: 1 | -1, input?: KeyInput): void {
    const order = this.review?.order ? this.review.message.orders[this.review.order] : undefined;
    if (order && order.length > 0) {
      const at = order.indexOf(this.state.index);
      const target = at < 0 ? (step > 0 ? order[0] : undefined) : order[at + step];
      if (target === undefined) return this.say(step > 0 ? `This is the last record in "${REVIEW_ORDER_LABELS[this.review!.order!]}"` : 'This is the first record in the review order');
      return this.show(target, input);
    }
    const next = nextMatching(this.state.index, step, this.count, this.state.filter, this.store.flags);
    if (next === undefined) {
      this.say(step > 0 ? 'This is the last record' + (this.state.filter === 'all' ? '' : ' in the filter') : 'This is the first record');
      return;
    }
    this.show(next, input);
  }

  // ---- labeling ----

  private choose(position: 0 | 1, input?: KeyInput): void {
    const record = this.store.get(this.state.index);
    if (record?.kind !== 'pair') return;
    const side = pairSides(record, this.state.blind, this.state.seed)[position];
    this.act(record, { kind: 'decide', preference: side.stored }, { labeled: true, advance: true, input, said: `Chose the ${position === 0 ? 'left' : 'right'} answer` });
  }

  private pick(position: number, input?: KeyInput): void {
    if (this.readOnly) return this.say(this.readOnly);
    const record = this.store.get(this.state.index);
    if (record?.kind === 'pair' && position < 2) return this.choose(position as 0 | 1, input);
    if (record?.kind !== 'candidates') return;
    const order = candidateOrder(record, this.state.blind, this.state.seed);
    const candidate = order[position];
    if (candidate === undefined || this.picks.includes(candidate)) return;
    this.picks.push(candidate);
    const n = record.candidates.length;
    if (this.state.rankMode && this.picks.length >= n - 1) {
      const ranking = [...this.picks, ...order.filter((i) => !this.picks.includes(i))];
      this.picks = [];
      this.act(record, { kind: 'chooseCandidates', ranking }, { labeled: true, advance: true, input, said: 'Ranked the candidates' });
    } else if (!this.state.rankMode && this.picks.length === 2) {
      const [best, worst] = this.picks as [number, number];
      this.picks = [];
      this.act(record, { kind: 'chooseCandidates', best, worst }, { labeled: true, advance: true, input, said: 'Picked best and worst' });
    } else {
      this.rerender();
    }
  }

  /**
   * Sends an action for a record; `labeled` updates the progress at once (the host's next
   * summary confirms it); `advance` moves on without waiting for the host, so labeling keeps
   * the pace of the keyboard.
   */
  private act(record: Exclude<RecordView, { kind: 'invalid' }>, action: RecordAction, how: { labeled: boolean; advance?: boolean; input?: KeyInput; said: string }): void {
    if (this.readOnly) return this.say(this.readOnly);
    const timeMs = Math.round(performance.now() - this.shownAt);
    const labeledBefore = isLabeledView(record);
    const flags = this.store.flags;
    flags?.labeled.set(record.index, how.labeled);
    this.renderSummary();
    const undoProgress = (message: string) => {
      flags?.labeled.set(record.index, labeledBefore);
      this.renderSummary();
      this.say(message);
    };
    void this.bridge.request<'act'>({ type: 'act', index: record.index, revision: record.revision, action, ...(how.labeled ? { timeMs } : {}) }).then(
      (result) => {
        if (!result.ok) undoProgress(result.message ?? 'Not saved');
      },
      () => undoProgress(`VS Code did not confirm the change to record ${record.index + 1}; look at the file before going on.`),
    );
    this.say(`${how.said} (record ${record.index + 1})`);
    if (how.advance) this.move(1, how.input);
  }

  // ---- forms ----

  private form(): HTMLElement | null {
    return this.ui.form.firstElementChild as HTMLElement | null;
  }

  private closeForm(): void {
    this.ui.form.replaceChildren();
    this.ui.record.focus();
  }

  private focusedUnit(): Element | null {
    const active = document.activeElement;
    const scope = active instanceof HTMLElement && this.ui.record.contains(active) ? (active.closest('.unit[data-pointer]') ?? active.closest('section')) : null;
    if (scope?.matches('.unit[data-pointer]')) return scope;
    return scope?.querySelector('.unit[data-pointer]') ?? this.ui.record.querySelector('.unit[data-pointer]');
  }

  private editUnit(unit: Element | null): void {
    const record = this.store.get(this.state.index);
    if (!unit || !record || record.kind === 'invalid') return;
    const pointer = unit.getAttribute('data-pointer')!;
    const value = (unit as Element & { editValue?: string }).editValue ?? '';
    const body = unit.lastElementChild as HTMLElement;
    this.editing = true;
    const done = () => {
      this.editing = false;
      this.rerender();
    };
    const form = inlineForm({
      title: `Edit ${pointer} (Ctrl+Enter saves, Escape cancels)`,
      kind: 'multiline',
      value,
      submitLabel: 'Save',
      onSubmit: (text) => {
        if (text !== value) this.act(record, { kind: 'editText', pointer, value: text }, { labeled: isLabeledView(record), said: `Edited ${pointer}` });
        done();
      },
      onClose: done,
    });
    body.replaceWith(form);
  }

  private editNote(): void {
    const record = this.store.get(this.state.index);
    if (!record || record.kind === 'invalid') return;
    this.ui.form.replaceChildren(
      inlineForm({
        title: `Note on record ${record.index + 1} (Ctrl+Enter saves, empty removes it)`,
        kind: 'multiline',
        value: record.note ?? '',
        submitLabel: 'Save note',
        onSubmit: (note) => {
          this.closeForm();
          if (note !== (record.note ?? '')) this.act(record, { kind: 'note', note }, { labeled: isLabeledView(record), said: note.trim() ? 'Note saved' : 'Note removed' });
        },
        onClose: () => this.closeForm(),
      }),
    );
  }

  private openSearch(): void {
    this.ui.form.replaceChildren(
      inlineForm({
        title: 'Search records (Enter: next, Shift+Enter: previous)',
        kind: 'text',
        value: '',
        submitLabel: 'Next match',
        alternateLabel: 'Previous match',
        onSubmit: (query, backwards) => {
          if (!query) return;
          void this.bridge.request<'search'>({ type: 'search', query, from: this.state.index, step: backwards ? -1 : 1 }).then(
            (result) => {
              if (result.index === null) return this.say(`No record contains "${query}"`);
              this.say(`"${query}" found in record ${result.index + 1}`);
              this.show(result.index);
            },
            () => this.say(`VS Code did not answer the search for "${query}"`),
          );
        },
        onClose: () => this.closeForm(),
      }),
    );
  }

  private openGoTo(): void {
    this.ui.form.replaceChildren(
      inlineForm({
        title: `Go to record (1 to ${this.count})`,
        kind: 'text',
        value: '',
        submitLabel: 'Go',
        onSubmit: (text) => {
          const n = Number(text.trim());
          if (!Number.isInteger(n) || n < 1 || n > this.count) return this.say(`Type a record number from 1 to ${this.count}`);
          this.closeForm();
          this.show(n - 1);
        },
        onClose: () => this.closeForm(),
      }),
    );
  }
}

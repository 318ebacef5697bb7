import { indicesAround, rangesToFetch, RecordWindow } from '../../src/core/pairEditor/recordWindow.ts';
import { RecordFlags, matchesFilter, type FilterFlags, type RecordFilter } from '../../src/core/pairEditor/recordFlags.ts';
import type { RecordView, RecordsResponse } from '../../src/protocol/pairEditorMessages.ts';
import { MAX_RECORDS_PER_REQUEST } from '../../src/protocol/pairEditorMessages.ts';
import type { HostBridge } from './hostBridge.ts';

/** Records kept before and after the one on screen (labeling moves forward). */
const BEHIND = 20;
const AHEAD = 60;
const CAPACITY = 400;

/**
 * The window of records the webview holds, fetched from the host in ranges ahead of the
 * labeler. A reset (records added, removed or moved) starts a new generation: answers to
 * requests made before it are dropped, since their indices may mean other records now.
 */
export class RecordStore {
  count = 0;
  flags: FilterFlags | undefined;
  private readonly held = new RecordWindow<RecordView>(CAPACITY);
  private readonly requested = new Set<number>();
  private generation = 0;

  constructor(
    private readonly bridge: HostBridge,
    /** Called when records arrive that were not held before (or were refreshed). */
    private readonly onArrive: (records: RecordView[]) => void,
  ) {}

  get(index: number): RecordView | undefined {
    return this.held.get(index);
  }

  reset(count: number, records: RecordView[] = []): void {
    this.generation++;
    this.count = count;
    this.held.clear();
    this.requested.clear();
    for (const record of records) this.held.put(record.index, record);
    if (this.flags && this.flags.labeled.count !== count) this.flags = undefined;
  }

  /** Records the host says changed: held ones are replaced, others are not worth keeping. */
  applyChanged(count: number, records: RecordView[]): RecordView[] {
    if (count !== this.count) {
      this.reset(count);
      return [];
    }
    const replaced = records.filter((r) => this.held.replace(r.index, r));
    for (const r of records) this.flags?.labeled.set(r.index, isLabeledView(r));
    return replaced;
  }

  setFlags(total: number, labeledHex: string, problemsHex: string): void {
    this.flags = { labeled: RecordFlags.fromHex(total, labeledHex), problems: RecordFlags.fromHex(total, problemsHex) };
  }

  /** Fetches what is missing around `center` for the active filter; `refresh` refetches held records too. */
  ensureAround(center: number, filter: RecordFilter, refresh = false): void {
    const wanted = indicesAround(center, this.count, BEHIND, AHEAD, (i) => matchesFilter(i, filter, this.flags));
    const has = refresh ? (i: number) => this.requested.has(i) : (i: number) => this.held.has(i) || this.requested.has(i);
    // A prefetch that got no answer is asked for again on a later move.
    for (const range of rangesToFetch(wanted, has, MAX_RECORDS_PER_REQUEST)) this.fetch(range.start, range.end).catch(() => undefined);
    this.held.trim(center, new Set(wanted));
  }

  /** The record at `index`, from the window or fetched now. */
  async load(index: number): Promise<RecordView | undefined> {
    const held = this.held.get(index);
    if (held) return held;
    await this.fetch(index, Math.min(index + 20, this.count));
    return this.held.get(index);
  }

  private async fetch(start: number, end: number): Promise<void> {
    if (end <= start) return;
    const generation = this.generation;
    for (let i = start; i < end; i++) this.requested.add(i);
    let response: RecordsResponse;
    try {
      response = await this.bridge.request<'getRecords'>({ type: 'getRecords', start, end });
    } finally {
      // Answered or not, these may be asked for again (an unanswered range is retried next time).
      if (generation === this.generation) for (let i = start; i < end; i++) this.requested.delete(i);
    }
    if (generation !== this.generation) return;
    if (response.count !== this.count) {
      this.reset(response.count, response.records);
      this.onArrive(response.records);
      return;
    }
    for (const record of response.records) this.held.put(record.index, record);
    this.onArrive(response.records);
  }
}

/** Labeled, by the same rule as the host's (`isLabeledValue`). */
export function isLabeledView(record: RecordView): boolean {
  if (record.kind === 'pair') return record.decision !== undefined;
  if (record.kind === 'candidates') return record.best !== undefined || record.worst !== undefined || record.ranking !== undefined;
  return false;
}

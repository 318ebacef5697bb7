/**
 * The pair editor's messages, both ways, as discriminated unions on `type`. Requests carry a
 * `requestId` that the answer repeats, so the webview can match answers to questions even when
 * several are in flight. The host validates every incoming message before acting on it
 * (src/extension/pairEditor/webviewMessageGuard.ts); the webview trusts only its host.
 */
import type { DatasetSummary } from '../core/pairEditor/recordDocument.ts';
import type { RecordAction } from '../core/pairEditor/recordActions.ts';
import type { RecordView } from '../core/pairEditor/recordView.ts';
import type { ReviewOrder } from '../core/review/reviewOrder.ts';
export type { ReviewMark } from '../core/review/reviewMarks.ts';
export type { ReviewOrder } from '../core/review/reviewOrder.ts';

export type { DatasetSummary } from '../core/pairEditor/recordDocument.ts';
export type { RecordAction } from '../core/pairEditor/recordActions.ts';
export type { CandidatesRecordView, InvalidRecordView, PairRecordView, ProblemView, RecordView, TextField, TextTurn } from '../core/pairEditor/recordView.ts';

/** Most records one `getRecords` may ask for: keeps every message small. */
export const MAX_RECORDS_PER_REQUEST = 200;

// ---- webview → host ----

/** The webview's script runs and can take messages; `index` is where it wants to start. */
export interface ReadyMessage {
  type: 'ready';
  index: number;
}

/** Records [start, end), answered by `records`. */
export interface GetRecordsRequest {
  type: 'getRecords';
  requestId: number;
  start: number;
  end: number;
}

/**
 * Change one record. `revision` is the one of the view the labeler acted on: when the record
 * changed since, the host refuses instead of writing to text the labeler never saw.
 */
export interface ActRequest {
  type: 'act';
  requestId: number;
  index: number;
  revision: number;
  action: RecordAction;
  /** Milliseconds the labeler spent on the record before deciding. */
  timeMs?: number;
}

/** The next record (wrapping) whose text contains `query`; answered by `searchResult`. */
export interface SearchRequest {
  type: 'search';
  requestId: number;
  query: string;
  from: number;
  step: 1 | -1;
}

/** The record on screen, so host commands (show as text) know where the labeler is. */
export interface CurrentRecordMessage {
  type: 'current';
  index: number;
}

/** A link in a rendered answer was clicked: the host decides whether and how to open it. */
export interface OpenLinkMessage {
  type: 'openLink';
  url: string;
}

export type HostCommand = 'showText' | 'exportPairs' | 'exportJsonl';

/** A toolbar button that runs one of the extension's commands. */
export interface RunCommandMessage {
  type: 'runCommand';
  command: HostCommand;
}

/** Read-only tables: order the records by a numeric column (`column: null`: file order). */
export interface SortByMessage {
  type: 'sortBy';
  column: string | null;
  descending: boolean;
}

export type WebviewToHost = ReadyMessage | GetRecordsRequest | ActRequest | SearchRequest | CurrentRecordMessage | OpenLinkMessage | RunCommandMessage | SortByMessage;

// ---- host → webview ----

export interface InitMessage {
  type: 'init';
  fileName: string;
  count: number;
  /** Records around the one to show first. */
  records: RecordView[];
  /** The record to show first. */
  index: number;
  /** The labeler's name from the settings ('' when not set): decisions are signed with it. */
  annotator: string;
  /** When VS Code handed the document to the editor (epoch ms), for the editor's own timings. */
  openedAt: number;
  /** Present for a read-only table (Parquet): what it holds and how it can be ordered. */
  table?: TableInfo;
}

export interface TableInfo {
  rows: number;
  rowGroups: number;
  columns: string[];
  /** Columns a labeler can sort by (scores, ratings). */
  numericColumns: string[];
  /** The column mapping in force, as `field=column,...` ('' when none). */
  mapping: string;
}

export interface RecordsResponse {
  type: 'records';
  requestId: number;
  records: RecordView[];
  /** Records in the file now (it may have changed since the request). */
  count: number;
}

export interface ActResponse {
  type: 'actResult';
  requestId: number;
  ok: boolean;
  /** Why it was refused, in words for the labeler. */
  message?: string;
}

export interface SearchResponse {
  type: 'searchResult';
  requestId: number;
  index: number | null;
}

/** Records changed in place (an edit, an undo, a change in the text editor): replace them. */
export interface RecordsChangedMessage {
  type: 'changed';
  count: number;
  records: RecordView[];
}

/** Records were added, removed or moved: every held record may be stale. */
export interface RecordsResetMessage {
  type: 'reset';
  count: number;
}

export interface SummaryMessage {
  type: 'summary';
  summary: DatasetSummary;
}

/** Show this record (switching back from the text editor at the cursor's record). */
export interface GoToMessage {
  type: 'goTo';
  index: number;
}

/**
 * Review with a model: the scores of a run's checkpoint are on the records (`RecordView.review`),
 * and these are the orders to work through them in (record indices, from the scores).
 */
export interface ReviewMessage {
  type: 'review';
  /** The run and checkpoint, as the labeler picked them. */
  label: string;
  lossType: string;
  beta: number;
  pairs: number;
  agreeing: number;
  /** Candidates records ranked. */
  candidates: number;
  orders: Record<ReviewOrder, number[]>;
  /** The order to start in. */
  order: ReviewOrder;
  /** The same review again for a page that was rebuilt: it keeps the order it had (its saved state). */
  resumed: boolean;
}

export type HostToWebview = ReviewMessage | InitMessage | RecordsResponse | ActResponse | SearchResponse | RecordsChangedMessage | RecordsResetMessage | SummaryMessage | GoToMessage;

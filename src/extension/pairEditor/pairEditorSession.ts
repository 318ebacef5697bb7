import * as vscode from 'vscode';
import type { LintOptions } from '../../core/dataset/lintRules.ts';
import type { TextValidationResult } from '../../core/dataset/validateText.ts';
import { applyRecordAction, RecordActionError } from '../../core/pairEditor/recordActions.ts';
import { RecordDocument } from '../../core/pairEditor/recordDocument.ts';
import { recordRevision, type RecordView } from '../../core/pairEditor/recordView.ts';
import type { ActRequest, HostToWebview, ReviewMessage, WebviewToHost } from '../../protocol/pairEditorMessages.ts';
import { recordKeys } from '../../core/review/recordKey.ts';
import { ScoreIndex } from '../../core/review/reviewMarks.ts';
import { REVIEW_ORDERS, reviewOrder, type ReviewOrder } from '../../core/review/reviewOrder.ts';
import type { ScoresFile } from '../../core/review/scoresFile.ts';
import { MAX_RECORDS_PER_REQUEST } from '../../protocol/pairEditorMessages.ts';
import { recordTextEdit } from './recordTextEdit.ts';
import { guardWebviewMessage, isOpenableLink } from './webviewMessageGuard.ts';
import { webviewPageHtml } from '../webviewPage.ts';
import { EARLY_READY_SCRIPT } from './earlyReadyScript.ts';

/** What a session needs from the rest of the extension. */
export interface SessionServices {
  extensionUri: vscode.Uri;
  /** The whole-file check of the document as it is now (shared with the Problems panel, so a file is checked once). */
  validation(document: vscode.TextDocument): Promise<TextValidationResult | undefined>;
  /** Holds background checks of the document back until `until` settles. */
  holdChecks(document: vscode.TextDocument, until: Promise<unknown>): void;
  lintOptions(document: vscode.TextDocument): LintOptions;
  annotator(document: vscode.TextDocument): string;
  debounceMs(document: vscode.TextDocument): number;
  runCommand(command: 'showText' | 'exportPairs', session: PairEditorSession): void;
  log(line: string): void;
}

/** Records sent with `init`: the first screenful plus what the next keypresses will want. */
const INIT_BEHIND = 10;
const INIT_AHEAD = 60;
/** The longest the first records hold the whole-file check back (a webview opened hidden may not load for a while). */
const FIRST_RECORDS_HOLD_MS = 3000;

/**
 * One pair editor panel on one document: answers the webview's requests for records, turns its
 * actions into WorkspaceEdits on the acted-on record, and tells it when records change (edits,
 * undo, a change in the text editor) and when a new validation brings new progress and stats.
 */
export class PairEditorSession implements vscode.Disposable {
  readonly records: RecordDocument;
  /** The record on screen, as the webview last said. */
  currentIndex: number;
  private modelVersion = -1;
  /** Edits are applied one after the other: each must see the offsets the previous one left. */
  private edits: Promise<void> = Promise.resolve();
  private validationTimer: ReturnType<typeof setTimeout> | undefined;
  private webviewReady = false;
  private readonly openedAt = Date.now();
  /** Settles once the first records reached the webview (or it gave up waiting). */
  private firstRecordsOut: () => void = () => {};
  private disposed = false;
  /** The review on, and what tells the webview about it (sent again after `init` when the page is rebuilt). */
  private review: { index: ScoreIndex; message: ReviewMessage; delivered: boolean } | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly document: vscode.TextDocument,
    readonly panel: vscode.WebviewPanel,
    private readonly services: SessionServices,
    initialIndex: number | undefined,
  ) {
    this.records = new RecordDocument(document.fileName, services.lintOptions(document));
    this.currentIndex = initialIndex ?? -1;
    panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(services.extensionUri, 'dist', 'webview')] };
    panel.webview.html = webviewPageHtml(panel.webview, services.extensionUri, {
      app: 'editor',
      title: 'Pair editor',
      loadingText: 'Loading records…',
      inlineScript: EARLY_READY_SCRIPT,
    });
    // The first records go out before the whole-file check takes the extension host.
    services.holdChecks(
      document,
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FIRST_RECORDS_HOLD_MS);
        this.firstRecordsOut = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
    );
    // Split, and analyse the records `init` will carry, while the webview loads: they are ready
    // when it asks (the first analysis also compiles the schemas). Not before returning to VS
    // Code, which starts loading the webview only then.
    setTimeout(() => {
      if (this.disposed || this.webviewReady) return;
      this.refresh();
      this.views(this.initRange(this.currentIndex >= 0 ? this.currentIndex : 0));
    }, 0);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === document && e.contentChanges.length > 0) this.onDocumentChanged(e.contentChanges);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('dpoStudio.lint', document.uri) || e.affectsConfiguration('dpoStudio.datasets.columns', document.uri)) {
          this.records.setOptions(services.lintOptions(document));
          this.scheduleValidation(0);
        }
      }),
    );
  }

  /** Shows a record (switching back from the text editor at the cursor's record). */
  goTo(index: number): void {
    this.currentIndex = index;
    if (this.webviewReady) void this.post({ type: 'goTo', index });
  }

  private post(message: HostToWebview): Thenable<boolean> {
    return this.panel.webview.postMessage(message);
  }

  /** Re-splits the document if it changed since the last split; says what changed. */
  private refresh() {
    if (this.document.version === this.modelVersion) return { kind: 'none' } as const;
    this.modelVersion = this.document.version;
    return this.records.update(this.document.getText());
  }

  private onDocumentChanged(changes: readonly vscode.TextDocumentContentChangeEvent[] = []): void {
    const change = this.patch(changes) ?? this.refresh();
    if (this.webviewReady) {
      if (change.kind === 'reset') void this.post({ type: 'reset', count: this.records.count });
      else if (change.kind === 'records') void this.post({ type: 'changed', count: this.records.count, records: this.views(change.indices) });
    }
    this.scheduleValidation(this.services.debounceMs(this.document));
  }

  /**
   * The cheap path for one edit inside one record (labeling): patch that record instead of
   * reading and splitting the whole document again, which costs ~100 ms on 100,000 records.
   */
  private patch(changes: readonly vscode.TextDocumentContentChangeEvent[]) {
    const only = changes.length === 1 ? changes[0]! : undefined;
    if (!only || this.document.version !== this.modelVersion + 1) return undefined;
    const change = this.records.applyChange({ offset: only.rangeOffset, removedLength: only.rangeLength, text: only.text });
    if (change) this.modelVersion = this.document.version;
    return change;
  }

  private views(indices: Iterable<number>): RecordView[] {
    const out: RecordView[] = [];
    for (const i of indices) {
      const view = this.records.view(i);
      if (!view) continue;
      if (this.review) {
        const normalized = this.records.normalized(i);
        view.review = this.review.index.mark(i, normalized && recordKeys(normalized));
      }
      out.push(view);
    }
    return out;
  }

  /**
   * Shows a checkpoint's scores on the records, and the orders to review them in, starting at
   * the top of `order`. Every view sent from now on carries its record's mark, worked out from
   * the record as it is (so an edit shows as stale at once).
   */
  startReview(scores: ScoresFile, label: string, order: ReviewOrder = 'disagrees', at?: number): void {
    const orders = Object.fromEntries(REVIEW_ORDERS.map((o) => [o, reviewOrder(scores.records, o)])) as Record<ReviewOrder, number[]>;
    const first = at ?? orders[order][0] ?? 0;
    this.currentIndex = first;
    const message: ReviewMessage = { type: 'review', label, lossType: scores.header.loss_type, beta: scores.header.beta, pairs: scores.header.pairs, agreeing: scores.header.agreeing, candidates: scores.header.candidates, orders, order, resumed: false };
    this.review = { index: new ScoreIndex(scores), message, delivered: this.webviewReady };
    if (!this.webviewReady) return;
    void this.post(message);
    void this.post({ type: 'reset', count: this.records.count });
    void this.post({ type: 'goTo', index: first });
  }

  private range(start: number, end: number): number[] {
    const out: number[] = [];
    for (let i = Math.max(0, start); i < Math.min(end, this.records.count); i++) out.push(i);
    return out;
  }

  private initRange(index: number): number[] {
    return this.range(index - INIT_BEHIND, index + INIT_AHEAD);
  }

  private scheduleValidation(delay: number): void {
    if (this.validationTimer) clearTimeout(this.validationTimer);
    this.validationTimer = setTimeout(() => {
      this.validationTimer = undefined;
      void this.takeValidation();
    }, delay);
  }

  /** Progress, stats and problems from the whole-file check of the text as it is now. */
  private async takeValidation(): Promise<void> {
    if (this.document.isClosed || this.disposed) return;
    const result = await this.services.validation(this.document);
    if (!result || this.document.isClosed || this.disposed) return;
    // The check describes the document's current version: split that version too.
    this.refresh();
    const summary = this.records.setValidation(result);
    if (this.webviewReady) void this.post({ type: 'summary', summary });
  }

  private receive(raw: unknown): void {
    const checked = guardWebviewMessage(raw);
    if (!checked.ok) {
      this.services.log(`Pair editor: ignored a malformed message from the webview (${checked.reason})`);
      return;
    }
    this.handle(checked.message);
  }

  private handle(message: WebviewToHost): void {
    switch (message.type) {
      case 'ready': {
        this.refresh();
        const index = Math.min(Math.max(this.currentIndex >= 0 ? this.currentIndex : message.index, 0), Math.max(this.records.count - 1, 0));
        this.currentIndex = index;
        this.webviewReady = true;
        const delivered = this.post({
          type: 'init',
          fileName: vscode.workspace.asRelativePath(this.document.uri),
          count: this.records.count,
          index,
          records: this.views(this.initRange(index)),
          annotator: this.services.annotator(this.document),
          openedAt: this.openedAt,
        });
        // A page rebuilt (shown again after being hidden) keeps the review on, in the order the labeler had.
        if (this.review) {
          void this.post({ ...this.review.message, resumed: this.review.delivered });
          this.review.delivered = true;
        }
        // The whole-file check takes the extension host for a while on a big file: it waits
        // until the first records were handed over, so they are not held up behind it.
        void delivered.then(() => {
          this.firstRecordsOut();
          this.scheduleValidation(0);
        });
        return;
      }
      case 'getRecords':
        this.refresh();
        void this.post({ type: 'records', requestId: message.requestId, count: this.records.count, records: this.views(this.range(message.start, Math.min(message.end, message.start + MAX_RECORDS_PER_REQUEST))) });
        return;
      case 'act':
        this.edits = this.edits.then(() => this.act(message)).catch((error: unknown) => {
          this.services.log(`Pair editor: an edit failed: ${error instanceof Error ? error.message : String(error)}`);
          void this.post({ type: 'actResult', requestId: message.requestId, ok: false, message: 'The edit failed; see the DPO Studio output.' });
        });
        return;
      case 'search':
        this.refresh();
        void this.post({ type: 'searchResult', requestId: message.requestId, index: this.records.search(message.query, Math.min(message.from, this.records.count), message.step) ?? null });
        return;
      case 'current':
        this.currentIndex = message.index;
        return;
      case 'openLink':
        if (isOpenableLink(message.url)) void vscode.env.openExternal(vscode.Uri.parse(message.url, true));
        else this.services.log(`Pair editor: did not open the link ${JSON.stringify(message.url)} (only http and https links open)`);
        return;
      case 'runCommand':
        if (message.command !== 'exportJsonl') this.services.runCommand(message.command, this);
        return;
    }
  }

  private async act(message: ActRequest): Promise<void> {
    const reply = (ok: boolean, text?: string): void => {
      void this.post({ type: 'actResult', requestId: message.requestId, ok, ...(text ? { message: text } : {}) });
    };
    this.refresh();
    const span = this.records.span(message.index);
    if (!span) return reply(false, `There is no record ${message.index + 1} any more: the file has ${this.records.count}.`);
    if (recordRevision(span.source) !== message.revision) {
      // The labeler acted on text that is no longer there: show them what is.
      void this.post({ type: 'changed', count: this.records.count, records: this.views([message.index]) });
      return reply(false, `Record ${message.index + 1} changed since it was shown; nothing was written. Look again and retry.`);
    }
    const labeling = message.action.kind === 'decide' || message.action.kind === 'chooseCandidates';
    const annotator = this.services.annotator(this.document);
    let next: string;
    try {
      next = applyRecordAction(
        span.source,
        message.action,
        labeling ? { ...(annotator ? { annotator } : {}), ...(message.timeMs !== undefined ? { timeMs: message.timeMs } : {}), at: new Date().toISOString() } : {},
        this.services.lintOptions(this.document).columns,
      );
    } catch (error) {
      if (error instanceof RecordActionError) return reply(false, error.message);
      throw error;
    }
    const edit = recordTextEdit(this.document, span, next);
    if (!edit) return reply(true);
    const applied = await vscode.workspace.applyEdit(edit);
    // The change event normally came first; make sure the webview sees the record as written.
    this.onDocumentChanged();
    reply(applied, applied ? undefined : 'VS Code did not apply the edit (is the file read-only?).');
  }

  dispose(): void {
    this.disposed = true;
    this.firstRecordsOut();
    if (this.validationTimer) clearTimeout(this.validationTimer);
    this.disposables.forEach((d) => d.dispose());
  }
}

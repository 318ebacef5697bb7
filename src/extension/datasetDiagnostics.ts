import * as vscode from 'vscode';
import { AnalysisCache, looksLikePreferenceData, SNIFFED_CHARS } from '../core/dataset/analysisCache.ts';
import { validateText, validateTextInSlices, type TextValidationResult } from '../core/dataset/validateText.ts';
import { readColumnMapping, readLintOptions, readValidationSettings, SECTION } from './settings.ts';
import { toDiagnostic } from './problemsToDiagnostics.ts';

interface TrackedDocument {
  cache: AnalysisCache;
  /** Shown in the Problems panel; false for a file only the pair editor checks (opened with "Open With..."). */
  publishes: boolean;
  timer?: ReturnType<typeof setTimeout>;
  result?: TextValidationResult;
  /** The document version `result` describes. */
  resultVersion?: number;
  /** The background check under way, if any. */
  running?: Promise<void>;
  /** Bumped by every run, so a background run overtaken by a newer one throws its result away. */
  generation: number;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Keeps the Problems panel in step with every open preference dataset: checked on open,
 * re-checked a moment after typing stops (only changed records are re-analysed), cleared on close.
 */
export class DatasetDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('dpo-studio');
  private readonly tracked = new Map<string, TrackedDocument>();
  /** Documents whose background check waits: a pair editor is putting its first records on screen. */
  private readonly holds = new Map<string, Promise<unknown>>();
  private readonly changed = new vscode.EventEmitter<vscode.TextDocument>();
  private readonly disposables: vscode.Disposable[] = [this.collection, this.changed];

  /** Fires after a document's problems were recomputed. */
  readonly onDidValidate = this.changed.event;

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SECTION)) this.revalidateAll(true);
      }),
    );
    this.revalidateAll(false);
  }

  isDataset(document: vscode.TextDocument): boolean {
    if (!/\.(jsonl|ndjson|json)$/i.test(document.fileName) && document.languageId !== 'jsonl') return false;
    const settings = readValidationSettings(document.uri);
    if (settings.include.some((glob) => vscode.languages.match({ pattern: glob }, document) > 0)) return true;
    // Only the head is sniffed: the whole text of a 40 MB file costs a copy of it.
    return settings.detectByContent && looksLikePreferenceData(document.getText(new vscode.Range(new vscode.Position(0, 0), document.positionAt(SNIFFED_CHARS))), readColumnMapping(document.uri));
  }

  /** The latest result for a document, computed now only if there is none yet. */
  latestResult(document: vscode.TextDocument): TextValidationResult | undefined {
    const result = this.tracked.get(document.uri.toString())?.result;
    if (result) return result;
    return this.isDataset(document) ? this.validate(document) : undefined;
  }

  /** A result for the document's text as it is now, ahead of any pending re-check. */
  freshResult(document: vscode.TextDocument): TextValidationResult | undefined {
    return this.isDataset(document) ? this.validate(document) : undefined;
  }

  /**
   * The check of the document as it is when the answer comes: the background check under way
   * if it is for this version, else one started now. Also for files the Problems panel does
   * not treat as datasets (a pair editor opened with "Open With..."): those are checked
   * without publishing problems. Undefined once the document is closed.
   */
  async resultFor(document: vscode.TextDocument): Promise<TextValidationResult | undefined> {
    for (;;) {
      if (document.isClosed) return undefined;
      const entry = this.entryFor(document);
      if (entry.result && entry.resultVersion === document.version) return entry.result;
      if (entry.timer) {
        clearTimeout(entry.timer);
        entry.timer = undefined;
      }
      await (entry.running ?? this.validateInBackground(document, entry));
    }
  }

  /**
   * Background checks of `document` wait until `until` settles: the check of a 100,000-record
   * file takes the extension host for a second or more in small slices, and every slice
   * delays the messages a pair editor needs to show its first record.
   */
  holdWhile(document: vscode.TextDocument, until: Promise<unknown>): void {
    const key = document.uri.toString();
    const hold = until.then(
      () => undefined,
      () => undefined,
    );
    this.holds.set(key, hold);
    void hold.then(() => {
      if (this.holds.get(key) === hold) this.holds.delete(key);
    });
  }

  /** The document's entry, made on first use (`publishes` is only computed then). */
  private entryFor(document: vscode.TextDocument, publishes?: boolean): TrackedDocument {
    const key = document.uri.toString();
    let entry = this.tracked.get(key);
    if (!entry) {
      entry = { cache: new AnalysisCache(readLintOptions(document.uri)), generation: 0, publishes: publishes ?? this.isDataset(document) };
      this.tracked.set(key, entry);
    }
    return entry;
  }

  private revalidateAll(resetCaches: boolean) {
    for (const document of vscode.workspace.textDocuments) {
      const entry = this.tracked.get(document.uri.toString());
      if (entry) {
        if (resetCaches) entry.cache.reset(readLintOptions(document.uri));
        entry.publishes = this.isDataset(document);
        if (!entry.publishes) this.collection.delete(document.uri);
      }
      this.schedule(document, 0);
    }
  }

  private schedule(document: vscode.TextDocument, delay = readValidationSettings(document.uri).debounceMs) {
    if (document.uri.scheme === 'output' || document.uri.scheme === 'vscode-scm') return;
    if (!this.tracked.has(document.uri.toString()) && !this.isDataset(document)) return;
    const entry = this.entryFor(document, true);
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (!document.isClosed) void this.validateInBackground(document, entry);
    }, delay);
  }

  /**
   * The check after opening or typing: in slices that give the event loop back, so that a
   * 100,000-record file does not hold up the editor (or the pair editor's first record) for
   * the seconds a full pass takes. Dropped when the document changes meanwhile.
   */
  private validateInBackground(document: vscode.TextDocument, entry: TrackedDocument): Promise<void> {
    const run = this.runInSlices(document, entry).finally(() => {
      if (entry.running === run) entry.running = undefined;
    });
    entry.running = run;
    return run;
  }

  private async runInSlices(document: vscode.TextDocument, entry: TrackedDocument): Promise<void> {
    const generation = ++entry.generation;
    const key = document.uri.toString();
    await this.holds.get(key);
    const version = document.version;
    const isStale = () => document.isClosed || document.version !== version || entry.generation !== generation || this.tracked.get(key) !== entry;
    if (isStale()) return;
    const result = await validateTextInSlices(
      document.getText(),
      document.fileName,
      readLintOptions(document.uri),
      entry.cache.analyze,
      async () => {
        await yieldToEventLoop();
        await this.holds.get(key);
      },
      isStale,
    );
    if (!result) return;
    entry.cache.endRun();
    this.publish(document, entry, result);
  }

  /** A check right now, for callers that need the answer before they go on. */
  private validate(document: vscode.TextDocument): TextValidationResult {
    const entry = this.entryFor(document);
    if (entry.timer) {
      // Checking now makes the pending re-check redundant.
      clearTimeout(entry.timer);
      entry.timer = undefined;
    }
    entry.generation++;
    const result = validateText(document.getText(), document.fileName, readLintOptions(document.uri), entry.cache.analyze);
    entry.cache.endRun();
    this.publish(document, entry, result);
    return result;
  }

  private publish(document: vscode.TextDocument, entry: TrackedDocument, result: TextValidationResult): void {
    entry.result = result;
    entry.resultVersion = document.version;
    if (!entry.publishes) return;
    const { maxProblems } = readValidationSettings(document.uri);
    const diagnostics = result.problems.slice(0, maxProblems).map((p) => toDiagnostic(document, p));
    if (result.problems.length > maxProblems) {
      const more = new vscode.Diagnostic(
        document.lineAt(0).range,
        `${result.problems.length - maxProblems} more problems not shown (dpoStudio.validation.maxProblems is ${maxProblems}); run "DPO: Validate Dataset" for all`,
        vscode.DiagnosticSeverity.Information,
      );
      more.source = 'DPO Studio';
      diagnostics.push(more);
    }
    this.collection.set(document.uri, diagnostics);
    this.changed.fire(document);
  }

  private forget(document: vscode.TextDocument) {
    const key = document.uri.toString();
    const entry = this.tracked.get(key);
    if (entry?.timer) clearTimeout(entry.timer);
    this.tracked.delete(key);
    this.collection.delete(document.uri);
  }

  dispose() {
    for (const entry of this.tracked.values()) if (entry.timer) clearTimeout(entry.timer);
    this.disposables.forEach((d) => d.dispose());
  }
}

import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { describeMapping, mappingFor } from '../../core/dataset/columnMapping.ts';
import { ConvertError, parseWhere, type RowFilter } from '../../core/dataset/convertDataset.ts';
import type { LintOptions } from '../../core/dataset/lintRules.ts';
import { validateParquet } from '../../core/dataset/validateParquet.ts';
import type { ValidationResult } from '../../core/dataset/datasetValidation.ts';
import { TableRecords } from '../../core/pairEditor/tableRecords.ts';
import type { HostToWebview, WebviewToHost } from '../../protocol/pairEditorMessages.ts';
import { MAX_RECORDS_PER_REQUEST } from '../../protocol/pairEditorMessages.ts';
import { webviewPageHtml } from '../webviewPage.ts';
import { EARLY_READY_SCRIPT } from './earlyReadyScript.ts';
import { guardWebviewMessage, isOpenableLink } from './webviewMessageGuard.ts';

/** What a Parquet session needs from the rest of the extension. */
export interface ParquetSessionServices {
  extensionUri: vscode.Uri;
  lintOptions(uri: vscode.Uri): LintOptions;
  /** Opens a written JSONL file in the pair editor to label. */
  openForLabeling(uri: vscode.Uri): Thenable<unknown>;
  log(line: string): void;
}

const INIT_BEHIND = 10;
const INIT_AHEAD = 60;

const READ_ONLY =
  'This Parquet file is read-only in the pair editor: "Export to JSONL to label" writes its rows (all, the first in the current order, or those a filter keeps) to a .pairs.jsonl file you can label and edit.';

/**
 * The pair editor on a Parquet file (a CustomReadonlyEditor: the file is binary and never
 * changes here). The same webview as for JSON Lines, fed from row groups read on demand: opening
 * reads the footer and the first group only, and the whole-file check runs after the first
 * records are on screen.
 */
export class ParquetEditorSession implements vscode.Disposable {
  private records: Promise<TableRecords>;
  private disposed = false;
  private readonly openedAt = Date.now();
  private readonly disposables: vscode.Disposable[] = [];
  private options: LintOptions;
  private checked: Promise<ValidationResult> | undefined;

  constructor(
    readonly uri: vscode.Uri,
    readonly panel: vscode.WebviewPanel,
    private readonly services: ParquetSessionServices,
  ) {
    this.options = services.lintOptions(uri);
    panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(services.extensionUri, 'dist', 'webview')] };
    panel.webview.html = webviewPageHtml(panel.webview, services.extensionUri, { app: 'editor', title: 'Pair editor', loadingText: 'Loading rows…', inlineScript: EARLY_READY_SCRIPT });
    // The footer and the first group are read while the webview loads.
    // A workspace-wide mapping applies where its columns are: a file with the fields' own names stays as it is.
    this.records = TableRecords.open(uri.fsPath, this.options).then((records) => {
      const applied = mappingFor(records.table.columns, this.options.columns);
      const { columns: _all, ...rest } = this.options;
      this.options = { ...rest, ...(applied ? { columns: applied } : {}) };
      records.setOptions(this.options);
      return records;
    });
    this.records.catch(() => {});
    void this.records.then((r) => r.views(this.range(r, 0)));
    this.disposables.push(panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)));
  }

  private post(message: HostToWebview): Thenable<boolean> {
    return this.panel.webview.postMessage(message);
  }

  private range(records: TableRecords, index: number): number[] {
    const out: number[] = [];
    for (let i = Math.max(0, index - INIT_BEHIND); i < Math.min(records.count, index + INIT_AHEAD); i++) out.push(i);
    return out;
  }

  private receive(raw: unknown): void {
    const checked = guardWebviewMessage(raw);
    if (!checked.ok) {
      this.services.log(`Pair editor: ignored a malformed message from the webview (${checked.reason})`);
      return;
    }
    this.handle(checked.message).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      this.services.log(`Pair editor (${this.uri.fsPath}): ${message}`);
      void vscode.window.showErrorMessage(`DPO Studio: ${message}`);
    });
  }

  private async handle(message: WebviewToHost): Promise<void> {
    const records = await this.records;
    switch (message.type) {
      case 'ready': {
        const index = Math.min(Math.max(message.index, 0), Math.max(records.count - 1, 0));
        const table = records.table;
        await this.post({
          type: 'init',
          fileName: vscode.workspace.asRelativePath(this.uri),
          count: records.count,
          index,
          records: await records.views(this.range(records, index)),
          annotator: '',
          openedAt: this.openedAt,
          table: { rows: table.rowCount, rowGroups: table.rowGroups.length, columns: table.columns, numericColumns: table.numericColumns, mapping: this.options.columns ? describeMapping(this.options.columns) : '' },
        });
        this.check(records).catch((error: unknown) => this.services.log(`Pair editor (${this.uri.fsPath}): the whole-file check failed: ${(error as Error).message}`));
        return;
      }
      case 'getRecords': {
        const end = Math.min(message.end, message.start + MAX_RECORDS_PER_REQUEST, records.count);
        const indices: number[] = [];
        for (let i = Math.max(0, message.start); i < end; i++) indices.push(i);
        await this.post({ type: 'records', requestId: message.requestId, count: records.count, records: await records.views(indices) });
        return;
      }
      case 'search':
        await this.post({ type: 'searchResult', requestId: message.requestId, index: (await records.search(message.query, Math.min(message.from, records.count), message.step)) ?? null });
        return;
      case 'current':
        return;
      case 'act':
        await this.post({ type: 'actResult', requestId: message.requestId, ok: false, message: READ_ONLY });
        return;
      case 'openLink':
        if (isOpenableLink(message.url)) void vscode.env.openExternal(vscode.Uri.parse(message.url, true));
        return;
      case 'sortBy':
        await records.sortBy(message.column === null ? undefined : { column: message.column, descending: message.descending });
        await this.post({ type: 'reset', count: records.count });
        // The check stands; only which record is where changed.
        if (this.checked) await this.post({ type: 'summary', summary: records.summary(await this.checked) });
        return;
      case 'runCommand':
        if (message.command === 'exportJsonl' || message.command === 'exportPairs') await this.exportJsonl(records);
        else void vscode.window.showInformationMessage(READ_ONLY);
        return;
    }
  }

  /** The whole-file check, in the background and once (the file does not change here): statistics and which records have problems. */
  private async check(records: TableRecords): Promise<void> {
    this.checked ??= validateParquet([this.uri.fsPath], this.options);
    const result = await this.checked;
    if (this.disposed) return;
    await this.post({ type: 'summary', summary: records.summary(result) });
  }

  /** "Export to JSONL to label": which rows, then a .pairs.jsonl beside the file, opened in the pair editor. */
  private async exportJsonl(records: TableRecords): Promise<void> {
    const order = records.sort ? `sorted by ${records.sort.column}, ${records.sort.descending ? 'highest' : 'lowest'} first` : 'file order';
    const first = Math.min(1000, records.count);
    const choice = await vscode.window.showQuickPick(
      [
        { label: `All ${records.count.toLocaleString('en-US')} rows`, detail: `In ${order}.`, pick: 'all' as const },
        { label: `The first ${first.toLocaleString('en-US')} rows`, detail: `In ${order}: the ones on screen first.`, pick: 'first' as const },
        { label: 'The rows a filter keeps…', detail: 'A condition on a column, e.g. score >= 4 or source == "reddit".', pick: 'where' as const },
      ],
      { title: 'Export to JSONL to label', placeHolder: 'Which rows to write to a .pairs.jsonl file' },
    );
    if (!choice) return;
    let where: RowFilter | undefined;
    if (choice.pick === 'where') {
      const text = await vscode.window.showInputBox({
        title: 'Export the rows where…',
        prompt: `<column> <op> <value>, op one of ==, !=, >, >=, <, <=, contains (columns: ${records.table.columns.join(', ')})`,
        placeHolder: records.table.numericColumns[0] ? `${records.table.numericColumns[0]} >= 4` : 'prompt contains python',
        validateInput: (value) => {
          try {
            parseWhere(value);
            return undefined;
          } catch (error) {
            return (error as ConvertError).message;
          }
        },
      });
      if (text === undefined) return;
      where = parseWhere(text);
    }
    const out = exportPath(this.uri.fsPath);
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Exporting ${basename(this.uri.fsPath)}`, cancellable: false }, (progress) =>
      records.exportJsonl(out, {
        ...(choice.pick === 'first' ? { limit: first } : {}),
        ...(where ? { where } : {}),
        onProgress: (read) => progress.report({ message: `${read.toLocaleString('en-US')} of ${records.count.toLocaleString('en-US')} rows read` }),
      }),
    );
    this.services.log(`Exported ${result.written} of ${result.read} rows of ${this.uri.fsPath} to ${out}`);
    await this.services.openForLabeling(vscode.Uri.file(out));
    void vscode.window.showInformationMessage(`Wrote ${result.written.toLocaleString('en-US')} records to ${vscode.workspace.asRelativePath(out)}: label them there.`);
  }

  dispose(): void {
    this.disposed = true;
    void this.records.then((r) => r.close()).catch(() => {});
    this.disposables.forEach((d) => d.dispose());
  }
}

/** `<dir>/<name>.pairs.jsonl`, or `<name>-2.pairs.jsonl`... when that exists: an export never overwrites a file being labeled. */
export function exportPath(parquetPath: string): string {
  const stem = basename(parquetPath).replace(/\.parquet$/i, '');
  for (let n = 1; ; n++) {
    const candidate = join(dirname(parquetPath), `${stem}${n === 1 ? '' : `-${n}`}.pairs.jsonl`);
    if (!existsSync(candidate)) return candidate;
  }
}

/**
 * A worker thread of `validateParquet`: analyses the rows of the row groups it is sent, each
 * group read by itself, and sends the packed analyses back (parquetRowAnalysis.ts). Decoding
 * and checking a million rows is CPU work that splits cleanly by row group across cores.
 */
import { parentPort } from 'node:worker_threads';
import { openParquet, type ParquetTable } from './parquetTable.ts';
import { lintOptionsFrom, packAnalyses, type PortableLintOptions } from './parquetRowAnalysis.ts';
import { analyzeRow } from './recordAnalysis.ts';

export type WorkerRequest = { type: 'group'; file: string; group: number; options: PortableLintOptions } | { type: 'close' };

const tables = new Map<string, Promise<ParquetTable>>();

parentPort?.on('message', (request: WorkerRequest) => {
  if (request.type === 'close') {
    void Promise.all([...tables.values()].map((t) => t.then((table) => table.close()))).finally(() => process.exit(0));
    return;
  }
  void (async () => {
    try {
      let table = tables.get(request.file);
      if (!table) tables.set(request.file, (table = openParquet(request.file)));
      const opened = await table;
      const range = opened.rowGroups[request.group]!;
      const options = lintOptionsFrom(request.options);
      const rows = await opened.rows(range.start, range.end);
      const packed = packAnalyses(rows.map((row) => analyzeRow(row, options)));
      parentPort!.postMessage({ type: 'group', file: request.file, group: request.group, packed }, [packed.numbers.buffer as ArrayBuffer]);
    } catch (error) {
      parentPort!.postMessage({ type: 'error', file: request.file, group: request.group, message: (error as Error).message });
    }
  })();
});

import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RunSeries } from '../../core/training/metricTable.ts';
import { trainerStateEvents } from '../../core/training/externalRuns.ts';
import { findRuns, RUN_METRICS_FILE, runLabel } from '../../core/training/runDiscovery.ts';
import { applyToSummary, emptySummary, summaryEta, type RunSummary } from '../../core/training/runSummary.ts';
import { parseTrainerEvents, TrainerEventParser } from '../../core/training/trainerEventStream.ts';
import type { RunInfo } from '../../protocol/dashboardMessages.ts';
import type { TrainerEvent } from '../../protocol/trainerEvents.ts';
import { Signal } from './trainerProcess.ts';

/**
 * Every run the dashboard can show, by output folder: found on disk (a `metrics.jsonl`), or
 * being trained by this window. A live run's events come from its trainer's stdout; any other
 * unfinished run (started in a terminal, another window) is followed by reading what its
 * trainer appends to metrics.jsonl. No `vscode` import.
 */

/** An unfinished run whose file changed this recently is taken to be running elsewhere. */
const RUNNING_ELSEWHERE_MS = 60_000;
/** Read at most this much of a metrics file per poll, so one huge file cannot stall the host. */
const MAX_READ_BYTES = 64 * 1024 * 1024;

interface RunEntry {
  key: string;
  summary: RunSummary;
  /** Built only once something (the dashboard, a CSV export) asks for the rows. */
  series: RunSeries | undefined;
  live: boolean;
  /** Bytes of metrics.jsonl read so far, and the parser holding a partly read line. */
  offset: number;
  fileId: string;
  parser: TrainerEventParser;
  mtimeMs: number;
  /** Events the parser produced from the last read, not yet applied. */
  pending: TrainerEvent[];
}

export interface RunChange {
  key: string;
  /** Rows were added or removed (the charts need an update), not just the header. */
  rows: boolean;
}

export class RunRegistry {
  readonly onDidChangeRun = new Signal<RunChange>();
  /** Runs appeared or disappeared. */
  readonly onDidChangeList = new Signal<void>();
  private readonly runs = new Map<string, RunEntry>();
  /** Runs of plain TRL scripts: output folder → the trainer_state.json their events come from. */
  private readonly external = new Map<string, string>();

  constructor(private readonly roots: () => readonly string[]) {}

  keys(): string[] {
    return [...this.runs.keys()];
  }

  has(key: string): boolean {
    return this.runs.has(key);
  }

  /** Looks for output folders in the workspace (and re-reads runs whose file was replaced). */
  discover(): void {
    let added = false;
    for (const { dir, trainerState } of findRuns(this.roots())) {
      if (trainerState) this.external.set(dir, trainerState);
      else if (this.external.delete(dir)) this.runs.delete(dir); // DPO Studio now trains there: its metrics.jsonl is the source
      if (!this.runs.has(dir)) {
        this.runs.set(dir, this.newEntry(dir));
        added = true;
      }
    }
    let removed = false;
    for (const [key, entry] of this.runs) {
      if (!entry.live && !this.sourceStat(key)) {
        this.runs.delete(key);
        this.external.delete(key);
        removed = true;
      }
    }
    for (const entry of this.runs.values()) if (!entry.live) this.readNew(entry);
    if (added || removed) this.onDidChangeList.fire();
  }

  /** Reads what non-live unfinished runs appended since the last poll. */
  poll(): void {
    for (const entry of this.runs.values()) {
      if (!entry.live && (entry.summary.state === 'unfinished' || entry.summary.state === 'empty')) this.readNew(entry);
    }
  }

  /** Whether any run not trained by this window looks like it is being trained elsewhere. */
  hasRunsElsewhere(now = Date.now()): boolean {
    for (const entry of this.runs.values()) if (!entry.live && entry.summary.state === 'unfinished' && now - entry.mtimeMs < RUNNING_ELSEWHERE_MS) return true;
    return false;
  }

  /** A trainer of this window is about to write into `key`: its stdout is the source from now on. */
  beginLive(key: string): void {
    let entry = this.runs.get(key);
    const isNew = !entry;
    if (!entry) {
      entry = this.newEntry(key);
      this.runs.set(key, entry);
    } else {
      // Whatever the file held is current: catch up, then stop reading it.
      this.readNew(entry);
    }
    entry.live = true;
    if (isNew) this.onDidChangeList.fire();
    this.onDidChangeRun.fire({ key, rows: false });
  }

  /** An event from the live trainer writing into `key`. */
  applyLive(key: string, event: TrainerEvent): void {
    const entry = this.runs.get(key);
    if (!entry) return;
    this.apply(entry, [event]);
  }

  /** The trainer is gone: what it wrote is known, later appends come from someone else. */
  endLive(key: string): void {
    const entry = this.runs.get(key);
    if (!entry) return;
    entry.live = false;
    const stat = fileStat(key);
    entry.offset = stat?.size ?? 0;
    entry.fileId = stat?.id ?? '';
    entry.mtimeMs = stat?.mtimeMs ?? Date.now();
    entry.parser = this.parserFor(entry.pending);
    this.onDidChangeRun.fire({ key, rows: false });
  }

  summary(key: string): RunSummary | undefined {
    return this.runs.get(key)?.summary;
  }

  /** The run's rows, read from its file the first time they are asked for. */
  series(key: string): RunSeries | undefined {
    const entry = this.runs.get(key);
    if (!entry) return undefined;
    if (!entry.series) {
      const series = new RunSeries();
      const events = this.external.has(key) ? this.externalEvents(key) : readEvents(key);
      series.applyAll(events);
      entry.series = series;
    }
    return entry.series;
  }

  /** Lets go of rows nobody shows (they are read again when asked for). */
  releaseSeries(key: string): void {
    const entry = this.runs.get(key);
    if (entry && !entry.live) entry.series = undefined;
  }

  info(key: string, now = Date.now()): RunInfo | undefined {
    const entry = this.runs.get(key);
    if (!entry) return undefined;
    const s = entry.summary;
    let status: RunInfo['status'];
    if (entry.live) status = s.state === 'empty' ? 'waiting' : 'running';
    else if (s.state === 'unfinished') status = now - entry.mtimeMs < RUNNING_ELSEWHERE_MS ? 'running' : 'interrupted';
    else if (s.state === 'empty') status = 'waiting';
    else status = s.state;
    const eta = entry.live || status === 'running' ? summaryEta(s) : undefined;
    const info: RunInfo = {
      key,
      label: runLabel(key, this.roots()),
      status,
      live: entry.live,
      dataset: s.dataset,
      step: s.step,
      canStop: entry.live,
      canResume: !entry.live && status !== 'running' && s.state !== 'completed' && s.lastCheckpoint !== undefined,
    };
    if (s.model !== undefined) info.model = s.model;
    if (s.backend !== undefined) info.backend = s.backend;
    if (s.engine !== undefined) info.engine = s.engine;
    if (s.worldSize !== undefined) info.worldSize = s.worldSize;
    if (s.devices !== undefined) info.devices = s.devices;
    if (s.memory !== undefined) info.memory = s.memory;
    if (s.external) info.external = true;
    if (s.lossType !== undefined) info.lossType = s.lossType;
    if (s.stage !== undefined) info.stage = s.stage;
    if (s.totalSteps !== undefined) info.totalSteps = s.totalSteps;
    if (s.elapsedSeconds !== undefined) info.elapsedSeconds = s.elapsedSeconds;
    if (eta) info.etaSeconds = eta.remainingSeconds;
    if (s.updatedAt !== undefined) info.updatedAt = s.updatedAt;
    if (s.lastCheckpoint !== undefined) info.lastCheckpoint = s.lastCheckpoint;
    if (s.finalCheckpoint !== undefined) info.finalCheckpoint = s.finalCheckpoint;
    if (s.error !== undefined) info.error = s.error;
    return info;
  }

  /** Every run, the most recently updated first. */
  infos(now = Date.now()): RunInfo[] {
    const all = this.keys().map((key) => this.info(key, now)!);
    return all.sort((a, b) => Number(b.live) - Number(a.live) || (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '') || a.label.localeCompare(b.label));
  }

  private newEntry(key: string): RunEntry {
    const pending: TrainerEvent[] = [];
    return { key, summary: emptySummary(), series: undefined, live: false, offset: 0, fileId: '', mtimeMs: 0, pending, parser: this.parserFor(pending) };
  }

  private parserFor(pending: TrainerEvent[]): TrainerEventParser {
    // Torn or foreign lines are skipped here; the trainer's own output shows them in the log.
    return new TrainerEventParser((event) => pending.push(event));
  }

  private apply(entry: RunEntry, events: TrainerEvent[]): void {
    if (events.length === 0) return;
    let rows = false;
    for (const event of events) {
      applyToSummary(entry.summary, event);
      if (entry.series && entry.series.apply(event)) rows = true;
    }
    this.onDidChangeRun.fire({ key: entry.key, rows });
  }

  private sourceStat(key: string): { size: number; mtimeMs: number; id: string } | undefined {
    const trainerState = this.external.get(key);
    return trainerState ? pathStat(trainerState) : fileStat(key);
  }

  private externalEvents(key: string): TrainerEvent[] {
    const path = this.external.get(key);
    const stat = path ? statSync(path, { throwIfNoEntry: false }) : undefined;
    if (!path || !stat) return [];
    try {
      return trainerStateEvents(readFileSync(path, 'utf8'), key, stat.mtime) ?? [];
    } catch {
      return [];
    }
  }

  /** A TRL script's run: its trainer_state.json is rewritten whole at each save, so it is read whole when it changed. */
  private readExternal(entry: RunEntry): void {
    const path = this.external.get(entry.key)!;
    const stat = pathStat(path);
    if (!stat) return;
    const id = `${stat.id}:${stat.size}:${stat.mtimeMs}`;
    if (id === entry.fileId) return;
    entry.fileId = id;
    entry.mtimeMs = stat.mtimeMs;
    entry.summary = emptySummary();
    if (entry.series) entry.series = new RunSeries();
    this.apply(entry, this.externalEvents(entry.key));
    this.onDidChangeRun.fire({ key: entry.key, rows: true });
  }

  /** Reads what was appended to the run's metrics.jsonl; starts over when the file was replaced or cut. */
  private readNew(entry: RunEntry): void {
    if (this.external.has(entry.key)) return this.readExternal(entry);
    const stat = fileStat(entry.key);
    if (!stat) return;
    if (stat.id !== entry.fileId || stat.size < entry.offset) {
      // The trainer rewrote the file (a resume trims the steps it will redo): read it again.
      const hadRows = entry.offset > 0;
      entry.summary = emptySummary();
      if (entry.series) entry.series = new RunSeries();
      entry.offset = 0;
      entry.fileId = stat.id;
      entry.parser = this.parserFor(entry.pending);
      if (hadRows) this.onDidChangeRun.fire({ key: entry.key, rows: true });
    }
    entry.mtimeMs = stat.mtimeMs;
    if (stat.size === entry.offset) return;
    const bytes = readRange(join(entry.key, RUN_METRICS_FILE), entry.offset, Math.min(stat.size - entry.offset, MAX_READ_BYTES));
    if (!bytes) return;
    // Whole lines only: the trainer may be halfway through writing the last one (and a cut
    // there never splits a UTF-8 character, since a newline is a byte of its own).
    const end = bytes.lastIndexOf(0x0a) + 1;
    if (end === 0) return;
    entry.offset += end;
    entry.parser.push(Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8'));
    this.apply(entry, entry.pending.splice(0));
  }
}

function fileStat(dir: string): { size: number; mtimeMs: number; id: string } | undefined {
  return pathStat(join(dir, RUN_METRICS_FILE));
}

function pathStat(path: string): { size: number; mtimeMs: number; id: string } | undefined {
  try {
    const stat = statSync(path);
    return stat.isFile() ? { size: stat.size, mtimeMs: stat.mtimeMs, id: `${stat.dev}:${stat.ino}` } : undefined;
  } catch {
    return undefined;
  }
}

function readRange(file: string, offset: number, length: number): Uint8Array | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, offset);
    return buffer.subarray(0, read);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Every event of a run's metrics.jsonl (a torn last line is skipped). */
function readEvents(dir: string): TrainerEvent[] {
  try {
    return parseTrainerEvents(readFileSync(join(dir, RUN_METRICS_FILE), 'utf8')).events;
  } catch {
    return [];
  }
}

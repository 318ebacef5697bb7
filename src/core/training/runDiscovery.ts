import { readdirSync } from 'node:fs';
import { RUN_LAYOUT } from './engineContract.ts';
import { findTrainerState } from './externalRuns.ts';
import { isAbsolute, join, relative, sep } from 'node:path';

/** The file every run's output folder holds (the trainer's event stream). */
export const RUN_METRICS_FILE = RUN_LAYOUT.metrics;

/** Folders that never hold a run, or hold one run's insides (checkpoints, the adapter). */
const SKIP = new Set(['node_modules', '.git', '.hg', '.svn', '.vscode-test', 'ref_logps', RUN_LAYOUT.final, RUN_LAYOUT.tensorboard, '__pycache__', '.venv', 'venv']);

export interface DiscoveryLimits {
  /** Folder levels below a root that are searched. */
  maxDepth?: number;
  /** Folders looked into, in all, before giving up (a workspace with a huge tree). */
  maxFolders?: number;
}

/**
 * Output folders of runs under the given roots: folders with a `metrics.jsonl`. Breadth first,
 * bounded in depth and in folders visited, so a big workspace costs a bounded time; a run's
 * own checkpoints are not descended into.
 */
export function findRunFolders(roots: readonly string[], limits: DiscoveryLimits = {}): string[] {
  return findRuns(roots, limits)
    .filter((run) => run.trainerState === undefined)
    .map((run) => run.dir);
}

export interface FoundRun {
  dir: string;
  /** Set for a run made outside DPO Studio: the trainer_state.json its events are read from. */
  trainerState?: string;
}

/**
 * Output folders of runs: DPO Studio's (a `metrics.jsonl`) and plain TRL scripts' (a
 * `trainer_state.json` with a log history, in the folder or its newest `checkpoint-N/`).
 */
export function findRuns(roots: readonly string[], { maxDepth = 6, maxFolders = 5000 }: DiscoveryLimits = {}): FoundRun[] {
  const found: FoundRun[] = [];
  let visited = 0;
  let level = roots.map((root) => ({ dir: root, depth: 0 }));
  while (level.length > 0 && visited < maxFolders) {
    const next: typeof level = [];
    for (const { dir, depth } of level) {
      if (visited++ >= maxFolders) break;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      if (entries.some((e) => e.isFile() && e.name === RUN_METRICS_FILE)) found.push({ dir });
      else if (entries.some((e) => (e.isFile() && e.name === 'trainer_state.json') || (e.isDirectory() && e.name.startsWith(RUN_LAYOUT.checkpointPrefix)))) {
        const trainerState = findTrainerState(dir, entries.map((e) => e.name));
        if (trainerState) found.push({ dir, trainerState });
      }
      if (depth >= maxDepth) continue;
      for (const entry of entries) {
        if (!entry.isDirectory() || SKIP.has(entry.name) || entry.name.startsWith(RUN_LAYOUT.checkpointPrefix)) continue;
        // Hidden folders (.cache, .idea) rarely hold runs and can be huge.
        if (entry.name.startsWith('.')) continue;
        next.push({ dir: join(dir, entry.name), depth: depth + 1 });
      }
    }
    level = next;
  }
  return found.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

/** A run's name on screen: its folder relative to the workspace folder that holds it. */
export function runLabel(outputDir: string, roots: readonly string[]): string {
  for (const root of roots) {
    const rel = relative(root, outputDir);
    if (rel === '') return '.';
    if (!rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).join('/');
  }
  return outputDir;
}

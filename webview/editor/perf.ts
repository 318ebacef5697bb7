/**
 * Timings the webview takes of itself, read by the benchmark (bench/pairEditor.bench.ts) from
 * `globalThis.dpoPairEditorPerf`. Times are performance.now() milliseconds (0 = the webview
 * document started loading); a key's time starts at its event's timestamp.
 */
export interface NavigationTiming {
  key: string;
  /** Keypress to the record's DOM being in place. */
  domMs: number;
  /** Keypress to the next animation frame after that: the frame that shows the record. */
  frameMs?: number;
}

export interface PairEditorPerf {
  /** When VS Code handed the document to the extension (epoch ms, from the host). */
  openedAt?: number;
  firstRecordMs?: number;
  firstRecordFrameMs?: number;
  navigations: NavigationTiming[];
  /** Milestones of the first open (performance.now()), for the benchmark's breakdown. */
  phases: Record<string, number>;
}

const perf: PairEditorPerf = { navigations: [], phases: {} };
(globalThis as { dpoPairEditorPerf?: PairEditorPerf }).dpoPairEditorPerf = perf;

export function markOpened(openedAt: number): void {
  perf.openedAt ??= openedAt;
}

export function markRecordShown(input?: { key: string; timeStamp: number }): void {
  const now = performance.now();
  if (perf.firstRecordMs === undefined) {
    perf.firstRecordMs = now;
    requestAnimationFrame(() => (perf.firstRecordFrameMs = performance.now()));
  }
  if (!input) return;
  const timing: NavigationTiming = { key: input.key, domMs: now - input.timeStamp };
  perf.navigations.push(timing);
  if (perf.navigations.length > 10_000) perf.navigations.shift();
  requestAnimationFrame(() => (timing.frameMs = performance.now() - input.timeStamp));
}

export function markPhase(name: string, at = performance.now()): void {
  perf.phases[name] ??= at;
}

/** One chart update: taking in the host's rows, and redrawing the charts on screen. */
export interface UpdateTiming {
  /** Milliseconds of work in all: apply + render. */
  ms: number;
  apply: number;
  render: number;
  /** Part of render: picking the points to draw (the rest is uPlot drawing them). */
  build: number;
  /** Points handed to the charts, charts redrawn, rows per series held by the plotted runs. */
  drawn: number;
  charts: number;
  rows: number;
}

/**
 * Times of the last updates, for `npm run bench:dashboard` and the e2e tests (read from the
 * page as window.__dpoDashboard.timings). Costs nothing worth measuring itself.
 */
export class UpdateTimings {
  readonly updates: UpdateTiming[] = [];
  private applying = 0;

  received(ms: number): void {
    this.applying += ms;
  }

  rendered(ms: number, build: number, drawn: number, charts: number, rows: number): void {
    this.updates.push({ ms: this.applying + ms, apply: this.applying, render: ms, build, drawn, charts, rows });
    if (this.updates.length > 1000) this.updates.splice(0, this.updates.length - 1000);
    this.applying = 0;
  }
}

import type { TrainerEvent } from '../../protocol/trainerEvents.ts';

export interface StreamIssue {
  /** 1-based line of the stream (or file) that could not be read. */
  line: number;
  message: string;
  text: string;
}

const EVENT_TYPES = new Set(['start', 'metrics', 'eval', 'checkpoint', 'log', 'error', 'end']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numericMetrics(value: unknown): value is Record<string, number> {
  return isRecord(value) && Object.values(value).every((v) => typeof v === 'number');
}

/** Checks one parsed line against the protocol; returns why it is not an event, or undefined. */
export function whyNotAnEvent(value: unknown): string | undefined {
  if (!isRecord(value)) return 'not a JSON object';
  if (typeof value.type !== 'string' || !EVENT_TYPES.has(value.type)) return `unknown event type ${JSON.stringify(value.type)}`;
  if ((value.type === 'metrics' || value.type === 'eval') && (typeof value.step !== 'number' || !numericMetrics(value.metrics)))
    return `a ${value.type} event needs a numeric "step" and numeric "metrics"`;
  if (value.type === 'checkpoint' && (typeof value.step !== 'number' || typeof value.path !== 'string')) return 'a checkpoint event needs "step" and "path"';
  if (value.type === 'start' && (typeof value.runId !== 'string' || typeof value.totalSteps !== 'number')) return 'a start event needs "runId" and "totalSteps"';
  return undefined;
}

/**
 * Turns a byte stream of JSON lines into events. A line cut in two by the pipe is joined when
 * its rest arrives; a garbled or foreign line (a library printing to stdout, say) is reported
 * as an issue and skipped, never fatal: the rest of the run still gets through.
 */
export class TrainerEventParser {
  private pending = '';
  private line = 0;

  constructor(
    private readonly onEvent: (event: TrainerEvent) => void,
    private readonly onIssue: (issue: StreamIssue) => void = () => {},
  ) {}

  push(chunk: string): void {
    const text = this.pending + chunk;
    const lines = text.split('\n');
    this.pending = lines.pop()!;
    for (const line of lines) this.handle(line);
  }

  /** The stream ended: a last line without its newline is still read (or reported as truncated). */
  end(): void {
    if (this.pending.trim().length > 0) this.handle(this.pending, true);
    this.pending = '';
  }

  private handle(raw: string, atEnd = false): void {
    this.line++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.onIssue({ line: this.line, message: atEnd ? 'truncated last line' : 'not valid JSON', text: text.slice(0, 200) });
      return;
    }
    const why = whyNotAnEvent(value);
    if (why) this.onIssue({ line: this.line, message: why, text: text.slice(0, 200) });
    else this.onEvent(value as unknown as TrainerEvent);
  }
}

/** Reads a whole `metrics.jsonl` (a finished or crashed run): the events, and what was skipped. */
export function parseTrainerEvents(text: string): { events: TrainerEvent[]; issues: StreamIssue[] } {
  const events: TrainerEvent[] = [];
  const issues: StreamIssue[] = [];
  const parser = new TrainerEventParser((e) => events.push(e), (i) => issues.push(i));
  parser.push(text);
  parser.end();
  return { events, issues };
}

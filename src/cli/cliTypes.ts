export interface CliStreams {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
  /** Standard input (`validate -`); process.stdin when absent. */
  in?: import('node:stream').Readable;
}

/** A mistake in how the command was called: reported with the help text, exit code 2. */
export class UsageError extends Error {}

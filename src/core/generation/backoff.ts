/**
 * When to try a request again. Exponential backoff with jitter (so many clients that failed
 * together do not retry together), unless the server said when in Retry-After, which wins: a
 * server that asks for 20 s and gets a retry after 1 s only answers 429 again.
 */

export interface BackoffOptions {
  /** Delay before the first retry (default 500 ms). */
  initialMs?: number;
  /** Longest computed delay (default 20 s). */
  maxMs?: number;
  /** Longest wait a Retry-After may ask for before it is capped (default 5 min). */
  maxRetryAfterMs?: number;
}

/**
 * Retry-After as milliseconds: `retry-after-ms` (Azure OpenAI), else `Retry-After` as seconds
 * or as an HTTP date (RFC 9110 §10.2.3). Undefined when absent or unreadable.
 */
export function retryAfterMs(headers: { get(name: string): string | null }, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait before retry number `attempt` (0 for the first): the server's Retry-After when it
 * gave one, else initial × 2^attempt capped at max, scaled by a random factor in [0.5, 1].
 */
export function retryDelayMs(attempt: number, options: BackoffOptions = {}, serverSaysMs?: number, random = Math.random): number {
  if (serverSaysMs !== undefined) return Math.min(serverSaysMs, options.maxRetryAfterMs ?? 300_000);
  const exponential = Math.min((options.initialMs ?? 500) * 2 ** attempt, options.maxMs ?? 20_000);
  return Math.round(exponential * (0.5 + random() * 0.5));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

import { isRetriable } from './errors';

export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  /** First backoff in ms (default 200); doubles each time, capped by maxDelayMs. */
  initialDelayMs?: number;
  /** Cap of one backoff in ms (default 10_000). */
  maxDelayMs?: number;
  /** Which failures to retry (default: ConnectorError with retriable=true). */
  retryOn?: (err: unknown) => boolean;
  /** Called before each wait, for logging. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Aborts the waits (and the retrying) when signalled. */
  signal?: AbortSignal;
  /** Random source in [0,1), injectable for tests (default Math.random). */
  random?: () => number;
}

/**
 * Runs `fn` until it succeeds, retrying only failures that `retryOn` accepts, with "full jitter"
 * exponential backoff. When it gives up it rethrows the last error itself, so the original
 * cause and class survive.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const initial = opts.initialDelayMs ?? 200;
  const max = opts.maxDelayMs ?? 10_000;
  const retryOn = opts.retryOn ?? isRetriable;
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !retryOn(err) || opts.signal?.aborted) throw err;
      const ceiling = Math.min(max, initial * 2 ** (attempt - 1));
      const delay = Math.round(ceiling / 2 + (random() * ceiling) / 2);
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, opts.signal);
    }
  }
}

/** A wait between retries (never a stand-in for readiness). Rejects when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Bounded, order-preserving concurrency for result pages: up to `concurrency` pages are read at
 * once, each holding at most `limit` items ahead of the consumer, and items come out in page
 * order. Memory is bounded by concurrency × limit items, whatever the number of pages.
 */

/** Pulls from a generator ahead of its consumer, holding at most `limit` items. Never rejects on its own. */
export class Prefetch<T, R> {
  private readonly buf: T[] = [];
  private state: 'running' | 'done' | 'failed' | 'cancelled' = 'running';
  private error: unknown;
  private result: R | undefined;
  private wakeConsumer: (() => void) | null = null;
  private wakeProducer: (() => void) | null = null;

  constructor(
    private readonly gen: AsyncGenerator<T, R, undefined>,
    private readonly limit: number,
  ) {
    void this.pump();
  }

  private wake(): void {
    const c = this.wakeConsumer;
    this.wakeConsumer = null;
    c?.();
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        while (this.buf.length >= this.limit && this.state === 'running') {
          await new Promise<void>((resolve) => (this.wakeProducer = resolve));
        }
        if (this.state !== 'running') return;
        const r = await this.gen.next();
        if (this.state !== 'running') return;
        if (r.done) {
          this.result = r.value;
          this.state = 'done';
          return;
        }
        this.buf.push(r.value);
        this.wake();
      }
    } catch (err) {
      if (this.state === 'running') {
        this.error = err;
        this.state = 'failed';
      }
    } finally {
      this.wake();
    }
  }

  async next(): Promise<IteratorResult<T, R>> {
    for (;;) {
      if (this.buf.length > 0) {
        const value = this.buf.shift() as T;
        const p = this.wakeProducer;
        this.wakeProducer = null;
        p?.();
        return { value, done: false };
      }
      if (this.state === 'done') return { value: this.result as R, done: true };
      if (this.state === 'failed') throw this.error;
      if (this.state === 'cancelled') throw new Error('Prefetch: read after cancel');
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }

  /** Stops reading ahead and closes the generator (its finally blocks run). */
  async cancel(): Promise<void> {
    if (this.state === 'running') this.state = 'cancelled';
    const p = this.wakeProducer;
    this.wakeProducer = null;
    p?.();
    await this.gen.return(undefined as R).catch(() => undefined);
  }
}

/**
 * Reads the generators that `start` makes for each source, `concurrency` at a time, and yields
 * their items in source order. Returns every generator's return value, in order. On error or
 * early return, the generators still open are cancelled.
 */
export async function* orderedConcurrent<S, T, R>(
  sources: AsyncIterable<S>,
  concurrency: number,
  limit: number,
  start: (source: S, index: number) => AsyncGenerator<T, R, undefined>,
): AsyncGenerator<T, R[], undefined> {
  const it = sources[Symbol.asyncIterator]();
  const window: Prefetch<T, R>[] = [];
  const results: R[] = [];
  let exhausted = false;
  let index = 0;
  const fill = async () => {
    while (!exhausted && window.length < concurrency) {
      const n = await it.next();
      if (n.done) exhausted = true;
      else window.push(new Prefetch(start(n.value, index++), limit));
    }
  };
  try {
    await fill();
    while (window.length > 0) {
      const head = window[0];
      for (;;) {
        const r = await head.next();
        if (r.done) {
          results.push(r.value);
          break;
        }
        yield r.value;
      }
      window.shift();
      await fill();
    }
    return results;
  } finally {
    await Promise.all(window.map((p) => p.cancel()));
    if (!exhausted) await it.return?.(undefined);
  }
}

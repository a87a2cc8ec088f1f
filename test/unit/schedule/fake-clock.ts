import type { SchedulerClock } from '../../../pipeline/schedule';

/** A clock that moves only when the test says so: sleeps resolve when time is advanced past them. */
export class FakeClock implements SchedulerClock {
  private waiters: { at: number; wake: () => void }[] = [];

  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  sleepUntil(at: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || at <= this.t) return resolve();
      const w = {
        at,
        wake: () => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve();
        },
      };
      this.waiters.push(w);
      signal.addEventListener('abort', w.wake, { once: true });
    });
  }

  /** Moves time to `t` and wakes every sleeper due by then. */
  advanceTo(t: number | string): void {
    this.t = typeof t === 'string' ? Date.parse(t) : t;
    for (const w of this.waiters.filter((x) => x.at <= this.t)) w.wake();
  }

  /** How many sleepers wait (a test can see that the scheduler is idle). */
  get sleeping(): number {
    return this.waiters.length;
  }
}

/** The events of a scheduler, awaited one at a time, in order. */
export class EventQueue<E> {
  private readonly queue: E[] = [];
  private pending: ((e: E) => void) | null = null;

  push = (e: E): void => {
    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      p(e);
    } else this.queue.push(e);
  };

  next(): Promise<E> {
    const e = this.queue.shift();
    if (e !== undefined) return Promise.resolve(e);
    return new Promise((resolve) => (this.pending = resolve));
  }

  /** Events not yet taken. */
  get buffered(): readonly E[] {
    return this.queue;
  }
}

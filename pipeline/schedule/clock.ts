/**
 * Time as the scheduler sees it. Injected, so tests move time by hand and never wait.
 */
export interface SchedulerClock {
  now(): number;
  /**
   * Resolves at `atMs` (epoch ms) or as soon as `signal` aborts, whichever is first; never
   * rejects. Called again after every wake, so an early resolve is harmless.
   */
  sleepUntil(atMs: number, signal: AbortSignal): Promise<void>;
}

/** setTimeout caps a delay at 2^31-1 ms (~24.8 days); longer waits are taken in pieces. */
const MAX_TIMER_MS = 2_147_483_647;

export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  sleepUntil(atMs, signal) {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, Math.max(0, Math.min(MAX_TIMER_MS, atMs - Date.now())));
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  },
};

import type { Logger } from '../../kernel/logger';
import type { SchedulerClock } from './clock';
import { nextRun } from './next-run';
import { retryAt, type RetryPolicy } from './retry';
import { describeSchedule, type Schedule } from './spec';

/** What the scheduler reports as it goes (for logs, metrics and tests). */
export type SchedulerEvent =
  | { type: 'waiting'; until: number }
  | { type: 'inactive' }
  | { type: 'run-started'; slot: number; missed: boolean; attempt: number }
  | { type: 'run-finished'; slot: number; attempt: number; error?: string }
  | { type: 'retry-waiting'; slot: number; attempt: number; until: number }
  | { type: 'stopped' };

export interface SchedulerDeps {
  /** The current schedule; read again on every wake, so a reloaded config takes effect. */
  schedule: () => Schedule;
  /**
   * When the connector's latest run started (epoch ms), or null if it never ran: the state
   * topic's last run. It is the persisted "last slot": a slot after it that has already passed
   * was missed while the service was down, and runs once at start-up.
   */
  lastRunStart: () => Promise<number | null>;
  /**
   * One run of `slot`; `attempt` 1 is the slot's run, 2+ its retries. `signal` aborts when the
   * service stops and the grace period is over; the run must then end safely (no tombstones, no
   * watermark move). A run that resolves { status: 'failed' } or rejects is retried (see retry).
   */
  run: (slot: number, signal: AbortSignal, attempt: number) => Promise<{ status: 'succeeded' | 'failed' } | void>;
  /** Retries of a failed run within its slot (read at each failure; default: none). */
  retry?: () => RetryPolicy;
  clock: SchedulerClock;
  logger: Logger;
  onEvent?: (event: SchedulerEvent) => void;
}

/**
 * A running scheduler. Runs never overlap: the next slot is computed only after a run ends,
 * and a slot that passed during a long run runs once, right after it.
 */
export interface Scheduler {
  /** Re-reads the schedule now (after a config reload, or Active turned on). */
  wake(): void;
  /**
   * Stops: no new run starts; a run in flight may finish within `graceMs`, then its signal is
   * aborted and it is awaited. Resolves when nothing runs any more. Idempotent.
   */
  stop(graceMs: number): Promise<void>;
  /** Settles when the loop has ended (after stop). */
  readonly done: Promise<void>;
}

export function startScheduler(deps: SchedulerDeps): Scheduler {
  const { clock, logger } = deps;
  const emit = (e: SchedulerEvent) => deps.onEvent?.(e);
  const stopping = new AbortController();
  const runAbort = new AbortController();
  let wakeup = new AbortController();
  let inFlight: Promise<void> | null = null;

  async function loop(): Promise<void> {
    // Nothing ran before: the first slot after start-up. Otherwise the first slot after the last
    // run, which may already have passed (missed while down): then it runs at once, and once.
    let baseline = (await deps.lastRunStart()) ?? clock.now();
    let wasInactive = false;
    while (!stopping.signal.aborted) {
      const s = deps.schedule();
      if (!s.active) {
        if (!wasInactive) logger.info('connector is inactive: no run starts until Active is turned on again');
        wasInactive = true;
        emit({ type: 'inactive' });
        await sleep(Number.MAX_SAFE_INTEGER);
        continue;
      }
      // Turned on again: the schedule resumes from now; slots that passed while off are not owed.
      if (wasInactive) baseline = Math.max(baseline, clock.now());
      wasInactive = false;
      const due = nextRun(s, baseline);
      if (due === null) {
        logger.warn('the schedule has no future run', { schedule: describeSchedule(s) });
        await sleep(Number.MAX_SAFE_INTEGER);
        continue;
      }
      const now = clock.now();
      if (due > now) {
        emit({ type: 'waiting', until: due });
        logger.info('next run scheduled', { at: new Date(due).toISOString(), schedule: describeSchedule(s) });
        await sleep(due);
        continue;
      }
      const missed = now - due > 60_000;
      if (missed)
        logger.info('a scheduled run was missed (service down or busy): running it once now', {
          slot: new Date(due).toISOString(),
        });
      baseline = now;
      await runSlot(due, missed);
    }
    emit({ type: 'stopped' });
  }

  /** The slot's run, and its retries while it fails, each before the next slot. */
  async function runSlot(slot: number, missed: boolean): Promise<void> {
    for (let attempt = 1; !stopping.signal.aborted; attempt++) {
      emit({ type: 'run-started', slot, missed, attempt });
      let error: string | undefined;
      inFlight = deps.run(slot, runAbort.signal, attempt).then(
        (r) => {
          if (r && r.status === 'failed') error = 'the run failed';
        },
        (err: Error) => {
          logger.error('scheduled run failed to start or crashed', { error: err.message });
          error = err.message;
        },
      );
      await inFlight;
      inFlight = null;
      emit({ type: 'run-finished', slot, attempt, ...(error !== undefined ? { error } : {}) });
      if (error === undefined || !deps.retry || stopping.signal.aborted) return;
      const policy = deps.retry();
      const at = retryAt(policy, attempt, clock.now(), nextRun(deps.schedule(), slot));
      if (at === null) {
        logger.warn('scheduled run failed; no retry left before the next slot', {
          slot: new Date(slot).toISOString(),
          attempts: attempt,
        });
        return;
      }
      emit({ type: 'retry-waiting', slot, attempt: attempt + 1, until: at });
      logger.info('scheduled run failed; retrying within its slot', {
        slot: new Date(slot).toISOString(),
        attempt: attempt + 1,
        at: new Date(at).toISOString(),
      });
      await sleep(at);
      // Woken early (a config reload): wait out the rest unless the service is stopping.
      while (!stopping.signal.aborted && clock.now() < at) await sleep(at);
    }
  }

  async function sleep(until: number): Promise<void> {
    wakeup = new AbortController();
    const both = AbortSignal.any([wakeup.signal, stopping.signal]);
    await clock.sleepUntil(until, both);
  }

  const done = loop();
  done.catch(() => undefined);
  let stopped: Promise<void> | null = null;

  return {
    done,
    wake: () => wakeup.abort(),
    stop(graceMs) {
      if (!stopped) {
        stopping.abort();
        stopped = (async () => {
          const running = inFlight;
          if (running) {
            const grace = new AbortController();
            const finished = await Promise.race([
              running.then(() => true),
              clock.sleepUntil(clock.now() + graceMs, grace.signal).then(() => false),
            ]);
            grace.abort();
            if (!finished) {
              logger.warn(
                'grace period over: interrupting the run (it publishes no tombstones and moves no watermark)',
                { graceMs },
              );
              runAbort.abort();
            }
          }
          await done.catch(() => undefined);
        })();
      }
      return stopped;
    },
  };
}

import { silentLogger } from '../../../kernel/logger';
import {
  retryDelay,
  startScheduler,
  type Schedule,
  type Scheduler,
  type SchedulerEvent,
} from '../../../pipeline/schedule';
import { EventQueue, FakeClock } from './fake-clock';

const DAILY_2AM_BERLIN: Schedule = {
  repeats: 'daily',
  startTime: { hour: 2, minute: 0 },
  timeZone: 'Europe/Berlin',
  active: true,
};
const ms = (iso: string) => Date.parse(iso);

interface Harness {
  clock: FakeClock;
  events: EventQueue<SchedulerEvent>;
  scheduler: Scheduler;
  runs: { slot: number; signal: AbortSignal; finish: () => void }[];
  setSchedule(s: Schedule): void;
}

/** A scheduler on a fake clock whose runs last until the test finishes them (or their signal aborts). */
function harness(opts: {
  now: string;
  lastRunStart: string | null;
  schedule?: Schedule;
  autoFinish?: boolean;
}): Harness {
  const clock = new FakeClock(ms(opts.now));
  const events = new EventQueue<SchedulerEvent>();
  let schedule = opts.schedule ?? DAILY_2AM_BERLIN;
  const runs: Harness['runs'] = [];
  const scheduler = startScheduler({
    schedule: () => schedule,
    lastRunStart: async () => (opts.lastRunStart ? ms(opts.lastRunStart) : null),
    run: (slot, signal) =>
      new Promise<void>((resolve) => {
        runs.push({ slot, signal, finish: resolve });
        signal.addEventListener('abort', () => resolve(), { once: true });
        if (opts.autoFinish) resolve();
      }),
    clock,
    logger: silentLogger,
    onEvent: events.push,
  });
  return { clock, events, scheduler, runs, setSchedule: (s) => (schedule = s) };
}

describe('the scheduler', () => {
  it('waits for the first slot after start-up when the connector never ran', async () => {
    const h = harness({ now: '2026-06-01T10:00:00Z', lastRunStart: null, autoFinish: true });
    expect(await h.events.next()).toEqual({ type: 'waiting', until: ms('2026-06-02T00:00:00Z') });
    h.clock.advanceTo('2026-06-02T00:00:00Z');
    expect(await h.events.next()).toEqual({
      type: 'run-started',
      slot: ms('2026-06-02T00:00:00Z'),
      missed: false,
      attempt: 1,
    });
    expect(await h.events.next()).toEqual({ type: 'run-finished', slot: ms('2026-06-02T00:00:00Z'), attempt: 1 });
    expect(await h.events.next()).toEqual({ type: 'waiting', until: ms('2026-06-03T00:00:00Z') });
    await h.scheduler.stop(0);
    expect(h.runs).toHaveLength(1);
  });

  it('runs a slot missed during three days of downtime once, then follows the schedule', async () => {
    // last run on 1 June at 02:00 Berlin; the service comes back on 4 June at 12:00 UTC
    const h = harness({ now: '2026-06-04T12:00:00Z', lastRunStart: '2026-06-01T00:00:05Z', autoFinish: true });
    expect(await h.events.next()).toEqual({
      type: 'run-started',
      slot: ms('2026-06-02T00:00:00Z'),
      missed: true,
      attempt: 1,
    });
    await h.events.next(); // finished
    expect(await h.events.next()).toEqual({ type: 'waiting', until: ms('2026-06-05T00:00:00Z') });
    expect(h.runs).toHaveLength(1);
    await h.scheduler.stop(0);
  });

  it('never overlaps runs: a slot passing during a long run runs once, right after it', async () => {
    const h = harness({
      now: '2026-06-01T23:59:00Z',
      lastRunStart: '2026-06-01T23:00:00Z',
      schedule: { ...DAILY_2AM_BERLIN, repeats: 'hourly' },
    });
    expect(await h.events.next()).toEqual({ type: 'waiting', until: ms('2026-06-02T00:00:00Z') });
    h.clock.advanceTo('2026-06-02T00:00:00Z');
    expect(await h.events.next()).toMatchObject({ type: 'run-started', slot: ms('2026-06-02T00:00:00Z') });
    h.clock.advanceTo('2026-06-02T03:30:00Z'); // three more hourly slots pass while it runs
    expect(h.runs).toHaveLength(1);
    h.runs[0].finish();
    await h.events.next(); // finished
    expect(await h.events.next()).toEqual({
      type: 'run-started',
      slot: ms('2026-06-02T01:00:00Z'),
      missed: true,
      attempt: 1,
    });
    h.runs[1].finish();
    await h.events.next();
    expect(await h.events.next()).toEqual({ type: 'waiting', until: ms('2026-06-02T04:00:00Z') });
    expect(h.runs).toHaveLength(2);
    await h.scheduler.stop(0);
  });

  it('starts nothing while inactive; turned on again, it resumes from then (no catch-up)', async () => {
    const h = harness({
      now: '2026-06-01T10:00:00Z',
      lastRunStart: '2026-05-20T00:00:00Z',
      schedule: { ...DAILY_2AM_BERLIN, active: false },
      autoFinish: true,
    });
    expect(await h.events.next()).toEqual({ type: 'inactive' });
    h.clock.advanceTo('2026-06-05T10:00:00Z');
    expect(h.runs).toHaveLength(0);
    h.setSchedule(DAILY_2AM_BERLIN);
    h.scheduler.wake();
    expect(await h.events.next()).toEqual({ type: 'waiting', until: ms('2026-06-06T00:00:00Z') });
    h.clock.advanceTo('2026-06-06T00:00:00Z');
    expect(await h.events.next()).toMatchObject({
      type: 'run-started',
      slot: ms('2026-06-06T00:00:00Z'),
      missed: false,
      attempt: 1,
    });
    await h.events.next();
    expect(h.runs).toHaveLength(1);
    await h.scheduler.stop(0);
  });

  it('on stop, lets a run finish within the grace period', async () => {
    const h = harness({ now: '2026-06-02T00:00:00Z', lastRunStart: '2026-06-01T00:00:00Z' });
    await h.events.next(); // run-started
    const stopped = h.scheduler.stop(30_000);
    h.clock.advanceTo(ms('2026-06-02T00:00:10Z'));
    expect(h.runs[0].signal.aborted).toBe(false);
    h.runs[0].finish();
    await stopped;
    expect(h.runs[0].signal.aborted).toBe(false);
    expect(h.events.buffered.map((e) => e.type)).toEqual(['run-finished', 'stopped']);
  });

  it('on stop, interrupts a run still going when the grace period ends, and starts no other', async () => {
    const h = harness({ now: '2026-06-02T00:00:00Z', lastRunStart: '2026-06-01T00:00:00Z' });
    await h.events.next(); // run-started
    const stopped = h.scheduler.stop(30_000);
    expect(h.clock.sleeping).toBe(1); // the grace timer
    h.clock.advanceTo(ms('2026-06-02T00:00:30Z'));
    await stopped;
    expect(h.runs[0].signal.aborted).toBe(true);
    expect(h.runs).toHaveLength(1);
    expect(h.events.buffered.map((e) => e.type)).toEqual(['run-finished', 'stopped']);
  });

  it('stops at once when idle', async () => {
    const h = harness({ now: '2026-06-01T10:00:00Z', lastRunStart: null });
    await h.events.next(); // waiting
    await h.scheduler.stop(30_000);
    expect(await h.events.next()).toEqual({ type: 'stopped' });
    expect(h.runs).toHaveLength(0);
  });
});

describe('retries of a failed scheduled run within its slot', () => {
  const POLICY = { retries: 3, initialDelayMs: 10 * 60_000, maxDelayMs: 60 * 60_000 };

  /** Runs end at once with the outcomes given in order (then succeed). */
  function failing(
    outcomes: ('failed' | 'succeeded' | 'throws')[],
    schedule: Schedule = DAILY_2AM_BERLIN,
    retry = POLICY,
  ) {
    const clock = new FakeClock(ms('2026-06-02T00:00:00Z'));
    const events = new EventQueue<SchedulerEvent>();
    const runs: { slot: number; attempt: number; at: number }[] = [];
    const scheduler = startScheduler({
      schedule: () => schedule,
      retry: () => retry,
      lastRunStart: async () => ms('2026-06-01T23:59:00Z'), // the due slot is now's
      run: async (slot, _signal, attempt) => {
        runs.push({ slot, attempt, at: clock.now() });
        const o = outcomes[runs.length - 1] ?? 'succeeded';
        if (o === 'throws') throw new Error('broker down');
        return { status: o };
      },
      clock,
      logger: silentLogger,
      onEvent: events.push,
    });
    return { clock, events, scheduler, runs };
  }

  it('retries with doubling backoff until a run succeeds, then waits for the next slot', async () => {
    const h = failing(['failed', 'throws', 'succeeded']);
    const slot = ms('2026-06-02T00:00:00Z');
    expect(await h.events.next()).toEqual({ type: 'run-started', slot, missed: false, attempt: 1 });
    expect(await h.events.next()).toEqual({ type: 'run-finished', slot, attempt: 1, error: 'the run failed' });
    expect(await h.events.next()).toEqual({ type: 'retry-waiting', slot, attempt: 2, until: slot + 10 * 60_000 });
    h.clock.advanceTo(slot + 10 * 60_000);
    expect(await h.events.next()).toEqual({ type: 'run-started', slot, missed: false, attempt: 2 });
    expect(await h.events.next()).toEqual({ type: 'run-finished', slot, attempt: 2, error: 'broker down' });
    expect(await h.events.next()).toEqual({ type: 'retry-waiting', slot, attempt: 3, until: slot + 30 * 60_000 });
    h.clock.advanceTo(slot + 30 * 60_000);
    expect(await h.events.next()).toEqual({ type: 'run-started', slot, missed: false, attempt: 3 });
    expect(await h.events.next()).toEqual({ type: 'run-finished', slot, attempt: 3 });
    expect(await h.events.next()).toEqual({ type: 'waiting', until: ms('2026-06-03T00:00:00Z') });
    expect(h.runs.map((r) => [r.attempt, r.at - slot])).toEqual([
      [1, 0],
      [2, 600_000],
      [3, 1_800_000],
    ]);
    await h.scheduler.stop(0);
  });

  it('gives up after the configured retries', async () => {
    const h = failing(['failed', 'failed', 'failed', 'failed', 'failed'], DAILY_2AM_BERLIN, { ...POLICY, retries: 2 });
    const slot = ms('2026-06-02T00:00:00Z');
    for (const [attempt, until] of [
      [2, 10],
      [3, 30],
    ]) {
      await h.events.next();
      await h.events.next();
      expect(await h.events.next()).toEqual({ type: 'retry-waiting', slot, attempt, until: slot + until * 60_000 });
      h.clock.advanceTo(slot + until * 60_000);
    }
    await h.events.next();
    await h.events.next();
    expect(await h.events.next()).toEqual({ type: 'waiting', until: ms('2026-06-03T00:00:00Z') });
    expect(h.runs).toHaveLength(3);
    await h.scheduler.stop(0);
  });

  it('never retries into the next slot (randomized policies; replay with SEED)', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 100000);
    let x = seed;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 20; i++) {
      const policy = {
        retries: 1 + Math.floor(rnd() * 6),
        initialDelayMs: 60_000 * (1 + Math.floor(rnd() * 40)),
        maxDelayMs: 60_000 * (1 + Math.floor(rnd() * 120)),
      };
      const hourly: Schedule = { ...DAILY_2AM_BERLIN, repeats: 'hourly' };
      const h = failing(Array(20).fill('failed'), hourly, policy);
      // drive the clock to every retry until the scheduler waits for the next slot
      for (;;) {
        const e = await h.events.next();
        if (e.type === 'retry-waiting') h.clock.advanceTo(e.until);
        if (e.type === 'waiting') break;
      }
      const slot = ms('2026-06-02T00:00:00Z');
      const ctx = { seed, i, policy };
      expect({ ...ctx, all: h.runs.every((r) => r.slot === slot && r.at < slot + 3_600_000) }).toEqual({
        ...ctx,
        all: true,
      });
      expect({ ...ctx, n: h.runs.length <= policy.retries + 1 }).toEqual({ ...ctx, n: true });
      // and it did retry whenever the next attempt fitted
      const last = h.runs[h.runs.length - 1];
      const fits = h.runs.length <= policy.retries && last.at + retryDelay(policy, last.attempt) < slot + 3_600_000;
      expect({ ...ctx, gaveUpEarly: fits }).toEqual({ ...ctx, gaveUpEarly: false });
      await h.scheduler.stop(0);
    }
  });

  it('stop during a retry wait ends at once, without another run', async () => {
    const h = failing(['failed']);
    await h.events.next();
    await h.events.next();
    expect((await h.events.next()).type).toBe('retry-waiting');
    await h.scheduler.stop(30_000);
    expect(await h.events.next()).toEqual({ type: 'stopped' });
    expect(h.runs).toHaveLength(1);
  });
});

import type { Simulator } from '../../simulator/api';

/**
 * What the org's own data says the connector's output must be: the source of truth the run
 * promise tests compare the users topic and the sink's tables with (never our own output).
 */
export interface ExpectedDevice {
  deviceBrowser: string | null;
  devicePlatform: string | null;
  deviceApplication: string | null;
  deviceSourceIp: string | null;
  deviceLoginAt: number | null;
}

export const NO_DEVICE: ExpectedDevice = {
  deviceBrowser: null,
  devicePlatform: null,
  deviceApplication: null,
  deviceSourceIp: null,
  deviceLoginAt: null,
};

const FIELDS = ['Id', 'UserId', 'LoginTime', 'Status', 'Browser', 'Platform', 'Application', 'SourceIp'];

/**
 * Each user's latest successful login in the org (later LoginTime, then larger Id), as the
 * device fields of their user record. `since` (epoch ms) limits it to the events a run could
 * have read; `until` leaves out events after a moment (future-dated rows are read like others).
 */
export function expectedDevices(sim: Simulator, since = -Infinity): Map<string, ExpectedDevice> {
  const best = new Map<string, { t: number; id: string; row: Record<string, string> }>();
  for (const row of sim.loginRows(FIELDS)) {
    if (row.Status !== 'Success') continue;
    const t = Date.parse(row.LoginTime);
    if (t < since) continue;
    const cur = best.get(row.UserId);
    if (cur && (cur.t > t || (cur.t === t && cur.id > row.Id))) continue;
    best.set(row.UserId, { t, id: row.Id, row });
  }
  const out = new Map<string, ExpectedDevice>();
  for (const [user, { t, row }] of best) {
    out.set(user, {
      deviceBrowser: row.Browser || null,
      devicePlatform: row.Platform || null,
      deviceApplication: row.Application || null,
      deviceSourceIp: row.SourceIp || null,
      deviceLoginAt: t,
    });
  }
  return out;
}

/** The device fields of a decoded user record. */
export function deviceOf(rec: Record<string, unknown> | undefined): ExpectedDevice {
  if (!rec) return NO_DEVICE;
  const at = rec.deviceLoginAt;
  return {
    deviceBrowser: (rec.deviceBrowser as string | null) ?? null,
    devicePlatform: (rec.devicePlatform as string | null) ?? null,
    deviceApplication: (rec.deviceApplication as string | null) ?? null,
    deviceSourceIp: (rec.deviceSourceIp as string | null) ?? null,
    deviceLoginAt: at === null || at === undefined ? null : at instanceof Date ? at.getTime() : Number(at),
  };
}

/** A seeded PRNG (mulberry32) and the seed: printed by each test, replayed with SYNC_SEED=<n>. */
export function seededRandom(label: string): {
  seed: number;
  next: () => number;
  pick: <T>(xs: readonly T[]) => T;
  sample: <T>(xs: readonly T[], n: number) => T[];
} {
  const seed = process.env.SYNC_SEED ? Number(process.env.SYNC_SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`${label}: seed ${seed} (replay with SYNC_SEED=${seed})`);
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
  const sample = <T>(xs: readonly T[], n: number) => {
    const copy = [...xs];
    const out: T[] = [];
    while (out.length < n && copy.length > 0) out.push(copy.splice(Math.floor(next() * copy.length), 1)[0]);
    return out;
  };
  return { seed, next, pick, sample };
}

type Seen = { t: number; id: string; device: ExpectedDevice };
const later = (a: Seen, b: Seen | undefined) => !b || a.t > b.t || (a.t === b.t && a.id > b.id);

/**
 * The device fields the connector can know, from the org's data and the documented rule: each
 * successful run reads the login events that became visible since the last one; a user it
 * publishes (selected by the status filter) carries the latest successful login among the
 * events read while they were selected; a user that leaves the selection is forgotten (their
 * record is tombstoned), so one who comes back starts from the events read from then on.
 * An event that became visible while its user was not selected was never read (the query asks
 * for the selected users' events only); a later run that selects the user reads it when it is
 * still inside the overlap window: allowed, not required (as LoginOracle's `allowed`). So is
 * the device a user had when it left: a run that selects it again re-reads the events inside
 * its login overlap (an hour by default), and the latest of them may be that one.
 */
export class DeviceOracle {
  private readonly seen = new Set<string>();
  private readonly best = new Map<string, Seen>();
  /** Successful events first visible while their user was not selected, by user. */
  private readonly pending = new Map<string, Seen[]>();
  /** Of those, the ones a run selecting their user may have read, by user. */
  private readonly allowed = new Map<string, Seen[]>();

  /** Call after each successful run, with the users the run selected. */
  afterRun(sim: Simulator, selected: readonly string[]): void {
    const live = new Set(selected);
    for (const [id, event] of [...this.best]) {
      if (live.has(id)) continue;
      this.best.delete(id);
      this.pending.set(id, [...(this.pending.get(id) ?? []), event]);
    }
    for (const id of [...this.allowed.keys()]) if (!live.has(id)) this.allowed.delete(id);
    for (const [id, events] of this.pending) {
      if (live.has(id)) this.allowed.set(id, [...(this.allowed.get(id) ?? []), ...events]);
    }
    for (const row of sim.loginRows(FIELDS)) {
      if (this.seen.has(row.Id)) continue;
      this.seen.add(row.Id);
      if (row.Status !== 'Success') continue;
      const t = Date.parse(row.LoginTime);
      const event: Seen = {
        t,
        id: row.Id,
        device: {
          deviceBrowser: row.Browser || null,
          devicePlatform: row.Platform || null,
          deviceApplication: row.Application || null,
          deviceSourceIp: row.SourceIp || null,
          deviceLoginAt: t,
        },
      };
      if (!live.has(row.UserId)) this.pending.set(row.UserId, [...(this.pending.get(row.UserId) ?? []), event]);
      else if (later(event, this.best.get(row.UserId))) this.best.set(row.UserId, event);
    }
  }

  /** The device required: the latest successful login among the events read while selected. */
  device(userId: string): ExpectedDevice {
    return this.best.get(userId)?.device ?? NO_DEVICE;
  }

  /** The required device, or that of an allowed event later than it (the run read it). */
  accepts(userId: string, got: ExpectedDevice): boolean {
    const same = (d: ExpectedDevice) => JSON.stringify(d) === JSON.stringify(got);
    const best = this.best.get(userId);
    if (same(best?.device ?? NO_DEVICE)) return true;
    return (this.allowed.get(userId) ?? []).some((e) => later(e, best) && same(e.device));
  }
}

/**
 * Which login events the sink's table must hold. Only the imported users' events are published:
 * an event is required once a run read it while its user was selected (the run right after it
 * became visible). An event of a user not selected then may still be published by a later run
 * that selects the user while the event is inside its look-back window: allowed, not required.
 * Nothing else may be in the table.
 */
export class LoginOracle {
  private readonly seen = new Set<string>();
  readonly required = new Set<string>();
  private readonly pending = new Map<string, string>(); // event Id → its user, not selected when first read
  readonly allowed = new Set<string>();

  /** Call after each successful run, with the users the run selected. */
  afterRun(sim: Simulator, selected: readonly string[]): void {
    const live = new Set(selected);
    for (const [id, user] of this.pending) if (live.has(user)) this.allowed.add(id);
    for (const row of sim.loginRows(['Id', 'UserId'])) {
      if (this.seen.has(row.Id)) continue;
      this.seen.add(row.Id);
      if (live.has(row.UserId)) this.required.add(row.Id);
      else this.pending.set(row.Id, row.UserId);
    }
  }
}

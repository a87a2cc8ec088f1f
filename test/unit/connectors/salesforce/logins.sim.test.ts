import type { LoginsResult } from '../../../../connectors/salesforce';
import type { Simulator } from '../../../../simulator/api';
import { drain, extractor, realNow, startSim } from './sim-helpers';

const MIN = 60_000;
const DAY = 86_400_000;

describe('LoginHistory against the simulator', () => {
  let sim: Simulator;
  let now: string;
  beforeAll(async () => {
    now = realNow();
    sim = await startSim({ users: 50, logins: 3000, defaultPageSize: 500, now });
  });
  afterAll(() => sim.close());

  it('first run reads the configured look-back window', async () => {
    const got = await drain(extractor(sim, { loginLookbackDays: 10 }).logins(null));
    expect(got.error).toBeUndefined();
    const result = got.result as LoginsResult;
    // since = the extractor's now − 10 days (its clock ran on from the simulator's now)
    expect(result.since.getTime() - (Date.parse(now) - 10 * DAY)).toBeGreaterThanOrEqual(0);
    expect(result.since.getTime() - (Date.parse(now) - 10 * DAY)).toBeLessThan(60_000);
    expect(got.rows.length).toBe(
      sim.loginCount(new Date(Math.floor(result.since.getTime() / 1000) * 1000).toISOString()),
    );
    expect(got.rows.length).toBeGreaterThan(100);
    const max = got.rows
      .map((r) => r.LoginTime)
      .sort()
      .pop()!;
    expect(result.watermark!.getTime()).toBe(Date.parse(max));
    expect(result.cursor!.watermark).toBe(new Date(max).toISOString());
    expect(new Set(got.rows.map((r) => r.Id)).size).toBe(got.rows.length);
  });

  it('a login exactly at the boundary is neither lost nor duplicated across two extractions', async () => {
    const first = await drain(extractor(sim, { loginLookbackDays: 30 }).logins(null));
    const r1 = first.result as LoginsResult;
    const w = r1.watermark!.toISOString();
    // New events: exactly at the watermark, and committed late inside the overlap.
    const atBoundary = sim.addLogins(2, { at: w });
    const late = sim.addLogins(1, { at: new Date(r1.watermark!.getTime() - 2 * MIN).toISOString() });
    const after = sim.addLogins(1, { at: new Date(r1.watermark!.getTime() + MIN).toISOString() });

    // A new extractor (a later run in a new process) with the persisted cursor.
    const second = await drain(extractor(sim).logins(JSON.parse(JSON.stringify(r1.cursor))));
    expect(second.error).toBeUndefined();
    const ids2 = second.rows.map((r) => r.Id).sort();
    expect(ids2).toEqual([...atBoundary, ...late, ...after].sort());
    const r2 = second.result as LoginsResult;
    expect(r2.duplicatesDropped).toBeGreaterThan(0);
    expect(r2.watermark!.getTime()).toBe(r1.watermark!.getTime() + MIN);

    // Together the two runs hold every event since the first run's start, each once.
    const all = [...first.rows.map((r) => r.Id), ...ids2];
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(sim.loginCount(new Date(Math.floor(r1.since.getTime() / 1000) * 1000).toISOString()));

    // A third run with nothing new emits nothing and keeps the watermark.
    const third = await drain(extractor(sim).logins(r2.cursor));
    expect(third.rows).toEqual([]);
    expect((third.result as LoginsResult).watermark).toEqual(r2.watermark);
  });

  it('with a bare watermark, the same extractor remembers what it emitted in the overlap', async () => {
    const ex = extractor(sim, { loginOverlapMs: 0 });
    const first = await drain(ex.logins(null));
    const w = (first.result as LoginsResult).watermark!;
    const [boundary] = sim.addLogins(1, { at: w.toISOString() });
    const second = await drain(ex.logins(w));
    expect(second.rows.map((r) => r.Id)).toEqual([boundary]);
  });
});

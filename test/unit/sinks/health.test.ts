import { SinkHealthState } from '../../../sinks/engine/health';
import { mulberry32 } from '../../../simulator/prng';

/**
 * /health's rule, over random states: not ready exactly when the database is unreachable, a
 * partition waits on trouble, or there is lag and nothing was committed for stallAfterMs; each
 * cause is named. HEALTH_SEED=<n> replays a run.
 */
const seed = Number(process.env.HEALTH_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe(`sink health report (HEALTH_SEED=${seed})`, () => {
  it('is ready exactly when no cause holds, and names every cause that does', () => {
    const rnd = mulberry32(seed);
    for (let run = 0; run < 500; run++) {
      let now = 1_000_000;
      const state = new SinkHealthState(() => now);
      const databaseReachable = rnd() < 0.7;
      const waiting = rnd() < 0.3;
      if (waiting)
        state.setTrouble('users', 0, {
          what: 'decoding (schema registry)',
          code: 'SCHEMA_NOT_FOUND',
          message: 'x',
          since: now,
        });
      if (rnd() < 0.3) {
        state.setTrouble('logins', 1, { what: 'writing a batch', code: 'DB_BUSY', message: 'y', since: now });
        state.setTrouble('logins', 1, undefined); // recovered
      }
      now += Math.floor(rnd() * 10_000);
      if (rnd() < 0.5) state.committed();
      now += Math.floor(rnd() * 10_000);
      const stallAfterMs = Math.floor(rnd() * 10_000);
      const lag = [0, 1].map((partition) => ({
        topic: 'users',
        partition,
        lag: rnd() < 0.5 ? 0 : 1 + Math.floor(rnd() * 100),
      }));
      const r = state.report({ databaseReachable, lag, stallAfterMs });
      const stalled = lag.some((p) => p.lag > 0) && r.lastCommitAgeMs > stallAfterMs;
      expect(r.ready).toBe(databaseReachable && !waiting && !stalled);
      expect(r.reasons.some((x) => x.includes('database is unreachable'))).toBe(!databaseReachable);
      expect(
        r.reasons.some((x) => x.includes('users[0] waits: decoding (schema registry) failed (SCHEMA_NOT_FOUND)')),
      ).toBe(waiting);
      expect(r.reasons.some((x) => x.includes('logins[1]'))).toBe(false);
      expect(r.reasons.some((x) => x.includes('nothing committed'))).toBe(stalled);
      expect(r.partitions.find((p) => p.partition === 0)?.trouble !== undefined).toBe(waiting);
    }
  });
});

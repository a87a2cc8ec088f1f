import { Client } from 'pg';
import { mulberry32 } from '../../../simulator/prng';
import { services } from '../../support/services';
import { SinkHarness, type Produce } from '../../support/sink-harness';
import { login, loginId, user, userId } from '../../support/sink-fixtures';
import { waitFor } from '../../support/wait';
import { SECONDARY_INDEXES as SECONDARY, secondaryIndexCount } from '../../support/pg-indexes';

/**
 * A sink started before its topics exist (session 15, sinks/engine/engine.ts): the compose stack
 * starts the sink and the connector together, and the connector creates the topics at its start,
 * so the sink may come first. It creates the missing topics itself (as it did before), but before
 * opening its tables now: an empty topic begins a live bulk load (bulk.ts), where a missing one
 * gave no end offsets and no bulk load at all (every row through the key probe and every index).
 * LIVE_TOPICS_S15_SEED=<n> replays a run.
 */
const seed = Number(process.env.LIVE_TOPICS_S15_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** A harness whose topics do not exist yet: only its schemas are registered. */
class NoTopicsHarness extends SinkHarness {
  override async setUp(): Promise<this> {
    await this.registerSchemas();
    return this;
  }
}

describe(`PostgreSQL sink started before its topics exist (LIVE_TOPICS_S15_SEED=${seed})`, () => {
  let h: SinkHarness;
  let db: Client;
  beforeEach(async () => {
    h = await new NoTopicsHarness({ partitions: 1 }).setUp();
    db = new Client({ connectionString: services().DATABASE_URL });
    await db.connect();
  });
  afterEach(async () => {
    await db.end().catch(() => undefined);
    await h.close();
  });

  it('creates them, and the first run is a live bulk load: no secondary index while it arrives', async () => {
    const rnd = mulberry32(seed);
    const users = 50 + Math.floor(rnd() * 100);
    const logins = 50 + Math.floor(rnd() * 100);
    const seen: number[] = [];
    const sink = h.sink({
      tuning: {
        maxBytesPerPartition: 4096,
        maxBatchBytes: 8192,
        fetchMinBytes: 1,
        liveLoadIdleMs: 1500,
        retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 50, maxDelayMs: 500 },
      },
      hooks: {
        insideTransaction: async ({ topic }) =>
          void seen.push(await secondaryIndexCount(db, topic === h.topics.users ? h.tables.users : h.tables.logins)),
      },
    });
    await sink.start();
    const loginRecords: Produce[] = [];
    for (let i = 0; i < logins; i++)
      loginRecords.push({ key: loginId(i), value: login(loginId(i), userId(i % users), 1_700_000_000_000 + i) });
    const userRecords: Produce[] = [];
    for (let i = 0; i < users; i++) userRecords.push({ key: userId(i), value: user(userId(i)) });
    for (const [topic, records] of [
      [h.topics.logins, loginRecords],
      [h.topics.users, userRecords],
    ] as const)
      for (let at = 0; at < records.length; at += 20) await h.produce(topic, records.slice(at, at + 20));
    await h.caughtUp();
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.filter((n) => n !== 0)).toEqual([]);
    await waitFor('the secondary indexes', 30_000, async () => {
      return (
        (await secondaryIndexCount(db, h.tables.users)) === SECONDARY.users &&
        (await secondaryIndexCount(db, h.tables.logins)) === SECONDARY.logins
      );
    });
    expect((await h.rows('users', 'id')).length).toBe(users);
    expect((await h.rows('logins', 'id')).length).toBe(logins);
  });
});

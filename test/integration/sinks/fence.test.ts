import { mulberry32 } from '../../../simulator/prng';
import { SinkHarness, type Produce } from '../../support/sink-harness';
import { user, userId } from '../../support/sink-fixtures';
import { waitFor } from '../../support/wait';

/**
 * Exactly-once into the tables: two sink instances in one group, the first stuck inside its
 * database transaction (a slow transaction) until the group has moved its partition to the
 * second, which applies newer values and a deletion. When the zombie's transaction finally goes
 * on, it must change nothing: the table holds the latest value of every key, and the deleted
 * user stays deleted. Randomised: FENCE_SEED=<n> replays a run.
 */
const seed = Number(process.env.FENCE_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe(`PostgreSQL sink: a zombie after a rebalance cannot write older data (FENCE_SEED=${seed})`, () => {
  let h: SinkHarness;
  beforeEach(async () => (h = await new SinkHarness().setUp()));
  afterEach(() => h.close());

  it('tables equal the latest value per key after a forced rebalance during a slow transaction', async () => {
    const rnd = mulberry32(seed);
    const keys = 5 + Math.floor(rnd() * 30);
    const first: Produce[] = Array.from({ length: keys }, (_, i) => ({
      key: userId(i),
      value: user(userId(i), { title: `old-${i}` }),
    }));
    await h.produce(h.topics.users, first);

    // Sink A: stuck inside its first users transaction until released.
    let stuck = false;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let zombieCommitted = false;
    const a = h.sink({
      tuning: {
        sessionTimeoutMs: 6000,
        retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 100, maxDelayMs: 1000 },
      },
      hooks: {
        insideTransaction: async ({ topic }) => {
          if (topic !== h.topics.users || stuck) return;
          stuck = true;
          await released;
        },
        afterDatabaseCommit: ({ topic }) => {
          if (topic === h.topics.users) zombieCommitted = true;
        },
      },
    });
    await a.start();
    let zombieFailed = false;
    a.done.catch(() => (zombieFailed = true));
    await waitFor('sink A to be inside its first transaction', 60_000, async () => stuck);

    // Newer values for some keys, a deletion or more, then sink B takes over the partition.
    const second: Produce[] = [];
    const latest = new Map<string, string | null>(first.map((r, i) => [r.key as string, `old-${i}`]));
    for (let i = 0; i < keys; i++) {
      const roll = rnd();
      if (roll < 0.5) {
        second.push({ key: userId(i), value: user(userId(i), { title: `new-${i}` }) });
        latest.set(userId(i), `new-${i}`);
      } else if (roll < 0.7) {
        second.push({ key: userId(i), value: null });
        latest.set(userId(i), null);
      }
    }
    if (!second.some((r) => r.value === null)) {
      second.push({ key: userId(0), value: null });
      latest.set(userId(0), null);
    }
    await h.produce(h.topics.users, second);
    const expected = [...latest]
      .filter(([, t]) => t !== null)
      .map(([id, title]) => ({ id, title }))
      .sort((x, y) => x.id.localeCompare(y.id));

    const b = h.sink();
    await b.start();
    await waitFor(
      'sink B to apply the newer values',
      90_000,
      async () => JSON.stringify(await h.rows('users', 'id, title')) === JSON.stringify(expected),
    );

    // The zombie goes on with its transaction of the older values.
    release();
    await waitFor('the zombie transaction to end', 60_000, async () => zombieCommitted || zombieFailed);
    expect(await h.rows('users', 'id, title')).toEqual(expected);
  });
});

describe('PostgreSQL sink: the database offsets are the truth on start', () => {
  let h: SinkHarness;
  beforeEach(async () => (h = await new SinkHarness().setUp()));
  afterEach(() => h.close());

  it('a database that lost commits (rows, offset) is refilled from Kafka, though the group committed on', async () => {
    const rnd = mulberry32(seed);
    const keys = 10 + Math.floor(rnd() * 40);
    const records: Produce[] = Array.from({ length: keys }, (_, i) => ({
      key: userId(i),
      value: user(userId(i), { title: `t-${i}` }),
    }));
    await h.produce(h.topics.users, records);
    const first = h.sink();
    await first.start();
    await h.caughtUp();
    await first.stop();
    const full = await h.rows('users', 'id, title');
    expect(full).toHaveLength(keys);

    // What a crash with synchronous_commit off (or a restored backup) leaves: the last
    // transactions gone, rows and offsets alike; Kafka's committed offsets still at the end.
    const lost = 1 + Math.floor(rnd() * (keys - 1));
    await h.pool.query(`DELETE FROM "${h.tables.users}" WHERE id = ANY($1)`, [
      full.slice(keys - lost).map((r) => r.id),
    ]);
    await h.pool.query('UPDATE neurons_sink_offsets SET next_offset = $2 WHERE table_name = $1', [
      h.tables.users,
      keys - lost,
    ]);

    const second = h.sink();
    await second.start();
    await waitFor(
      'the lost rows to be read again from Kafka',
      60_000,
      async () => (await h.rows('users', 'id')).length === keys,
    );
    expect(await h.rows('users', 'id, title')).toEqual(full);
  });
});

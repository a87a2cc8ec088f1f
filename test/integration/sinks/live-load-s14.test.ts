import { Client } from 'pg';
import { FatalError } from '../../../kernel/errors';
import { sleep } from '../../../kernel/retry';
import { mulberry32 } from '../../../simulator/prng';
import { services } from '../../support/services';
import { SinkHarness, type Produce } from '../../support/sink-harness';
import { login, loginId, user, userId } from '../../support/sink-fixtures';
import { waitFor } from '../../support/wait';
import { SECONDARY_INDEXES as SECONDARY, secondaryIndexCount } from '../../support/pg-indexes';

/**
 * The live first load (session 14, sinks/postgres/bulk.ts): the sink started before the
 * connector's first run (the compose stack's order: empty topics, empty tables) loads that run
 * in bulk, as it would the same records from a backlog: one COPY a batch straight into tables
 * without their secondary indexes, built once the load ends (nothing written for
 * tuning.liveLoadIdleMs, or the first batch whose key the table holds already). Before session
 * 14 such a load took the normal path (key probe, every index maintained row by row).
 * The tables must end as the records say, with every declared index, also after a crash in the
 * middle of the load. LIVE_LOAD_SEED=<n> replays a run.
 */
const seed = Number(process.env.LIVE_LOAD_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** Declared secondary indexes (schemas/streams): users email, username, managerId; logins userId+loginTime. */

interface FirstRun {
  /** The records in the order the run sends them, in sends of a few records each. */
  sends: { topic: 'users' | 'logins'; records: Produce[] }[];
  titles: Map<string, string>;
  browsers: Map<string, string>;
}

/**
 * A first run: its login events, then its users, each sent in small sends as a producer sends
 * them. `repeats`: some users sent again later with another title, some removed (a tombstone,
 * whose deletion cascades to the user's login events: none here, to keep the expected rows simple).
 */
function firstRun(rnd: () => number, repeats: boolean): FirstRun {
  const users = 60 + Math.floor(rnd() * 120);
  const titles = new Map<string, string>();
  const browsers = new Map<string, string>();
  const loginRecords: Produce[] = [];
  const logins = 60 + Math.floor(rnd() * 200);
  for (let i = 0; i < logins; i++) {
    const id = loginId(i);
    const browser = `browser-${i}`;
    loginRecords.push({
      key: id,
      value: login(id, userId(Math.floor(rnd() * users)), 1_700_000_000_000 + i, { browser }),
    });
    browsers.set(id, browser);
  }
  const userRecords: Produce[] = [];
  for (let i = 0; i < users; i++) {
    const id = userId(i);
    userRecords.push({ key: id, value: user(id, { title: `title-${i}` }) });
    titles.set(id, `title-${i}`);
  }
  if (repeats) {
    const loggedIn = new Set(loginRecords.map((r) => (r.value as { userId: string }).userId));
    for (let i = 0; i < 10; i++) {
      const id = userId(Math.floor(rnd() * users));
      if (rnd() < 0.3 && !loggedIn.has(id)) {
        userRecords.push({ key: id, value: null });
        titles.delete(id);
      } else {
        userRecords.push({ key: id, value: user(id, { title: `again-${i}` }) });
        titles.set(id, `again-${i}`);
      }
    }
  }
  const sends: FirstRun['sends'] = [];
  for (const [topic, records] of [
    ['logins', loginRecords],
    ['users', userRecords],
  ] as const) {
    for (let at = 0; at < records.length;) {
      const n = 5 + Math.floor(rnd() * 40);
      sends.push({ topic, records: records.slice(at, at + n) });
      at += n;
    }
  }
  return { sends, titles, browsers };
}

describe(`PostgreSQL sink: a first run while the sink is up is a bulk load (LIVE_LOAD_SEED=${seed})`, () => {
  let h: SinkHarness;
  let db: Client;
  beforeEach(async () => {
    h = await new SinkHarness({ partitions: 2 }).setUp();
    db = new Client({ connectionString: services().DATABASE_URL });
    await db.connect();
  });
  afterEach(async () => {
    await db.end().catch(() => undefined);
    await h.close();
  });

  const secondary = (table: 'users' | 'logins') => secondaryIndexCount(db, h.tables[table]);
  const indexesBuilt = () =>
    waitFor('the secondary indexes to be built', 30_000, async () => {
      return (await secondary('users')) === SECONDARY.users && (await secondary('logins')) === SECONDARY.logins;
    });
  const expectRows = async (r: FirstRun) => {
    expect(await h.rows('users', 'id, title')).toEqual(
      [...r.titles].sort(([a], [c]) => (a < c ? -1 : 1)).map(([id, title]) => ({ id, title })),
    );
    expect(await h.rows('logins', 'id, browser')).toEqual(
      [...r.browsers].sort(([a], [c]) => (a < c ? -1 : 1)).map(([id, browser]) => ({ id, browser })),
    );
  };
  const send = async (r: FirstRun, rnd: () => number) => {
    for (const s of r.sends) {
      await h.produce(h.topics[s.topic], s.records);
      if (rnd() < 0.3) await sleep(Math.floor(rnd() * 30));
    }
  };
  // Small fetches: the run takes many batches. A long idle end: the load lasts the whole run.
  const tuning = {
    maxBytesPerPartition: 4096,
    maxBatchBytes: 8192,
    fetchMinBytes: 1,
    liveLoadIdleMs: 3000,
    retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 50, maxDelayMs: 500 },
  };

  it('no secondary index while the run arrives; at the end the rows of the run and every index', async () => {
    const rnd = mulberry32(seed);
    const run = firstRun(rnd, false);
    const seen: { users: number; logins: number }[] = [];
    const sink = h.sink({
      tuning,
      hooks: {
        insideTransaction: async () => {
          seen.push({ users: await secondary('users'), logins: await secondary('logins') });
        },
      },
    });
    await sink.start();
    await send(run, rnd);
    await h.caughtUp();
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.filter((s) => s.users !== 0 || s.logins !== 0)).toEqual([]);
    await indexesBuilt();
    await expectRows(run);
  });

  it('users sent again and removed during the run: the rows as the records say, every index', async () => {
    const rnd = mulberry32(seed + 1);
    const run = firstRun(rnd, true);
    const sink = h.sink({ tuning: { ...tuning, liveLoadIdleMs: 500 } });
    await sink.start();
    await send(run, rnd);
    await h.caughtUp();
    await indexesBuilt();
    await expectRows(run);
    const { rows } = await db.query(`SELECT id FROM "${h.tables.users}" GROUP BY id HAVING count(*) > 1`);
    expect(rows).toEqual([]);
  });

  it('a crash in the middle of the load: the next start builds the indexes; the rows of the run', async () => {
    const rnd = mulberry32(seed + 2);
    const run = firstRun(rnd, rnd() < 0.5);
    const failAt = 1 + Math.floor(rnd() * 3);
    let transactions = 0;
    const first = h.sink({
      tuning,
      hooks: {
        insideTransaction: () => {
          if (transactions++ === failAt) throw new FatalError('TEST_CRASH', `injected at transaction ${failAt}`);
        },
      },
    });
    await first.start();
    const sent = send(run, rnd);
    await expect(first.done).rejects.toThrow('injected');
    await first.stop();
    await sent;
    const stored = async (table: string) =>
      Number(
        (
          await db.query<{ n: string }>(
            `SELECT (SELECT count(*) FROM "${table}") + ` +
              '(SELECT count(*) FROM neurons_sink_offsets WHERE table_name = $1) AS n',
            [table],
          )
        ).rows[0].n,
      );
    const had = await stored(h.tables.users);
    // Rows (or offsets) there: not a bulk load, the indexes are there before the first batch. Else
    // the users' records are a backlog now: the backlog's bulk load (bulk-load.test.ts).
    const seen: number[] = [];
    const second = h.sink({
      tuning,
      hooks: { insideTransaction: async () => void seen.push(await secondary('users')) },
    });
    await second.start();
    await h.caughtUp();
    if (had > 0) expect(seen.filter((n) => n !== SECONDARY.users)).toEqual([]);
    await indexesBuilt();
    await expectRows(run);
  });
});

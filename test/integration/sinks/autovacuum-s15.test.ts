import { Client, Pool } from 'pg';
import { FatalError } from '../../../kernel/errors';
import { sleep } from '../../../kernel/retry';
import { mulberry32 } from '../../../simulator/prng';
import { services } from '../../support/services';
import { SinkHarness, type Produce } from '../../support/sink-harness';
import { login, loginId, user, userId } from '../../support/sink-fixtures';
import { waitFor } from '../../support/wait';
import { SECONDARY_INDEXES as SECONDARY, secondaryIndexCount } from '../../support/pg-indexes';

/**
 * Autovacuum during the sink's first load (session 15, sinks/postgres/bulk.ts): a bulk load (live,
 * or from a backlog) turns autovacuum off on its own fresh tables (autovacuum_enabled = false), so
 * PostgreSQL does not VACUUM and ANALYZE them again and again while they grow (a 1M-row users table
 * of 188 columns: each ANALYZE samples 30,000 rows), and at its end, with the indexes, ANALYZEs their
 * key and indexed columns and gives them back to autovacuum (RESET), whose next round gathers the
 * other columns' statistics. A crash in the middle of the load must not leave
 * a table without autovacuum: the next start restores it, with statistics. A table whose
 * autovacuum_enabled the operator set is left as it is. AUTOVACUUM_S15_SEED=<n> replays a run.
 */
const seed = Number(process.env.AUTOVACUUM_S15_SEED ?? Math.floor(Math.random() * 2 ** 31));

interface Run {
  sends: { topic: 'users' | 'logins'; records: Produce[] }[];
  users: number;
  logins: number;
}

/** A first run in small sends: login events, then users (distinct keys). */
function firstRun(rnd: () => number): Run {
  const users = 80 + Math.floor(rnd() * 120);
  const logins = 80 + Math.floor(rnd() * 200);
  const loginRecords: Produce[] = [];
  for (let i = 0; i < logins; i++)
    loginRecords.push({
      key: loginId(i),
      value: login(loginId(i), userId(Math.floor(rnd() * users)), 1_700_000_000_000 + i),
    });
  const userRecords: Produce[] = [];
  for (let i = 0; i < users; i++) userRecords.push({ key: userId(i), value: user(userId(i), { title: `t-${i}` }) });
  const sends: Run['sends'] = [];
  for (const [topic, records] of [
    ['logins', loginRecords],
    ['users', userRecords],
  ] as const)
    for (let at = 0; at < records.length;) {
      const n = 10 + Math.floor(rnd() * 40);
      sends.push({ topic, records: records.slice(at, at + n) });
      at += n;
    }
  return { sends, users, logins };
}

describe(`PostgreSQL sink: autovacuum off in a bulk load, statistics at its end (AUTOVACUUM_S15_SEED=${seed})`, () => {
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

  /** The table's autovacuum_enabled storage parameter as set on it (null: not set, the server's). */
  const autovacuum = async (table: 'users' | 'logins'): Promise<string | null> => {
    const { rows } = await db.query<{ v: string | null }>(
      "SELECT (SELECT split_part(o, '=', 2) FROM unnest(c.reloptions) o WHERE o LIKE 'autovacuum_enabled=%') AS v " +
        "FROM pg_class c WHERE c.oid = ('public.' || quote_ident($1))::regclass",
      [h.tables[table]],
    );
    return rows[0].v;
  };
  /** Columns with planner statistics (pg_stats): 0 before the table was ever analyzed. */
  const statistics = async (table: 'users' | 'logins'): Promise<number> => {
    const { rows } = await db.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stats WHERE schemaname = 'public' AND tablename = $1",
      [h.tables[table]],
    );
    return Number(rows[0].n);
  };
  /** One transaction: where its batch begins, and the autovacuum_enabled of the table it writes. */
  interface Seen {
    topic: string;
    partition: number;
    firstOffset: bigint;
    autovacuum: string | null;
    /** The table's secondary indexes present (all of them once its load ended). */
    indexes: number;
  }
  /** Records each transaction's autovacuum_enabled (of the table the transaction writes). */
  const recordOwn = (seen: Seen[]) => ({
    insideTransaction: async (at: { topic: string; partition: number; firstOffset: string }) =>
      void seen.push({
        topic: at.topic,
        partition: at.partition,
        firstOffset: BigInt(at.firstOffset),
        autovacuum: await autovacuum(at.topic === h.topics.users ? 'users' : 'logins'),
        indexes: await secondary(at.topic === h.topics.users ? 'users' : 'logins'),
      }),
  });
  /** Each topic's partition → its end offset (the backlog a sink started now has to apply). */
  const endOffsets = async (): Promise<Map<string, bigint>> => {
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      const out = new Map<string, bigint>();
      for (const topic of [h.topics.users, h.topics.logins])
        for (const p of await admin.fetchTopicOffsets(topic)) out.set(`${topic}:${p.partition}`, BigInt(p.high));
      return out;
    } finally {
      await admin.disconnect();
    }
  };
  const secondary = (table: 'users' | 'logins') => secondaryIndexCount(db, h.tables[table]);
  const indexesBuilt = () =>
    waitFor('the secondary indexes to be built', 30_000, async () => {
      return (await secondary('users')) === SECONDARY.users && (await secondary('logins')) === SECONDARY.logins;
    });
  const rowCount = async (table: 'users' | 'logins') =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${h.tables[table]}"`)).rows[0].n);
  const send = async (r: Run, rnd: () => number) => {
    for (const s of r.sends) {
      await h.produce(h.topics[s.topic], s.records);
      if (rnd() < 0.3) await sleep(Math.floor(rnd() * 30));
    }
  };
  const tuning = {
    maxBytesPerPartition: 4096,
    maxBatchBytes: 8192,
    fetchMinBytes: 1,
    liveLoadIdleMs: 1500,
    retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 50, maxDelayMs: 500 },
  };
  /** The table's columns with no planner statistics, and whether an index (the primary key's too) has each. */
  const withoutStatistics = async (table: 'users' | 'logins'): Promise<{ name: string; indexed: boolean }[]> => {
    const { rows } = await db.query<{ name: string; indexed: boolean }>(
      'SELECT a.attname AS name, EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid ' +
        'AND a.attnum = ANY (i.indkey)) AS indexed FROM pg_attribute a ' +
        "WHERE a.attrelid = ('public.' || quote_ident($1))::regclass AND a.attnum > 0 AND NOT a.attisdropped " +
        "AND NOT EXISTS (SELECT 1 FROM pg_stats s WHERE s.schemaname = 'public' AND s.tablename = $1 " +
        'AND s.attname = a.attname) ORDER BY a.attname',
      [h.tables[table]],
    );
    return rows;
  };
  /** Indexed columns (the primary key's included) with no planner statistics. */
  const indexedWithoutStatistics = async (table: 'users' | 'logins'): Promise<string[]> =>
    (await withoutStatistics(table)).filter((c) => c.indexed).map((c) => c.name);
  /** How many columns of the table have no planner statistics. */
  const columnsWithoutStatistics = async (table: 'users' | 'logins'): Promise<number> =>
    (await withoutStatistics(table)).length;
  /** Autovacuum's own rule: its next round ANALYZEs the table (rows changed since the last ANALYZE
   *  above autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × the table's rows). */
  const analyzeDue = (table: 'users' | 'logins') =>
    // The sink's session reports its counts to the statistics system when it goes idle (≤ 1 s).
    waitFor(`autovacuum's next round to be due to ANALYZE ${table}`, 10_000, async () => {
      const { rows } = await db.query<{ due: boolean }>(
        'SELECT s.n_mod_since_analyze > ' +
          "current_setting('autovacuum_analyze_threshold')::float8 + " +
          "current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0) AS due " +
          'FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid ' +
          "WHERE s.relid = ('public.' || quote_ident($1))::regclass",
        [h.tables[table]],
      );
      return rows[0]?.due === true;
    });
  /**
   * After the load: autovacuum back to the server's setting, every index, statistics on the key and
   * the indexed columns at once (what the sink's statements plan with), and on every other column
   * either at once too or from autovacuum's next round, which must then be due (ddl.ts
   * resumeAutovacuum: the load's end does not wait for an ANALYZE of 188 columns).
   */
  const expectRestored = async () => {
    expect(await autovacuum('users')).toBeNull();
    expect(await autovacuum('logins')).toBeNull();
    expect(await statistics('users')).toBeGreaterThan(0);
    expect(await statistics('logins')).toBeGreaterThan(0);
    expect(await indexedWithoutStatistics('users')).toEqual([]);
    expect(await indexedWithoutStatistics('logins')).toEqual([]);
    for (const t of ['users', 'logins'] as const) if ((await columnsWithoutStatistics(t)) > 0) await analyzeDue(t);
    expect(await secondary('users')).toBe(SECONDARY.users);
    expect(await secondary('logins')).toBe(SECONDARY.logins);
  };

  it('a live load: autovacuum off in every transaction of the load; then on again, with statistics', async () => {
    const rnd = mulberry32(seed);
    const run = firstRun(rnd);
    const seen: Seen[] = [];
    const sink = h.sink({
      tuning,
      hooks: recordOwn(seen),
    });
    await sink.start();
    await send(run, rnd);
    await h.caughtUp();
    await indexesBuilt();
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.filter((s) => s.autovacuum !== 'false')).toEqual([]);
    await expectRestored();
    expect(await rowCount('users')).toBe(run.users);
    expect(await rowCount('logins')).toBe(run.logins);
  });

  it('a backlog bulk load: the same', async () => {
    const rnd = mulberry32(seed + 1);
    const run = firstRun(rnd);
    await send(run, rnd);
    const ends = await endOffsets();
    const seen: Seen[] = [];
    const sink = h.sink({
      tuning,
      hooks: recordOwn(seen),
    });
    await sink.start();
    await h.caughtUp();
    await indexesBuilt();
    // The load ends once every partition's stored offset is at its end or ONE short of it (bulk.ts
    // atEnd: a transactional producer's last offset is a commit marker no batch ever covers). These
    // records come from a plain producer, so a partition whose fetch stopped one short gets its last
    // record after the load's end, on the normal path: that one transaction alone may see
    // autovacuum back on. (The trial CI's seed 265616632 failed 2 runs in 3 on it before.)
    const afterEnd = (s: Seen) => s.firstOffset === ends.get(`${s.topic}:${s.partition}`)! - 1n;
    expect(seen.filter((s) => s.autovacuum !== 'false' && !afterEnd(s))).toEqual([]);
    // One seeing autovacuum on came after the load's end, which built the indexes first.
    const full = (s: Seen) => s.indexes === SECONDARY[s.topic === h.topics.users ? 'users' : 'logins'];
    expect(seen.filter((s) => s.autovacuum !== 'false' && !full(s))).toEqual([]);
    expect(seen.filter((s) => !afterEnd(s)).length).toBeGreaterThan(2);
    await expectRestored();
  });

  it('a crash mid-load: the next start restores autovacuum, with statistics, before any write', async () => {
    const rnd = mulberry32(seed + 2);
    const run = firstRun(rnd);
    const failAt = 1 + Math.floor(rnd() * 4); // after a committed transaction: rows or an offset stored
    let transactions = 0;
    const first = h.sink({
      tuning: { ...tuning, liveLoadIdleMs: 60_000 },
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
    expect([await autovacuum('users'), await autovacuum('logins')]).toEqual(['false', 'false']); // left off
    // A table with rows or an offset is past its first start: the next start ends its load. One
    // still empty with no offset begins a new one (its records are a backlog now): off until it ends.
    const stored = async (table: 'users' | 'logins') =>
      Number(
        (
          await db.query<{ n: string }>(
            `SELECT (SELECT count(*) FROM "${h.tables[table]}") + ` +
              '(SELECT count(*) FROM neurons_sink_offsets WHERE table_name = $1) AS n',
            [h.tables[table]],
          )
        ).rows[0].n,
      );
    const loaded: ('users' | 'logins')[] = [];
    for (const t of ['users', 'logins'] as const) if ((await stored(t)) > 0) loaded.push(t);
    expect(loaded.length).toBeGreaterThan(0);
    const seen: { table: string; autovacuum: string | null; statistics: number }[] = [];
    const second = h.sink({
      tuning,
      hooks: {
        insideTransaction: async ({ topic }) => {
          const table = topic === h.topics.users ? 'users' : 'logins';
          seen.push({ table, autovacuum: await autovacuum(table), statistics: await statistics(table) });
        },
      },
    });
    await second.start();
    // The start itself restored the tables past their first start, before writing anything.
    for (const t of loaded) {
      expect(await autovacuum(t)).toBeNull();
      expect(await statistics(t)).toBeGreaterThan(0);
      expect(await secondary(t)).toBe(SECONDARY[t]);
    }
    await h.caughtUp();
    await indexesBuilt();
    expect(
      seen.filter((s) => loaded.includes(s.table as 'users') && (s.autovacuum !== null || s.statistics === 0)),
    ).toEqual([]);
    await expectRestored();
    expect(await rowCount('users')).toBe(run.users);
    expect(await rowCount('logins')).toBe(run.logins);
  });

  it("the operator's own autovacuum_enabled on the table is kept through the load", async () => {
    const rnd = mulberry32(seed + 3);
    const run = firstRun(rnd);
    // The tables exist (a start that wrote nothing), and the operator set the parameter on them.
    const bare = h.sink({ tuning });
    await bare.start();
    await bare.stop();
    for (const t of ['users', 'logins'] as const)
      await db.query(`ALTER TABLE "${h.tables[t]}" SET (autovacuum_enabled = true)`);
    const sink = h.sink({ tuning });
    await sink.start();
    await send(run, rnd);
    await h.caughtUp();
    await indexesBuilt();
    expect(await autovacuum('users')).toBe('true');
    expect(await autovacuum('logins')).toBe('true');
    expect(await rowCount('users')).toBe(run.users);
  });

  it("a server whose autovacuum never runs (track_counts off): every column ANALYZEd at the load's end", async () => {
    const rnd = mulberry32(seed + 4);
    const run = firstRun(rnd);
    await send(run, rnd);
    // The sink's sessions see track_counts off (autovacuum has no counts to act on): nothing would
    // ever gather the statistics of the columns a column-list ANALYZE leaves out.
    const pool = new Pool({ connectionString: services().DATABASE_URL, max: 4, options: '-c track_counts=off' });
    pool.on('error', () => undefined);
    const sink = h.sink({ pool, tuning });
    try {
      await sink.start();
      await h.caughtUp();
      await indexesBuilt();
      expect(await columnsWithoutStatistics('users')).toBe(0);
      expect(await columnsWithoutStatistics('logins')).toBe(0);
      expect(await autovacuum('users')).toBeNull();
    } finally {
      await sink.stop();
      await pool.end();
    }
  });
});

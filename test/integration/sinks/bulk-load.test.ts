import { Client, Pool } from 'pg';
import { FatalError } from '../../../kernel/errors';
import { silentLogger } from '../../../kernel/logger';
import { avroType, loadConnectorSchemas, type AvroSchemaJson } from '../../../schemas/avro';
import { LOGINS, USERS } from '../../../schemas/streams';
import { mulberry32 } from '../../../simulator/prng';
import type { SinkStream, WriteOp, WriterSchema } from '../../../sinks/port';
import { createPostgresStore } from '../../../sinks/postgres/store';
import { sinkStreams, userRemovalCascades } from '../../../sinks/streams';
import { services, uniqueName } from '../../support/services';
import { SinkHarness, type Produce } from '../../support/sink-harness';
import { login, loginId, user, userId } from '../../support/sink-fixtures';
import { waitFor } from '../../support/wait';
import { SECONDARY_INDEXES as SECONDARY, secondaryIndexCount as secondaryCount } from '../../support/pg-indexes';

/**
 * The bulk load (sinks/postgres/bulk.ts): a table that is empty with no stored offset when the
 * sink starts (its first start), or a replay's fresh table, is loaded by one COPY per batch
 * straight into it, without its secondary indexes, which are built once the backlog found at
 * start is applied (a table deletions cascade to, the login events', gets them before the first
 * cascading deletion). A key seen in an
 * earlier batch (several versions of a user, tombstones, an event published twice) goes the
 * normal path. The tables must hold exactly what the records say: the last value per user key
 * (tombstones delete, a re-created key is back), the first login event per id; a load failed in
 * the middle and started again ends the same, with its indexes.
 * BULK_LOAD_SEED=<n> replays a run.
 */
const seed = Number(process.env.BULK_LOAD_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** Declared secondary indexes (schemas/streams): users email, username, managerId; logins userId+loginTime. */

interface Backlog {
  users: Produce[];
  logins: Produce[];
  /** The rows the tables must end with: id → title (users), id → browser (logins). */
  titles: Map<string, string>;
  browsers: Map<string, string>;
}

/** Users with several versions and tombstones (some re-created), login events some published twice. */
function backlog(rnd: () => number): Backlog {
  const users: Produce[] = [];
  const titles = new Map<string, string>();
  const removed = new Set<string>();
  const keys = 40 + Math.floor(rnd() * 160);
  const events = keys + Math.floor(rnd() * keys);
  for (let i = 0; i < events; i++) {
    const id = userId(i < keys ? i : Math.floor(rnd() * keys));
    if (i >= keys && rnd() < 0.3) {
      users.push({ key: id, value: null });
      titles.delete(id);
      removed.add(id);
    } else {
      const title = `title-${i}`;
      users.push({ key: id, value: user(id, { title }) });
      titles.set(id, title);
    }
  }
  // Login events of users never removed (a removed user's events are deleted with it, in whichever
  // order the two topics are read), some published twice with another browser: the first stays.
  const stay = [...titles.keys()].filter((id) => !removed.has(id));
  const logins: Produce[] = [];
  const browsers = new Map<string, string>();
  const n = 20 + Math.floor(rnd() * 300);
  for (let i = 0; i < n; i++) {
    const id = loginId(rnd() < 0.2 && i > 0 ? Math.floor(rnd() * i) : i);
    const browser = `browser-${i}`;
    logins.push({
      key: id,
      value: login(id, stay[Math.floor(rnd() * stay.length)], 1_700_000_000_000 + i, { browser }),
    });
    if (!browsers.has(id)) browsers.set(id, browser);
  }
  return { users, logins, titles, browsers };
}

describe(`PostgreSQL sink: bulk load through Kafka (BULK_LOAD_SEED=${seed})`, () => {
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

  const secondary = (table: 'users' | 'logins') => secondaryCount(db, h.tables[table]);
  const indexesBuilt = () =>
    waitFor('the secondary indexes to be built', 30_000, async () => {
      return (await secondary('users')) === SECONDARY.users && (await secondary('logins')) === SECONDARY.logins;
    });
  const expectRows = async (b: Backlog) => {
    expect(await h.rows('users', 'id, title')).toEqual(
      [...b.titles].sort(([a], [c]) => (a < c ? -1 : 1)).map(([id, title]) => ({ id, title })),
    );
    expect(await h.rows('logins', 'id, browser')).toEqual(
      [...b.browsers].sort(([a], [c]) => (a < c ? -1 : 1)).map(([id, browser]) => ({ id, browser })),
    );
  };
  /** Every partition's stored offset is its topic's end: nothing applied twice, nothing left. */
  const expectOffsets = async () => {
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      for (const [table, topic] of [
        [h.tables.users, h.topics.users],
        [h.tables.logins, h.topics.logins],
      ]) {
        const ends = (await admin.fetchTopicOffsets(topic)).filter((e) => BigInt(e.high) > 0n);
        const { rows } = await db.query<{ partition: number; next_offset: string }>(
          'SELECT partition, next_offset FROM neurons_sink_offsets WHERE table_name = $1 AND topic = $2',
          [table, topic],
        );
        const stored = new Map(rows.map((r) => [r.partition, r.next_offset]));
        expect(Object.fromEntries(ends.map((e) => [e.partition, stored.get(e.partition)]))).toEqual(
          Object.fromEntries(ends.map((e) => [e.partition, e.high])),
        );
      }
    } finally {
      await admin.disconnect();
    }
  };
  /** Every users partition's stored offset at its topic's end or one short of it (bulk.ts atEnd). */
  const usersLoadEnded = async () => {
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      const ends = (await admin.fetchTopicOffsets(h.topics.users)).filter((e) => BigInt(e.high) > 0n);
      const { rows } = await db.query<{ partition: number; next_offset: string }>(
        'SELECT partition, next_offset FROM neurons_sink_offsets WHERE table_name = $1 AND topic = $2',
        [h.tables.users, h.topics.users],
      );
      const stored = new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
      return ends.every((e) => (stored.get(e.partition) ?? -1n) >= BigInt(e.high) - 1n);
    } finally {
      await admin.disconnect();
    }
  };
  // Small fetches and transactions: the backlog takes many batches, keys recur across them.
  const tuning = {
    maxBytesPerPartition: 4096,
    maxBatchBytes: 8192,
    retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 50, maxDelayMs: 500 },
  };

  it('loads into tables without secondary indexes, builds them at the end; rows as the records say', async () => {
    const b = backlog(mulberry32(seed));
    await h.produce(h.topics.users, b.users);
    await h.produce(h.topics.logins, b.logins);
    // What each users transaction of the load saw: the secondary indexes of its table.
    const seen: number[] = [];
    const sink = h.sink({
      tuning,
      hooks: {
        insideTransaction: async ({ topic }) => {
          if (topic === h.topics.users) seen.push(await secondary('users'));
        },
      },
    });
    await sink.start();
    await h.caughtUp();
    expect(seen.length).toBeGreaterThan(2);
    // The load's transactions see no secondary index. The load may end one record short of a
    // partition's start-up end (bulk.ts atEnd: a transactional producer's last offset is a commit
    // marker; this backlog is not transactional), so up to one transaction a partition may come
    // after its end, indexed: at the tail, never between the load's own (BULK_LOAD_SEED=1753594700
    // ended so 2 runs in 3 and failed the old all-zero check, on main bfcd3c6 too).
    const after = seen.findIndex((n) => n !== 0);
    const tail = after === -1 ? [] : seen.slice(after);
    expect(tail.filter((n) => n === 0)).toEqual([]);
    expect(tail.length).toBeLessThanOrEqual(2); // the topic's partitions
    await indexesBuilt();
    await expectRows(b);
    await expectOffsets();
  });

  it('a load failed at a random transaction and started again: the same rows, indexes, offsets', async () => {
    const rnd = mulberry32(seed + 1);
    const b = backlog(rnd);
    await h.produce(h.topics.users, b.users);
    await h.produce(h.topics.logins, b.logins);
    // The n-th transaction (of either table) fails inside, before its commit, and stops the sink.
    const failAt = Math.floor(rnd() * 8);
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
    await expect(first.done).rejects.toThrow('injected');
    await first.stop();
    const count = async (t: string) => Number((await db.query(`SELECT count(*) AS n FROM "${t}"`)).rows[0].n);
    const had = { users: await count(h.tables.users), logins: await count(h.tables.logins) };
    // The first sink's load, stopped: its rows are in; the users' indexes only if the users' load had
    // ended, i.e. every users partition's stored offset at its end or one short (bulk.ts atEnd: a
    // transaction's commit marker). The tables' partitions are written concurrently, so the users'
    // load may end before the failing transaction (1 run in 2 with BULK_LOAD_SEED=1051693136).
    if (await usersLoadEnded()) expect([0, SECONDARY.users]).toContain(await secondary('users'));
    else expect(await secondary('users')).toBe(0);

    const seen: number[] = [];
    const second = h.sink({
      tuning,
      hooks: {
        insideTransaction: async ({ topic }) => {
          if (topic === h.topics.users) seen.push(await secondary('users'));
        },
      },
    });
    await second.start();
    await h.caughtUp();
    // Rows (or offsets) there at start: not a bulk load, the indexes are built before consuming.
    if (had.users > 0) expect(seen.filter((n) => n !== SECONDARY.users)).toEqual([]);
    await indexesBuilt();
    await expectRows(b);
    await expectOffsets();
    const { rows } = await db.query(`SELECT id FROM "${h.tables.users}" GROUP BY id HAVING count(*) > 1`);
    expect(rows).toEqual([]);
  });

  it('a load that stopped after its last commit, before its indexes: the next start builds them', async () => {
    const b = backlog(mulberry32(seed + 2));
    await h.produce(h.topics.users, b.users);
    await h.produce(h.topics.logins, b.logins);
    const first = h.sink({ tuning });
    await first.start();
    await h.caughtUp();
    await indexesBuilt();
    await first.stop();
    // What a crash between the last commit and CREATE INDEX leaves: rows and offsets, no indexes.
    const { rows } = await db.query<{ name: string }>(
      "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY($1) " +
        "AND indexname NOT LIKE '%pkey'",
      [[h.tables.users, h.tables.logins]],
    );
    for (const r of rows) await db.query(`DROP INDEX "${r.name}"`);
    const second = h.sink({ tuning });
    await second.start();
    expect(await secondary('users')).toBe(SECONDARY.users);
    expect(await secondary('logins')).toBe(SECONDARY.logins);
    await expectRows(b);
    await expectOffsets();
  });
});

describe(`PostgreSQL store: a bulk load stores what the normal path stores (BULK_LOAD_SEED=${seed})`, () => {
  const pool = new Pool({ connectionString: services().DATABASE_URL, max: 4 });
  pool.on('error', () => undefined);
  const names: string[] = [];
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS ${names.map((n) => `"${n}"`).join(', ')}`);
    await pool.query('DELETE FROM neurons_sink_offsets WHERE table_name = ANY($1)', [names]);
    await pool.end();
  });
  const shipped = loadConnectorSchemas();
  const writerOf = (json: AvroSchemaJson, id: number): WriterSchema => ({
    id,
    json,
    type: avroType(json),
    fields: new Set((json as { fields: { name: string }[] }).fields.map((f) => f.name)),
  });
  const writers = { users: writerOf(shipped.userValue, 1), logins: writerOf(shipped.loginEventValue, 2) };

  const open = async (bulk: boolean) => {
    const tables = {
      users: { schema: 'public', name: uniqueName('bulk_users').replace(/-/g, '_') },
      logins: { schema: 'public', name: uniqueName('bulk_logins').replace(/-/g, '_') },
    };
    names.push(tables.users.name, tables.logins.name);
    const store = createPostgresStore({ pool, chunkRows: 7, synchronousCommit: true, statementTimeoutMs: 30_000 });
    const streams = sinkStreams([USERS, LOGINS], {
      topics: { users: 'bulk-users', logins: 'bulk-logins' },
      tables,
      cascades: userRemovalCascades('delete-logins'),
    }).map((s): SinkStream => ({ ...s, views: [] }));
    // A backlog up to offset 10^9 of partition 0: no batch here reaches it, the load lasts.
    const endOffsets = bulk ? async () => new Map([[0, 1_000_000_000n]]) : undefined;
    await store.open(streams, { logger: silentLogger, latestSchema: async () => undefined, endOffsets });
    return { store, streams, tables };
  };

  /** Random batches as the engine hands them over: one change per key, keys recurring across batches. */
  function batches(rnd: () => number): { stream: 'users' | 'logins'; ops: WriteOp[]; next: bigint }[] {
    const out: { stream: 'users' | 'logins'; ops: WriteOp[]; next: bigint }[] = [];
    const offsets = { users: 0, logins: 0 };
    const n = 10 + Math.floor(rnd() * 20);
    for (let b = 0; b < n; b++) {
      const stream = rnd() < 0.6 ? 'users' : 'logins';
      const size = 1 + Math.floor(rnd() * 40);
      const ops = new Map<string, WriteOp>();
      for (let i = 0; i < size; i++) {
        const offset = String(offsets[stream]++);
        const source = { topic: `bulk-${stream}`, partition: 0, offset, key: null, value: null };
        if (stream === 'users') {
          // Rarely what PostgreSQL refuses (an empty id; an instant before 4713 BC): refused by both paths alike.
          const key = rnd() < 0.01 ? '' : userId(Math.floor(rnd() * 120));
          const createdAt = rnd() < 0.03 ? -9e15 : 1_600_000_000_000 + Math.floor(rnd() * 1e9);
          const value = user(key, { title: `t-${offset}`, createdAt });
          const earlier = ops.get(key);
          const deletedAt = earlier?.kind === 'delete' ? earlier.source.offset : undefined;
          ops.set(
            key,
            rnd() < 0.2
              ? { kind: 'delete', key, source }
              : { kind: 'upsert', key, value, writer: writers.users, source, deletedAt },
          );
        } else {
          const key = loginId(Math.floor(rnd() * 300));
          const value = login(key, userId(Math.floor(rnd() * 120)), 1_700_000_000_000 + Number(offset), {
            browser: `b-${offset}`,
          });
          // The first event of an id in the batch stays (collapseInserts).
          if (!ops.has(key)) ops.set(key, { kind: 'insert', key, value, writer: writers.logins, source });
        }
      }
      out.push({ stream, ops: [...ops.values()], next: BigInt(offsets[stream]) });
    }
    // Whatever the seed drew, a last users batch with a value PostgreSQL refuses and a deletion (a
    // cascade), so that the checks below always have both to compare: left to chance, 1 seed in 95
    // drew no refusal (BULK_LOAD_SEED=17) and failed the test.
    const source = () => ({
      topic: 'bulk-users',
      partition: 0,
      offset: String(offsets.users++),
      key: null,
      value: null,
    });
    const refusedAt = source();
    out.push({
      stream: 'users',
      ops: [
        {
          kind: 'upsert',
          key: userId(0),
          value: user(userId(0), { title: `t-${refusedAt.offset}`, createdAt: -9e15 }),
          writer: writers.users,
          source: refusedAt,
        },
        { kind: 'delete', key: userId(1), source: source() },
      ],
      next: BigInt(offsets.users),
    });
    return out;
  }

  const dump = async (table: string) =>
    (
      await pool.query<{ r: string }>(
        `SELECT (SELECT string_agg(coalesce(v, 'NULL'), ' | ') FROM json_each_text(row_to_json(t)) AS j(k, v)) ` +
          `AS r FROM "${table}" AS t ORDER BY id`,
      )
    ).rows.map((r) => r.r);

  it('random batches, keys recurring, tombstones, refused values: the same rows, offsets, refusals', async () => {
    const rnd = mulberry32(seed ^ 0x5bd1e995);
    const plan = batches(rnd);
    const bulk = await open(true);
    const normal = await open(false);
    expect(await secondaryCount(pool, bulk.tables.users.name)).toBe(0);
    expect(await secondaryCount(pool, bulk.tables.logins.name)).toBe(0);
    const refused: string[][] = [[], []];
    let cascaded = 0;
    for (const batch of plan) {
      // A deletion cascading to the login events finds their index (not a scan of the whole table).
      const cascades = batch.stream === 'users' && batch.ops.some((o) => o.kind === 'delete' || o.deletedAt);
      for (const [i, t] of [bulk, normal].entries()) {
        const out = await t.store.write({
          stream: t.streams.find((s) => s.name === batch.stream)!,
          partition: 0,
          ops: batch.ops,
          nextOffset: batch.next,
          inside:
            t === bulk && cascades
              ? async () => {
                  cascaded++;
                  expect(await secondaryCount(pool, bulk.tables.logins.name)).toBe(SECONDARY.logins);
                }
              : undefined,
        });
        refused[i].push(...out.rejected.map((r) => `${batch.stream} ${r.op.source.offset} ${r.error.code}`));
      }
    }
    expect(cascaded).toBeGreaterThan(0);
    expect(refused[0]).toEqual(refused[1]);
    expect(refused[1].length).toBeGreaterThan(0);
    for (const stream of ['users', 'logins'] as const)
      expect(await dump(bulk.tables[stream].name)).toEqual(await dump(normal.tables[stream].name));
    for (const stream of ['users', 'logins'] as const) {
      const s = (t: typeof bulk) => t.streams.find((x) => x.name === stream)!;
      expect(await bulk.store.storedOffsets(s(bulk))).toEqual(await normal.store.storedOffsets(s(normal)));
    }
    // The end of the load (a replay's, before its swap): the indexes are built.
    await bulk.store.endBulkLoads();
    expect(await secondaryCount(pool, bulk.tables.users.name)).toBe(SECONDARY.users);
  });
});

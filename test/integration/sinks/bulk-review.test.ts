import { Pool } from 'pg';
import { silentLogger } from '../../../kernel/logger';
import { avroType, loadConnectorSchemas, type AvroSchemaJson } from '../../../schemas/avro';
import { LOGINS, USERS } from '../../../schemas/streams';
import { mulberry32 } from '../../../simulator/prng';
import type { SinkStream, WriteOp, WriterSchema } from '../../../sinks/port';
import { createPostgresStore } from '../../../sinks/postgres/store';
import { sinkStreams, userRemovalCascades } from '../../../sinks/streams';
import { services, uniqueName } from '../../support/services';
import { login, loginId, user, userId } from '../../support/sink-fixtures';
import { secondaryIndexCount as secondaryCount } from '../../support/pg-indexes';

/**
 * Review of the bulk load (sinks/postgres/bulk.ts) with two sink processes of one group: each
 * process's store is opened on the same tables, the topic's partitions split between them as the
 * group assigns them. The declared secondary indexes must exist once every partition reached the
 * end offsets taken at start, whichever process committed which partition.
 * BULK_REVIEW_SEED=<n> replays a run.
 */
const seed = Number(process.env.BULK_REVIEW_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe(`PostgreSQL store: bulk load with two sink processes of one group (BULK_REVIEW_SEED=${seed})`, () => {
  const pool = new Pool({ connectionString: services().DATABASE_URL, max: 6 });
  pool.on('error', () => undefined);
  const names: string[] = [];
  afterAll(async () => {
    if (names.length) {
      await pool.query(`DROP TABLE IF EXISTS ${names.map((n) => `"${n}"`).join(', ')}`);
      await pool.query('DELETE FROM neurons_sink_offsets WHERE table_name = ANY($1)', [names]);
    }
    await pool.end();
  });
  const shipped = loadConnectorSchemas();
  const writerOf = (json: AvroSchemaJson, id: number): WriterSchema => ({
    id,
    json,
    type: avroType(json),
    fields: new Set((json as { fields: { name: string }[] }).fields.map((f) => f.name)),
  });
  const usersWriter = writerOf(shipped.userValue, 1);

  const batch = (partition: number, from: number, to: number, rnd: () => number): WriteOp[] => {
    const ops: WriteOp[] = [];
    for (let o = from; o < to; o++) {
      const key = userId(partition * 100_000 + o);
      ops.push({
        kind: 'upsert',
        key,
        value: user(key, { title: `t-${o}`, email: `u${Math.floor(rnd() * 1e9)}@example.com` }),
        writer: usersWriter,
        source: { topic: 'review-users', partition, offset: String(o), key: null, value: null },
      });
    }
    return ops;
  };

  it(
    'a second process that opened while the first dropped the indexes: both partitions at their end, ' +
      'the indexes are built',
    async () => {
      const rnd = mulberry32(seed);
      const tables = {
        users: { schema: 'public', name: uniqueName('rev_users').replace(/-/g, '_') },
        logins: { schema: 'public', name: uniqueName('rev_logins').replace(/-/g, '_') },
      };
      names.push(tables.users.name, tables.logins.name);
      const streams = sinkStreams([USERS, LOGINS], {
        topics: { users: 'review-users', logins: 'review-logins' },
        tables,
        cascades: userRemovalCascades('delete-logins'),
      }).map((s): SinkStream => ({ ...s, views: [] }));
      const usersStream = streams.find((s) => s.name === 'users')!;
      // The backlog at start: two partitions of the users topic, their ends (seeded).
      const ends = new Map([
        [0, BigInt(5 + Math.floor(rnd() * 40))],
        [1, BigInt(5 + Math.floor(rnd() * 40))],
      ]);
      console.log(`BULK_REVIEW_SEED=${seed} ends ${[...ends].map(([p, e]) => `${p}:${e}`).join(' ')}`);
      const opts = { pool, chunkRows: 50, synchronousCommit: true, statementTimeoutMs: 30_000 };
      const a = createPostgresStore(opts);
      const b = createPostgresStore(opts);
      const firstA = Number(ends.get(0)!) >> 1;
      // Process B starts: its start-up DDL creates the tables and their indexes; then it asks
      // Kafka for the end offsets (engine.ts topicEnds: a broker round trip). Meanwhile process A
      // starts (the table is empty: a bulk load, the indexes dropped) and commits its first batch
      // of partition 0. B then finds rows: not a bulk load for B.
      let raced = false;
      await b.open(streams, {
        logger: silentLogger,
        latestSchema: async () => undefined,
        endOffsets: async (s) => {
          if (s.name === 'users' && !raced) {
            raced = true;
            await a.open(streams, {
              logger: silentLogger,
              latestSchema: async () => undefined,
              endOffsets: async () => ends,
            });
            expect(await secondaryCount(pool, tables.users.name)).toBe(0);
            await a.write({
              stream: usersStream,
              partition: 0,
              ops: batch(0, 0, firstA, rnd),
              nextOffset: BigInt(firstA),
            });
          }
          return ends;
        },
      });
      // The group splits the partitions: A reads partition 0, B partition 1, each to its end.
      const end0 = Number(ends.get(0)!);
      const end1 = Number(ends.get(1)!);
      await a.write({ stream: usersStream, partition: 0, ops: batch(0, firstA, end0, rnd), nextOffset: BigInt(end0) });
      await b.write({ stream: usersStream, partition: 1, ops: batch(1, 0, end1, rnd), nextOffset: BigInt(end1) });
      // Every record is stored and every partition is at its end offset (the source of truth: the plan).
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${tables.users.name}"`);
      expect(Number(rows[0].n)).toBe(end0 + end1);
      expect(await b.storedOffsets(usersStream)).toEqual(ends);
      // The load is over: the declared indexes (email, username, managerId) must exist.
      expect(await secondaryCount(pool, tables.users.name)).toBe(3);
    },
  );

  const dump = async (table: string) =>
    (
      await pool.query<{ r: string }>(
        `SELECT (SELECT string_agg(coalesce(v, 'NULL'), ' | ') FROM json_each_text(row_to_json(t)) AS j(k, v)) ` +
          `AS r FROM "${table}" AS t ORDER BY id`,
      )
    ).rows.map((r) => r.r);

  it('two partitions, the load ending mid-stream, the topic past the ends: as the normal path', async () => {
    const rnd = mulberry32(seed ^ 0x2545f491);
    const loginsWriter = writerOf(shipped.loginEventValue, 2);
    const open = async (endsOf: ((s: SinkStream) => Map<number, bigint>) | undefined) => {
      const tables = {
        users: { schema: 'public', name: uniqueName('rev_users').replace(/-/g, '_') },
        logins: { schema: 'public', name: uniqueName('rev_logins').replace(/-/g, '_') },
      };
      names.push(tables.users.name, tables.logins.name);
      const store = createPostgresStore({ pool, chunkRows: 5, synchronousCommit: true, statementTimeoutMs: 30_000 });
      const streams = sinkStreams([USERS, LOGINS], {
        topics: { users: 'review-users', logins: 'review-logins' },
        tables,
        cascades: userRemovalCascades('delete-logins'),
      }).map((s): SinkStream => ({ ...s, views: [] }));
      await store.open(streams, {
        logger: silentLogger,
        latestSchema: async () => undefined,
        endOffsets: endsOf ? async (s) => endsOf(s) : undefined,
      });
      return { store, streams, tables };
    };
    // The plan: batches per (stream, partition), keys fixed to a partition, recurring, tombstones,
    // re-creations, events published twice, values PostgreSQL refuses.
    type Planned = { stream: 'users' | 'logins'; partition: number; ops: WriteOp[]; next: bigint };
    const plan: Planned[] = [];
    const offsets = { users: [0, 0], logins: [0, 0] };
    const n = 30 + Math.floor(rnd() * 30);
    for (let b = 0; b < n; b++) {
      const stream = rnd() < 0.6 ? 'users' : 'logins';
      const partition = rnd() < 0.5 ? 0 : 1;
      const size = 1 + Math.floor(rnd() * 30);
      const ops = new Map<string, WriteOp>();
      for (let i = 0; i < size; i++) {
        const offset = String(offsets[stream][partition]++);
        const source = { topic: `review-${stream}`, partition, offset, key: null, value: null };
        if (stream === 'users') {
          const key = userId(2 * Math.floor(rnd() * 60) + partition);
          const createdAt = rnd() < 0.03 ? -9e15 : 1_600_000_000_000 + Math.floor(rnd() * 1e9);
          const earlier = ops.get(key);
          const deletedAt = earlier?.kind === 'delete' ? earlier.source.offset : undefined;
          ops.set(
            key,
            rnd() < 0.25
              ? { kind: 'delete', key, source }
              : {
                  kind: 'upsert',
                  key,
                  value: user(key, { title: `t-${offset}`, createdAt }),
                  writer: usersWriter,
                  source,
                  deletedAt,
                },
          );
        } else {
          const key = loginId(2 * Math.floor(rnd() * 150) + partition);
          const value = login(key, userId(Math.floor(rnd() * 120)), 1_700_000_000_000 + Number(offset), {
            browser: `b-${offset}`,
          });
          if (!ops.has(key)) ops.set(key, { kind: 'insert', key, value, writer: loginsWriter, source });
        }
      }
      plan.push({ stream, partition, ops: [...ops.values()], next: BigInt(offsets[stream][partition]) });
    }
    // The ends taken at start: somewhere inside each partition's stream (the topic moves on after).
    const cut = (stream: 'users' | 'logins') =>
      new Map(
        [0, 1]
          .filter((p) => offsets[stream][p] > 0)
          .map((p) => [p, BigInt(1 + Math.floor(rnd() * offsets[stream][p]))] as [number, bigint]),
      );
    const ends = { users: cut('users'), logins: cut('logins') };
    console.log(
      `BULK_REVIEW_SEED=${seed} batches ${plan.length} ends users ${[...ends.users]} logins ${[...ends.logins]}`,
    );
    const normal = await open(undefined);
    const bulk = await open((s) => ends[s.name as 'users' | 'logins']);
    expect(await secondaryCount(pool, bulk.tables.users.name)).toBe(0);
    const refused: string[][] = [[], []];
    for (const batch of plan)
      for (const [i, t] of [bulk, normal].entries()) {
        const out = await t.store.write({
          stream: t.streams.find((s) => s.name === batch.stream)!,
          partition: batch.partition,
          ops: batch.ops,
          nextOffset: batch.next,
        });
        refused[i].push(
          ...out.rejected.map((r) => `${batch.stream} ${batch.partition} ${r.op.source.offset} ${r.error.code}`),
        );
      }
    expect(refused[0]).toEqual(refused[1]);
    for (const stream of ['users', 'logins'] as const)
      expect(await dump(bulk.tables[stream].name)).toEqual(await dump(normal.tables[stream].name));
    for (const stream of ['users', 'logins'] as const) {
      const s = (t: typeof bulk) => t.streams.find((x) => x.name === stream)!;
      expect(await bulk.store.storedOffsets(s(bulk))).toEqual(await normal.store.storedOffsets(s(normal)));
    }
    // Every partition went past its end: the loads are over, the indexes built.
    expect(await secondaryCount(pool, bulk.tables.users.name)).toBe(3);
    expect(await secondaryCount(pool, bulk.tables.logins.name)).toBe(1);
  });

  it('the index build timing out after the last commit: the batch fails retriable, its retry builds them', async () => {
    const rnd = mulberry32(seed ^ 0x68e31da4);
    const tables = {
      users: { schema: 'public', name: uniqueName('rev_users').replace(/-/g, '_') },
      logins: { schema: 'public', name: uniqueName('rev_logins').replace(/-/g, '_') },
    };
    names.push(tables.users.name, tables.logins.name);
    const streams = sinkStreams([USERS, LOGINS], {
      topics: { users: 'review-users', logins: 'review-logins' },
      tables,
      cascades: userRemovalCascades('delete-logins'),
    }).map((s): SinkStream => ({ ...s, views: [] }));
    const usersStream = streams.find((s) => s.name === 'users')!;
    const end = 5 + Math.floor(rnd() * 40);
    // The production pool caps every statement (from-config.ts statement_timeout), the index build included.
    const capped = new Pool({ connectionString: services().DATABASE_URL, max: 3, statement_timeout: 3_000 });
    capped.on('error', () => undefined);
    const holder = await pool.connect();
    try {
      const store = createPostgresStore({
        pool: capped,
        chunkRows: 50,
        synchronousCommit: true,
        statementTimeoutMs: 3_000,
      });
      await store.open(streams, {
        logger: silentLogger,
        latestSchema: async () => undefined,
        endOffsets: async () => new Map([[0, BigInt(end)]]),
      });
      await store.write({
        stream: usersStream,
        partition: 0,
        ops: batch(0, 0, end >> 1, rnd),
        nextOffset: BigInt(end >> 1),
      });
      // A writer elsewhere holds the table (an operator's open transaction): CREATE INDEX waits past the cap.
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE "${tables.users.name}" IN ROW EXCLUSIVE MODE`);
      const last = batch(0, end >> 1, end, rnd);
      const failed = await store.write({ stream: usersStream, partition: 0, ops: last, nextOffset: BigInt(end) }).then(
        () => undefined,
        (err: unknown) => err as { code?: string; retriable?: boolean },
      );
      await holder.query('ROLLBACK');
      // the build's wait for the lock is capped by lock_timeout (the build itself is not capped): DB_BUSY
      expect(failed).toMatchObject({ code: 'DB_BUSY', retriable: true });
      // The rows and the offset are committed; the indexes are not there.
      expect(await secondaryCount(pool, tables.users.name)).toBe(0);
      // The processor retries the same batch: nothing to apply again, the indexes built.
      const again = await store.write({ stream: usersStream, partition: 0, ops: last, nextOffset: BigInt(end) });
      expect(again.skipped).toBe(last.length);
      expect(await secondaryCount(pool, tables.users.name)).toBe(3);
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${tables.users.name}"`);
      expect(Number(rows[0].n)).toBe(end);
    } finally {
      holder.release();
      await capped.end();
    }
  });
});

import { Pool } from 'pg';
import { silentLogger } from '../../../kernel/logger';
import { avroType, loadConnectorSchemas, type AvroSchemaJson } from '../../../schemas/avro';
import { LOGINS, USERS } from '../../../schemas/streams';
import { mulberry32 } from '../../../simulator/prng';
import type { SinkStream, WriteOp, WriterSchema } from '../../../sinks/port';
import { createPostgresStore } from '../../../sinks/postgres/store';
import { sinkStreams, userRemovalCascades } from '../../../sinks/streams';
import { services, uniqueName } from '../../support/services';
import { user, userId } from '../../support/sink-fixtures';

/**
 * Review of the bulk load (sinks/postgres/bulk.ts) with two sink processes of one group: each
 * process's store is opened on the same tables, the topic's partitions split between them as the
 * group assigns them. The declared secondary indexes must exist once every partition reached the
 * end offsets taken at start, whichever process committed which partition.
 * BULK_REVIEW_SEED=<n> replays a run.
 */
const seed = Number(process.env.BULK_REVIEW_SEED ?? Math.floor(Math.random() * 2 ** 31));

const secondaryCount = async (pool: Pool, table: string): Promise<number> => {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM pg_indexes ' +
      "WHERE schemaname = 'public' AND tablename = $1 AND indexname NOT LIKE '%pkey'",
    [table],
  );
  return Number(rows[0].n);
};

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
});

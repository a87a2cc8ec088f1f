/**
 * Sink benchmark (not a test): N users and M login events in Kafka → the PostgreSQL sink, and
 * PostgreSQL's own COPY of the same rows into an unindexed table, measured in the same run.
 * Prints rows/s of each and the ratio.
 *
 *   npm run services:start      # or have Kafka, the registry and PostgreSQL reachable via env
 *   node -r ts-node/register/transpile-only bench/sink.ts [--users 200000] [--logins 200000] [--partitions 3] [--concurrency 2]
 *
 * The sink figure is end to end: from start() until the group has committed the end of the
 * topic (fetch, Avro decoding, collapsing, JSON rows, upsert into the indexed table, offset
 * commits). COPY gets the rows already rendered as COPY text in memory: it is the database's
 * raw bulk-load speed, the ceiling the sink is compared with.
 */
import avro from 'avsc';
import { Kafka, logLevel } from 'kafkajs';
import { Client, Pool } from 'pg';
import { loadConnectorSchemas } from '../schemas/avro';
import { registerTopicSchemas, registryFromConfig } from '../schemas/registry';
import { frame } from '../schemas/wire';
import { sleep } from '../pipeline/core/retry';
import { createPostgresSink, registrySchemaSource } from '../sinks';
import { SinkTable } from '../sinks/postgres/table';
import { copyFrom } from '../sinks/postgres/copy';
import { endpoints } from '../test/infra/env';
import { login, loginId, user, userId } from '../test/support/sink-fixtures';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const N_USERS = arg('users', 200_000);
const N_LOGINS = arg('logins', 200_000);
const PARTITIONS = arg('partitions', 3);
const CONCURRENCY = arg('concurrency', 2);
const env = { ...endpoints(), ...pick(process.env, ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL']) };
const stamp = Date.now().toString(36);
const names = {
  users: `bench-sink-users-${stamp}`,
  logins: `bench-sink-logins-${stamp}`,
  deadLetter: `bench-sink-dlq-${stamp}`,
  group: `bench-sink-${stamp}`,
  usersTable: `bench_users_${stamp}`,
  loginsTable: `bench_logins_${stamp}`,
  copyUsers: `bench_copy_users_${stamp}`,
  copyLogins: `bench_copy_logins_${stamp}`,
};

/** Deterministic records: the i-th user and login event are the same in Kafka and in COPY. */
const userAt = (i: number) => user(userId(i), { title: `Engineer ${i % 97}`, managerId: userId((i * 31) % Math.max(N_USERS, 1)), lastLoginAt: 1_700_000_000_000 + i });
const loginAt = (i: number) => login(loginId(i), userId(i % Math.max(N_USERS, 1)), 1_700_000_000_000 + i * 1000);

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-sink', brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: Math.max(4, CONCURRENCY + 1) });
  pool.on('error', () => undefined);
  const schemas = loadConnectorSchemas();
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: names.users, numPartitions: PARTITIONS, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
        { topic: names.logins, numPartitions: PARTITIONS },
      ],
    });
    const [reg] = [await registerTopicSchemas(registryFromConfig({ url: env.SCHEMA_REGISTRY_URL }), [
      { topic: names.users, key: schemas.key, value: schemas.userValue },
      { topic: names.logins, key: schemas.key, value: schemas.loginEventValue },
    ])];
    const keyType = avro.Type.forSchema('string');
    const produce = async (topic: string, n: number, at: (i: number) => Record<string, unknown> & { id: string }, type: avro.Type, valueId: number, keyId: number) => {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const t0 = Date.now();
      for (let i = 0; i < n; i += 5000) {
        const messages = [];
        for (let j = i; j < Math.min(n, i + 5000); j++) {
          const v = at(j);
          messages.push({ key: frame(keyId, keyType.toBuffer(v.id)), value: frame(valueId, type.toBuffer(v)) });
        }
        await producer.send({ topic, acks: -1, messages });
      }
      await producer.disconnect();
      return (Date.now() - t0) / 1000;
    };
    const userType = avro.Type.forSchema(schemas.userValue);
    const loginType = avro.Type.forSchema(schemas.loginEventValue);
    // ── the sink, end to end, one topic at a time: produce it, start the sink, wait until the
    //    group has committed the end of the topic, stop. The other topic is empty meanwhile.
    const sinkTables = { users: { schema: 'public', name: names.usersTable }, logins: { schema: 'public', name: names.loginsTable } };
    const phase = async (topic: string, rows: number, fill: () => Promise<number>) => {
      log(`producing ${rows} records to ${topic} (${PARTITIONS} partitions)…`);
      const produced = await fill();
      let first: { at: number; rows: number } | undefined;
      const sink = createPostgresSink({
        kafka,
        pool,
        schemas: registrySchemaSource({ url: env.SCHEMA_REGISTRY_URL }),
        topics: { users: names.users, logins: names.logins, deadLetter: names.deadLetter },
        tables: sinkTables,
        groupId: names.group,
        tuning: { partitionsConsumedConcurrently: CONCURRENCY },
        hooks: { afterDatabaseCommit: ({ result }) => void (first ??= { at: Date.now(), rows: result.records }) },
      });
      const t0 = Date.now();
      await sink.start();
      while (!(await caughtUp(admin, names.group, topic))) await sleep(100); // the measurement's polling interval
      const t1 = Date.now();
      const stats = sink.stats();
      await sink.stop();
      log(`  produced in ${produced.toFixed(1)} s; sink: ${stats.batches} batches, ${stats.deadLettered} dead letters`);
      return { total: (t1 - t0) / 1000, steady: (t1 - first!.at) / 1000, steadyRows: rows - first!.rows };
    };
    const su = await phase(names.users, N_USERS, () => produce(names.users, N_USERS, userAt, userType, reg[0].value.id, reg[0].key.id));
    const sl = await phase(names.logins, N_LOGINS, () => produce(names.logins, N_LOGINS, loginAt, loginType, reg[1].value.id, reg[1].key.id));
    const sinkRows = N_USERS + N_LOGINS;

    // ── COPY of the same rows into unindexed tables with the same columns ──
    const copy = async (table: string, kind: 'users' | 'logins', n: number, at: (i: number) => Record<string, unknown>) => {
      const def = new SinkTable(kind, { schema: 'public', name: table });
      def.absorb(kind === 'users' ? schemas.userValue : schemas.loginEventValue);
      const fields = def.fields();
      await pool.query(`CREATE TABLE "${table}" (${fields.map((f) => `"${f.column}" ${f.pgType}`).join(', ')}, _kafka_partition integer, _kafka_offset bigint)`);
      const chunks: Buffer[] = [];
      let lines: string[] = [];
      for (let i = 0; i < n; i++) {
        const v = at(i);
        lines.push([...fields.map((f) => copyText(f.pgType, v[f.field])), '0', String(i)].join('\t'));
        if (lines.length === 5000) (chunks.push(Buffer.from(lines.join('\n') + '\n')), (lines = []));
      }
      if (lines.length) chunks.push(Buffer.from(lines.join('\n') + '\n'));
      const client = new Client({ connectionString: env.DATABASE_URL });
      await client.connect();
      const c0 = Date.now();
      const copied = await copyFrom(client, `COPY "${table}" FROM STDIN`, chunks);
      const seconds = (Date.now() - c0) / 1000;
      await client.end();
      if (copied !== n) throw new Error(`COPY wrote ${copied} rows, expected ${n}`);
      return seconds;
    };
    const cu = await copy(names.copyUsers, 'users', N_USERS, userAt);
    const cl = await copy(names.copyLogins, 'logins', N_LOGINS, loginAt);

    const { rows: counted } = await pool.query(`SELECT (SELECT count(*) FROM "${names.usersTable}")::int AS users, (SELECT count(*) FROM "${names.loginsTable}")::int AS logins`);
    const rate = (rows: number, sec: number) => Math.round(rows / sec);
    const table: [string, number, number, number][] = [
      ['sink users, incl. start-up', N_USERS, su.total, rate(N_USERS, su.total)],
      ['sink users, steady (after batch 1)', su.steadyRows, su.steady, rate(su.steadyRows, su.steady)],
      ['sink logins, incl. start-up', N_LOGINS, sl.total, rate(N_LOGINS, sl.total)],
      ['sink logins, steady (after batch 1)', sl.steadyRows, sl.steady, rate(sl.steadyRows, sl.steady)],
      ['COPY users (unindexed table)', N_USERS, cu, rate(N_USERS, cu)],
      ['COPY logins (unindexed table)', N_LOGINS, cl, rate(N_LOGINS, cl)],
    ];
    log('');
    log(`${'what'.padEnd(38)}${'rows'.padStart(10)}${'seconds'.padStart(10)}${'rows/s'.padStart(10)}`);
    for (const [what, rows, sec, rs] of table) log(`${what.padEnd(38)}${String(rows).padStart(10)}${sec.toFixed(2).padStart(10)}${String(rs).padStart(10)}`);
    log('');
    log(`sink / COPY (steady): users ${(rate(su.steadyRows, su.steady) / rate(N_USERS, cu)).toFixed(3)}, logins ${(rate(sl.steadyRows, sl.steady) / rate(N_LOGINS, cl)).toFixed(3)}`);
    log(`sink / COPY (incl. start-up): all ${sinkRows} rows ${(rate(sinkRows, su.total + sl.total) / rate(sinkRows, cu + cl)).toFixed(3)}`);
    log(`rows in the sink tables: ${counted[0].users} users, ${counted[0].logins} login events`);
  } finally {
    for (const t of [names.usersTable, names.loginsTable, names.copyUsers, names.copyLogins]) await pool.query(`DROP TABLE IF EXISTS "${t}"`).catch(() => undefined);
    await admin.deleteGroups([names.group]).catch(() => undefined);
    await admin.deleteTopics({ topics: [names.users, names.logins, names.deadLetter] }).catch(() => undefined);
    await admin.disconnect();
    await pool.end();
    for (const t of [names.users, names.logins]) for (const s of ['key', 'value']) await fetch(`${env.SCHEMA_REGISTRY_URL}/subjects/${t}-${s}`, { method: 'DELETE' }).catch(() => undefined);
  }
}

async function caughtUp(admin: ReturnType<Kafka['admin']>, groupId: string, topic: string): Promise<boolean> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return ends.every((e) => BigInt(committed.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1') >= BigInt(e.high) || e.high === '0');
}

/** One value in COPY's text format (\N for NULL; backslash, tab and newlines escaped). */
function copyText(type: string, v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  let s: string;
  if (type === 'timestamptz') s = new Date(v as number).toISOString();
  else if (type === 'jsonb') s = JSON.stringify(v);
  else if (type === 'boolean') s = v ? 't' : 'f';
  else s = String(v);
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

function pick(source: NodeJS.ProcessEnv, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => source[k]).map((k) => [k, source[k] as string]));
}

function log(line: string): void {
  process.stdout.write(line + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});

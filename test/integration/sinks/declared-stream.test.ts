import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import avro from 'avsc';
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { createTopicsReady } from '../../../kafka/topics';
import type { AvroSchemaJson } from '../../../schemas/avro';
import { registerTopicSchemas, registryFromConfig, type RegisteredTopic } from '../../../schemas/registry';
import { declareStream } from '../../../schemas/streams/types';
import { frame } from '../../../schemas/wire';
import {
  createPostgresSink,
  createPostgresStore,
  DEAD_LETTER_HEADERS,
  registrySchemaSource,
  sinkStreams,
  type PostgresSink,
} from '../../../sinks';
import { silentLogger } from '../../../kernel/logger';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { mulberry32 } from '../../../simulator/prng';
import { services, uniqueName } from '../../support/services';
import { headerStrings } from '../../support/sink-harness';
import { waitFor } from '../../support/wait';

/**
 * A stream the sink has never heard of, declared here in the test: the sink must build its table
 * (primary key, declared indexes), upsert and delete on tombstones (upsert stream) or insert once
 * (append stream, tombstones dead-lettered), and create its declared view, with no sink code
 * knowing the stream. Randomised: DECLARED_SEED=<n> replays a run.
 */
const seed = Number(process.env.DECLARED_SEED ?? Math.floor(Math.random() * 2 ** 31));

const GADGET: AvroSchemaJson = {
  type: 'record',
  name: 'Gadget',
  namespace: 'test.neurons',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'ownerId', type: ['null', 'string'], default: null },
    { name: 'label', type: 'string' },
    { name: 'units', type: 'int' },
  ],
};
const PING: AvroSchemaJson = {
  type: 'record',
  name: 'Ping',
  namespace: 'test.neurons',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'gadgetId', type: 'string' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};

/** A stream no sink code knows: declared here. */
const GADGETS_BASE = declareStream({
  name: 'gadgets',
  object: 'Gadget__c',
  api: 'rest',
  mode: { kind: 'snapshot' },
  mapping: 'mapping/gadget.csv',
  valueSchema: 'avro/gadget-value.avsc',
  topic: { defaultName: 'test.gadgets', compacted: true },
  key: 'Id',
  sink: { table: 'gadgets', write: 'upsert', indexes: [['ownerId'], ['ownerId', 'label']] },
});

describe(`PostgreSQL sink: a stream declared as data gets its table and behaviour (DECLARED_SEED=${seed})`, () => {
  const topics = {
    gadgets: uniqueName('decl-gadgets'),
    pings: uniqueName('decl-pings'),
    deadLetter: uniqueName('decl-dlq'),
  };
  const tables = { gadgets: uniqueName('gadgets').replace(/-/g, '_'), pings: uniqueName('pings').replace(/-/g, '_') };
  const view = `${tables.gadgets}_busy`;
  const groupId = uniqueName('decl-group');
  const kafka = new Kafka({
    clientId: 'declared-test',
    brokers: [services().KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
  });
  const pool = new Pool({ connectionString: services().DATABASE_URL, max: 4 });
  pool.on('error', () => undefined);
  let sink: PostgresSink | undefined;
  let registered: RegisteredTopic[];

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsReady(admin, [
      { topic: topics.gadgets, numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      { topic: topics.pings, numPartitions: 1 },
    ]);
    await admin.disconnect();
    registered = await registerTopicSchemas(registryFromConfig({ url: services().SCHEMA_REGISTRY_URL }), [
      { topic: topics.gadgets, key: 'string', value: GADGET },
      { topic: topics.pings, key: 'string', value: PING },
    ]);
  });

  afterAll(async () => {
    await sink?.stop();
    await pool.query(`DROP VIEW IF EXISTS "${view}"`).catch(() => undefined);
    await pool.query(`DROP TABLE IF EXISTS "${tables.gadgets}", "${tables.pings}"`).catch(() => undefined);
    await pool
      .query('DELETE FROM neurons_sink_offsets WHERE table_name = ANY($1)', [Object.values(tables)])
      .catch(() => undefined);
    await pool.end();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  });

  it('upserts, deletes on tombstones, appends once, indexes and views as declared', async () => {
    const rnd = mulberry32(seed);
    const viewDir = mkdtempSync(path.join(tmpdir(), 'declared-views-'));
    const viewFile = path.join(viewDir, 'busy.sql');
    writeFileSync(
      viewFile,
      `CREATE OR REPLACE VIEW "${view}" AS SELECT id, label FROM {{table:gadgets}} WHERE units > 10;\n`,
    );
    const gadgets = { ...GADGETS_BASE, sink: { ...GADGETS_BASE.sink, views: [viewFile] } };
    const pings = declareStream({
      name: 'pings',
      object: 'Ping__c',
      api: 'rest',
      mode: { kind: 'incremental', watermarkField: 'CreatedDate' },
      mapping: 'mapping/ping.csv',
      valueSchema: 'avro/ping-value.avsc',
      topic: { defaultName: 'test.pings', compacted: false },
      key: 'Id',
      sink: { table: 'pings', write: 'append', indexes: [['gadgetId']] },
    });

    // The expected state, folded from what is produced (the source of truth), not read from the sink.
    const expected = new Map<string, { ownerId: string | null; label: string; units: number }>();
    const gadgetRecords: { key: string; value: Record<string, unknown> | null }[] = [];
    for (let i = 0; i < 20 + Math.floor(rnd() * 40); i++) {
      const key = `a0G${Math.floor(rnd() * 15)}`;
      if (rnd() < 0.25) {
        gadgetRecords.push({ key, value: null });
        expected.delete(key);
      } else {
        const value = {
          id: key,
          ownerId: rnd() < 0.3 ? null : `005${Math.floor(rnd() * 4)}`,
          label: `l'"${i}ü`,
          units: Math.floor(rnd() * 20),
        };
        gadgetRecords.push({ key, value });
        expected.set(key, { ownerId: value.ownerId, label: value.label, units: value.units });
      }
    }
    const firstPing = new Map<string, string>();
    const pingRecords: { key: string; value: Record<string, unknown> | null }[] = [];
    for (let i = 0; i < 10 + Math.floor(rnd() * 20); i++) {
      const key = `p${Math.floor(rnd() * 12)}`;
      const gadgetId = `a0G${i}`;
      pingRecords.push({ key, value: { id: key, gadgetId, note: null } });
      if (!firstPing.has(key)) firstPing.set(key, gadgetId);
    }
    pingRecords.push({ key: 'p-deleted', value: null }); // an append stream's record cannot be deleted

    const [g, p] = registered;
    await produce(kafka, topics.gadgets, g, GADGET, gadgetRecords);
    await produce(kafka, topics.pings, p, PING, pingRecords);

    sink = createPostgresSink({
      kafka,
      pool,
      schemas: registrySchemaSource({ url: services().SCHEMA_REGISTRY_URL }),
      streams: [gadgets, pings],
      baseSchemas: { gadgets: GADGET, pings: PING },
      topics: { gadgets: topics.gadgets, pings: topics.pings, deadLetter: topics.deadLetter },
      tables: { gadgets: { schema: 'public', name: tables.gadgets }, pings: { schema: 'public', name: tables.pings } },
      groupId,
      tuning: { retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 100, maxDelayMs: 1000 } },
    } as unknown as Parameters<typeof createPostgresSink>[0]);
    await sink.start();

    await waitFor('the sink to store offsets at the end of both topics', 60_000, async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        for (const topic of [topics.gadgets, topics.pings]) {
          const { rows } = await pool.query<{ partition: number; next_offset: string }>(
            'SELECT partition, next_offset FROM neurons_sink_offsets WHERE topic = $1',
            [topic],
          );
          for (const end of await admin.fetchTopicOffsets(topic)) {
            const at = rows.find((r) => r.partition === end.partition)?.next_offset ?? '0';
            if (BigInt(end.high) > BigInt(at)) return false;
          }
        }
        return true;
      } finally {
        await admin.disconnect();
      }
    });

    const rows = (await pool.query(`SELECT id, owner_id, label, units FROM "${tables.gadgets}" ORDER BY id`)).rows;
    const want = [...expected.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, v]) => ({ id, owner_id: v.ownerId, label: v.label, units: v.units }));
    expect(rows).toEqual(want);
    const pingRows = (await pool.query(`SELECT id, gadget_id FROM "${tables.pings}" ORDER BY id`)).rows;
    expect(pingRows).toEqual(
      [...firstPing.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([id, gadgetId]) => ({ id, gadget_id: gadgetId })),
    );

    const { rows: pk } = await pool.query(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = to_regclass($1) AND i.indisprimary`,
      [`public."${tables.gadgets}"`],
    );
    expect(pk.map((r) => r.attname)).toEqual(['id']);
    // The sink loads the empty table in bulk (sinks/postgres/bulk.ts): its declared indexes are built
    // after the load's last batch stored its offset, so they may come a moment after the offsets above
    // (DECLARED_SEED=107711931 checked once, in that moment, and failed 1 run in 4).
    const declaredIndexes = async () =>
      (
        await pool.query<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE tablename = $1', [tables.gadgets])
      ).rows
        .map((r) => r.indexdef.replace(/^.*USING btree /, ''))
        .sort();
    const wantIndexes = ['(id)', '(owner_id)', '(owner_id, label)'].sort();
    await waitFor(
      'the declared indexes of the bulk-loaded table',
      30_000,
      async () => (await declaredIndexes()).length >= wantIndexes.length,
    );
    expect(await declaredIndexes()).toEqual(wantIndexes);

    const busy = (await pool.query(`SELECT id FROM "${view}" ORDER BY id`)).rows.map((r) => r.id);
    expect(busy).toEqual(want.filter((w) => w.units > 10).map((w) => w.id));

    const dead: Record<string, string>[] = [];
    await readToEnd(kafka, topics.deadLetter, (m) => dead.push(headerStrings(m.headers)));
    expect(dead.map((d) => [d[DEAD_LETTER_HEADERS.sourceTopic], d[DEAD_LETTER_HEADERS.errorCode]])).toEqual([
      [topics.pings, 'UNEXPECTED_TOMBSTONE'],
    ]);
  });

  it('started before its topics exist, it creates them as the contract says and sinks what comes', async () => {
    const late = { gadgets: uniqueName('late-gadgets'), pings: uniqueName('late-pings') };
    const lateTables = {
      gadgets: uniqueName('late_gadgets').replace(/-/g, '_'),
      pings: uniqueName('late_pings').replace(/-/g, '_'),
    };
    const pingsDecl = declareStream({
      ...GADGETS_BASE,
      name: 'pings',
      mode: { kind: 'incremental', watermarkField: 'CreatedDate' },
      topic: { defaultName: 'test.pings', compacted: false },
      sink: { table: 'pings', write: 'append', indexes: [] },
    });
    const lateGroup = uniqueName('late-group');
    const lateSink = createPostgresSink({
      kafka,
      pool,
      schemas: registrySchemaSource({ url: services().SCHEMA_REGISTRY_URL }),
      streams: [GADGETS_BASE, pingsDecl],
      baseSchemas: { gadgets: GADGET, pings: PING },
      topics: { gadgets: late.gadgets, pings: late.pings, deadLetter: topics.deadLetter },
      tables: {
        gadgets: { schema: 'public', name: lateTables.gadgets },
        pings: { schema: 'public', name: lateTables.pings },
      },
      groupId: lateGroup,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await lateSink.start();
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: Object.values(late).map((name) => ({ type: 2, name, configNames: ['cleanup.policy'] })),
      });
      const policy = Object.fromEntries(
        configs.resources.map((r) => [
          r.resourceName,
          r.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue,
        ]),
      );
      expect(policy).toEqual({ [late.gadgets]: 'compact', [late.pings]: 'delete' });

      const [ids] = await registerTopicSchemas(registryFromConfig({ url: services().SCHEMA_REGISTRY_URL }), [
        { topic: late.gadgets, key: 'string', value: GADGET },
      ]);
      await produce(kafka, late.gadgets, ids, GADGET, [
        { key: 'a0Glate', value: { id: 'a0Glate', ownerId: null, label: 'x', units: 1 } },
      ]);
      await waitFor("the late topic's record in its table", 60_000, async () => {
        const { rows } = await pool.query(`SELECT id FROM "${lateTables.gadgets}"`).catch(() => ({ rows: [] }));
        return rows.length === 1 && rows[0].id === 'a0Glate';
      });
    } finally {
      await lateSink.stop();
      await pool.query(`DROP TABLE IF EXISTS "${lateTables.gadgets}", "${lateTables.pings}"`).catch(() => undefined);
      await pool
        .query('DELETE FROM neurons_sink_offsets WHERE table_name = ANY($1)', [Object.values(lateTables)])
        .catch(() => undefined);
      await admin.deleteGroups([lateGroup]).catch(() => undefined);
      await admin.deleteTopics({ topics: Object.values(late) }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('refuses a view naming a stream it does not write, or SQL PostgreSQL refuses, naming the file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'declared-views-'));
    const unknown = path.join(dir, 'unknown.sql');
    writeFileSync(unknown, 'CREATE OR REPLACE VIEW nowhere AS SELECT * FROM {{table:nosuch}};');
    const broken = path.join(dir, 'broken.sql');
    writeFileSync(broken, `CREATE OR REPLACE VIEW "${view}_bad" AS SELECT no_such_column FROM {{table:gadgets}};`);
    for (const [file, why] of [
      [unknown, /names no stream this sink writes/],
      [broken, /PostgreSQL refused it/],
    ] as const) {
      const store = createPostgresStore({ pool, chunkRows: 100, synchronousCommit: true, statementTimeoutMs: 10_000 });
      const streams = sinkStreams(
        [{ ...GADGETS_BASE, sink: { ...GADGETS_BASE.sink, table: tables.gadgets, views: [file] } }],
        { baseSchemas: { gadgets: GADGET } },
      );
      const opened = store.open(streams, { logger: silentLogger, latestSchema: async () => undefined });
      await expect(opened).rejects.toMatchObject({ code: 'SINK_VIEW_INVALID', message: expect.stringContaining(file) });
      await expect(opened).rejects.toThrow(why);
      await store.close();
    }
  });
});

async function produce(
  kafka: Kafka,
  topic: string,
  ids: RegisteredTopic,
  schema: AvroSchemaJson,
  records: readonly { key: string; value: Record<string, unknown> | null }[],
): Promise<void> {
  const keyType = avro.Type.forSchema('string');
  const valueType = avro.Type.forSchema(schema as avro.Schema);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: records.map((r) => ({
        key: frame(ids.key.id, keyType.toBuffer(r.key)),
        value: r.value === null ? null : frame(ids.value.id, valueType.toBuffer(r.value)),
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

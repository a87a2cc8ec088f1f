import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { Kafka as KafkaClient, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import avro from 'avsc';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { createTopicsReady } from '../../kafka/topics';
import { loadConnectorSchemas, type AvroSchemaJson } from '../../schemas/avro';
import { registerTopicSchemas, registryFromConfig, type RegisteredTopic } from '../../schemas/registry';
import { frame } from '../../schemas/wire';
import { LOGINS, USERS } from '../../schemas/streams';
import { readToEnd } from '../../pipeline/kafka/read-to-end';
import { createPostgresSink, type PostgresSink, type PostgresSinkDeps } from '../../sinks';
import { registryClient } from '../../schemas/registry-client';
import { registrySchemaSource } from '../../sinks/postgres/schema-source';
import { services, uniqueName } from './services';
import { waitFor } from './wait';

/** One record to produce: value null = tombstone; a Buffer is sent as it is (raw bad bytes). */
export interface Produce {
  key: string | Buffer;
  value: Record<string, unknown> | Buffer | null;
  /** Encode the value with this registered schema instead of the shipped one. */
  schema?: { id: number; type: avro.Type };
}

/**
 * Everything one sink test needs, under names no other test uses: its own users, login and
 * dead-letter topics, consumer group, tables and registry subjects. close() removes them.
 */
export class SinkHarness {
  readonly topics = {
    users: uniqueName('sink-users'),
    logins: uniqueName('sink-logins'),
    deadLetter: uniqueName('sink-dlq'),
  };
  readonly tables = { users: uniqueName('users').replace('-', '_'), logins: uniqueName('logins').replace('-', '_') };
  readonly groupId = uniqueName('sink-group');
  readonly kafka: Kafka;
  readonly pool: Pool;
  readonly registryUrl: string;
  private readonly shipped = loadConnectorSchemas();
  private registered!: { users: RegisteredTopic; logins: RegisteredTopic };
  private readonly sinks: PostgresSink[] = [];

  constructor(opts: { databaseUrl?: string; brokers?: string; partitions?: number; registryUrl?: string } = {}) {
    this.registryUrl = opts.registryUrl ?? services().SCHEMA_REGISTRY_URL;
    this.kafka = new KafkaClient({
      clientId: 'sink-test',
      brokers: [opts.brokers ?? services().KAFKA_BROKERS],
      logLevel: logLevel.NOTHING,
    });
    // A sink's stop() waits for its fetch in flight (kafkajs's fetchManager.stop), a long poll
    // the broker answers when records arrive or after maxWaitTimeInMs: 5 s by default, so every
    // sink stopped on idle topics cost 5 s of waiting for nothing. Here the polls end after
    // 500 ms; a fetch with records still returns at once, and the sink's own settings win.
    const consumer = this.kafka.consumer.bind(this.kafka);
    this.kafka.consumer = (config) => consumer({ maxWaitTimeInMs: 500, ...config });
    this.pool = new Pool({ connectionString: opts.databaseUrl ?? services().DATABASE_URL, max: 4 });
    this.pool.on('error', () => undefined);
    this.partitions = opts.partitions ?? 1;
  }

  private readonly partitions: number;

  async setUp(): Promise<this> {
    const admin = this.kafka.admin();
    await admin.connect();
    await createTopicsReady(admin, [
      {
        topic: this.topics.users,
        numPartitions: this.partitions,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
      { topic: this.topics.logins, numPartitions: this.partitions },
    ]);
    await admin.disconnect();
    await this.registerSchemas();
    return this;
  }

  /** Registers the shipped schemas for this harness's topics (again, after a registry lost them). */
  async registerSchemas(): Promise<{ users: RegisteredTopic; logins: RegisteredTopic }> {
    const clients = registryFromConfig({ url: this.registryUrl });
    const [users, logins] = await registerTopicSchemas(clients, [
      { topic: this.topics.users, key: this.shipped.key, value: this.shipped.userValue },
      { topic: this.topics.logins, key: this.shipped.key, value: this.shipped.loginEventValue },
    ]);
    this.registered = { users, logins };
    return this.registered;
  }

  /** A sink on this harness's topics and tables; stopped by close() if the test does not. */
  sink(overrides: Partial<PostgresSinkDeps> = {}): PostgresSink {
    const sink = createPostgresSink(this.deps(overrides));
    this.sinks.push(sink);
    return sink;
  }

  /** The sink's (and replay's) dependencies on this harness's topics and tables. */
  deps(overrides: Partial<PostgresSinkDeps> = {}): PostgresSinkDeps {
    return {
      kafka: this.kafka,
      pool: this.pool,
      schemas: registrySchemaSource({ url: this.registryUrl }),
      topics: this.topics,
      tables: {
        users: { schema: 'public', name: this.tables.users },
        logins: { schema: 'public', name: this.tables.logins },
      },
      groupId: this.groupId,
      streams: [USERS, LOGINS],
      tuning: { retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 100, maxDelayMs: 1000 } },
      ...overrides,
    };
  }

  /** Registers another version of a topic's value schema; returns its id and type. */
  async registerValueSchema(topic: string, schema: AvroSchemaJson): Promise<{ id: number; type: avro.Type }> {
    const { registry } = registryFromConfig({ url: this.registryUrl });
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject: `${topic}-value` },
    );
    return { id, type: avro.Type.forSchema(schema) };
  }

  /** The registry ids of the shipped value schemas, as registered for this harness's topics. */
  schemaIds(): { users: number; logins: number } {
    return { users: this.registered.users.value.id, logins: this.registered.logins.value.id };
  }

  encodeKey(key: string): Buffer {
    return frame(this.registered.users.key.id, avro.Type.forSchema('string').toBuffer(key));
  }

  async produce(topic: string, records: readonly Produce[]): Promise<void> {
    const own = topic === this.topics.users ? this.shipped.userValue : this.shipped.loginEventValue;
    const ownId = topic === this.topics.users ? this.registered.users.value.id : this.registered.logins.value.id;
    const ownType = avro.Type.forSchema(own);
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: records.map((r) => ({
          key: Buffer.isBuffer(r.key) ? r.key : this.encodeKey(r.key),
          value:
            r.value === null
              ? null
              : Buffer.isBuffer(r.value)
                ? r.value
                : frame(r.schema?.id ?? ownId, (r.schema?.type ?? ownType).toBuffer(r.value)),
          headers: { 'neurons-run-id': 'run-1' },
        })),
      });
    } finally {
      await producer.disconnect();
    }
  }

  /** Waits until the sink group's committed offsets reach the end of both topics. */
  async caughtUp(timeoutMs = 60_000, groupId = this.groupId): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await waitFor(`group ${groupId} to commit up to the end of its topics`, timeoutMs, async () => {
        for (const topic of [this.topics.users, this.topics.logins]) {
          const ends = await admin.fetchTopicOffsets(topic);
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
          for (const end of ends) {
            const at = committed.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
            if (BigInt(end.high) > 0n && BigInt(at) < BigInt(end.high)) return false;
          }
        }
        return true;
      });
    } finally {
      await admin.disconnect();
    }
  }

  async rows(table: 'users' | 'logins', columns = '*'): Promise<Record<string, unknown>[]> {
    const { rows } = await this.pool.query(`SELECT ${columns} FROM "${this.tables[table]}" ORDER BY id`);
    return rows;
  }

  /** Every record on the dead-letter topic, with its headers as strings. */
  async deadLetters(): Promise<{ key: Buffer | null; value: Buffer | null; headers: Record<string, string> }[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    const exists = (await admin.listTopics()).includes(this.topics.deadLetter);
    await admin.disconnect();
    if (!exists) return [];
    const out: { key: Buffer | null; value: Buffer | null; headers: Record<string, string> }[] = [];
    await readToEnd(this.kafka, this.topics.deadLetter, (m: KafkaMessage) =>
      out.push({ key: m.key, value: m.value, headers: headerStrings(m.headers) }),
    );
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.sinks) await s.stop().catch(() => undefined);
    await this.pool
      .query(`DROP TABLE IF EXISTS "${this.tables.users}", "${this.tables.logins}"`)
      .catch(() => undefined);
    await this.pool
      .query('DELETE FROM neurons_sink_offsets WHERE table_name = ANY($1)', [Object.values(this.tables)])
      .catch(() => undefined);
    await this.pool.end().catch(() => undefined);
    const admin = this.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([this.groupId]).catch(() => undefined);
    const existing = new Set(await admin.listTopics());
    await admin
      .deleteTopics({ topics: Object.values(this.topics).filter((t) => existing.has(t)) })
      .catch(() => undefined);
    await admin.disconnect();
    await deleteSubjects(this.registryUrl, [this.topics.users, this.topics.logins]);
  }
}

export function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {}))
    if (v !== undefined) out[k] = (Array.isArray(v) ? v[0] : v)!.toString();
  return out;
}

async function deleteSubjects(url: string, topics: string[]): Promise<void> {
  for (const topic of topics) {
    for (const suffix of ['key', 'value']) {
      await registryClient({ url })
        .deleteSubject(`${topic}-${suffix}`)
        .catch(() => undefined);
    }
  }
}

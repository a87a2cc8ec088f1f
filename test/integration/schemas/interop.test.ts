import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { createTopicsReady } from '../../../kafka/topics';
import { useOwnRecordEncoding } from '../../../kafka/produce-encoding';
import { useZstdCodec } from '../../../kafka/zstd';
import { newRunState } from '../../../pipeline/run-state';
import { createLatestLoginMerger } from '../../../pipeline/stages/latest-login';
import { createLoginEventStage } from '../../../pipeline/stages/login-event';
import { createUserStage } from '../../../pipeline/stages/user';
import type { StageResult } from '../../../pipeline/stages/result';
import { loadCatalog } from '../../../schemas/catalog';
import { createTopicCodec, writerSchemasFrom } from '../../../schemas/codec';
import { connectorTopicSchemas, registerTopicSchemas, registryFromConfig } from '../../../schemas/registry';
import { services } from '../../support/services';
import { ensureInteropPython, READER_SCRIPT } from './python-interop';

/**
 * Interoperability: records this project produces to real Kafka (kafkajs) are read by Python's
 * confluent-kafka consumer and AvroDeserializer, which know nothing of our schemas: they fetch
 * each one from the registry by the id in the message. Equal values prove the wire format,
 * the schemas and the registry subjects work for downstream consumers that are not avsc. The
 * users batch is zstd (kafka/zstd.ts: Node's zstd as kafkajs's codec), the login events gzip, the
 * run state uncompressed, each encoded as the connector's producers encode (produce-encoding.ts):
 * librdkafka reads all three.
 */
useOwnRecordEncoding();
useZstdCodec();
const env = services();
const catalog = loadCatalog();
const kafka = new Kafka({ clientId: 'schemas-interop-test', brokers: [env.KAFKA_BROKERS], logLevel: logLevel.NOTHING });
const ctx = {
  instanceUrl: 'https://acme.my.salesforce.com',
  orgId: '00DHn0000001AbCMAU',
  connectorName: 'acme-salesforce',
  runId: randomUUID(),
  extractedAt: Date.UTC(2024, 4, 2, 8),
};

const unwrap = <T>(r: StageResult<T>): T => {
  if (!r.ok) throw r.error;
  return r.record;
};

let python: string;
let producer: Producer;
beforeAll(async () => {
  python = ensureInteropPython();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
}, 600_000);
afterAll(() => producer?.disconnect());

interface PythonRecord {
  topic: string;
  key: unknown;
  value: unknown;
  key_schema_id: number;
  value_schema_id: number;
}

async function readWithPython(topics: string[], count: number): Promise<PythonRecord[]> {
  // The script bounds itself (60 s, then a stack dump and exit); the kill at 90 s is a last resort.
  const args = [READER_SCRIPT, env.KAFKA_BROKERS, env.SCHEMA_REGISTRY_URL, topics.join(','), String(count), '60'];
  try {
    const { stdout } = await promisify(execFile)(python, args, { timeout: 90_000 });
    return stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as PythonRecord);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; signal?: string; code?: number };
    throw new Error(
      `the Python reader failed (exit ${e.code ?? '-'}, signal ${e.signal ?? '-'}).\n` +
        `stderr:\n${e.stderr?.trim() || '(empty)'}\nstdout:\n${e.stdout?.trim() || '(empty)'}`,
      { cause: err },
    );
  }
}

test('Python confluent-kafka AvroDeserializer reads user, login event, run state records kafkajs wrote', async () => {
  const id = randomUUID().slice(0, 8);
  const topics = { users: `interop-${id}.users`, loginHistory: `interop-${id}.logins`, state: `interop-${id}.state` };
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsReady(
    admin,
    Object.values(topics).map((topic) => ({ topic, numPartitions: 1 })),
  );
  await admin.disconnect();

  const sets = connectorTopicSchemas(topics, catalog.schemas);
  const registered = await registerTopicSchemas(registryFromConfig({ url: env.SCHEMA_REGISTRY_URL }), sets);
  const writers = writerSchemasFrom(registryFromConfig({ url: env.SCHEMA_REGISTRY_URL }).registry);
  const [users, logins, state] = registered.map((r, i) => createTopicCodec(r, sets[i], writers));

  // The golden fixture user, with its latest login merged in: every kind of field (maps, enum, doubles,
  // unicode, nulls).
  const [row] = parse(readFileSync(path.join(__dirname, '../../unit/pipeline/fixtures/user-row.csv'), 'utf8'), {
    columns: true,
  }) as Record<string, string>[];
  const login = unwrap(
    createLoginEventStage(catalog.loginHistoryMapping)(
      {
        Id: '0YaHn00000AbCdEKAV',
        UserId: row.Id,
        LoginTime: '2024-05-02T07:30:00.123Z',
        Status: 'Success',
        Browser: 'Chrome 124',
        Platform: 'Mac OSX',
        Application: 'Browser',
        SourceIp: '203.0.113.7',
        OptionsIsGet: 'false',
        OptionsIsPost: 'true',
        CountryIso: 'GB',
      },
      ctx,
    ),
  );
  const user = createLatestLoginMerger(catalog.userMapping, catalog.loginHistoryMapping)(
    unwrap(createUserStage(catalog.userMapping)(row, ctx)),
    login,
  );
  const run = {
    ...newRunState(ctx.connectorName, ctx.runId, ctx.extractedAt),
    status: 'succeeded' as const,
    endedAt: ctx.extractedAt + 5000,
    usersExtracted: 1,
    loginHistoryWatermark: login.loginTime,
    message: 'ok',
  };

  await producer.send({
    topic: topics.users,
    acks: -1,
    compression: CompressionTypes.ZSTD,
    messages: [{ key: users.encodeKey(user.id), value: users.encodeValue(user) }],
  });
  await producer.send({
    topic: topics.loginHistory,
    acks: -1,
    compression: CompressionTypes.GZIP,
    messages: [{ key: logins.encodeKey(login.id), value: logins.encodeValue(login) }],
  });
  await producer.send({
    topic: topics.state,
    acks: -1,
    messages: [{ key: state.encodeKey(ctx.connectorName), value: state.encodeValue(run) }],
  });

  const read = await readWithPython(Object.values(topics), 3);
  const byTopic = Object.fromEntries(read.map((r) => [r.topic, r]));
  expect(byTopic[topics.users]).toEqual({
    topic: topics.users,
    key: user.id,
    value: user,
    key_schema_id: users.keySchemaId,
    value_schema_id: users.valueSchemaId,
  });
  expect(byTopic[topics.loginHistory]).toEqual({
    topic: topics.loginHistory,
    key: login.id,
    value: login,
    key_schema_id: logins.keySchemaId,
    value_schema_id: logins.valueSchemaId,
  });
  expect(byTopic[topics.state]).toEqual({
    topic: topics.state,
    key: ctx.connectorName,
    value: run,
    key_schema_id: state.keySchemaId,
    value_schema_id: state.valueSchemaId,
  });
  // The device fields really travelled (not just nulls on both sides).
  expect(byTopic[topics.users].value).toMatchObject({
    deviceBrowser: 'Chrome 124',
    deviceLoginAt: Date.UTC(2024, 4, 2, 7, 30, 0, 123),
    status: 'active',
  });
}, 180_000);

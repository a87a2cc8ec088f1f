import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { createProducer, kafkaWriter, type OutRecord } from '../../../pipeline/kafka/publisher';
import { createTopicsReady } from '../../../kafka/topics';
import { useKafkajsRecordEncoding, useOwnRecordEncoding } from '../../../kafka/produce-encoding';
import { useZstdCodec } from '../../../kafka/zstd';
import { HEADERS, DEAD_LETTER_HEADERS } from '../../../schemas/topics';
import { mulberry32 } from '../../../simulator/prng';
import { services, uniqueName } from '../../support/services';

/**
 * The records kafka/produce-encoding.ts encodes, read back from Kafka: the same random records
 * (users with their six headers, tombstones, dead letters with Unicode reasons) sent through the
 * connector's producer and writer (idempotent, keyPartitioner, gzip, zstd or none) once with kafkajs's own
 * record encoding and once with ours, to two topics of 3 partitions. Each partition of both topics
 * must hold the records sent, in send order, with the same key, value and headers; the partition is
 * the one Kafka's murmur2 gives the key (both producers place them, the broker keeps them).
 * Seeded: READBACK_SEED=n replays.
 */
const SEED = Number(process.env.READBACK_SEED ?? Math.floor(Math.random() * 2 ** 31));
const env = services();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number;
useZstdCodec(); // as createKafka does: the connector's clients compress and read zstd batches
const kafka = new Kafka({
  clientId: 'produce-encoding-test',
  brokers: [env.KAFKA_BROKERS],
  logLevel: logLevel.NOTHING,
});

interface ReadBack {
  partition: number;
  key: string;
  value: string | null;
  headers: Record<string, string>;
}

function records(seed: number, n: number): Omit<OutRecord, 'topic'>[] {
  const rnd = mulberry32(seed);
  const int = (k: number) => Math.floor(rnd() * k);
  const chars = [...'abcXYZ019_-:|. \u00e9\u00fc\u4e2d\u{1f600}\u0000'];
  const text = (max: number) => Array.from({ length: int(max + 1) }, () => chars[int(chars.length)]).join('');
  const bytes = (min: number, max: number) =>
    Buffer.from(Array.from({ length: min + int(max - min + 1) }, () => int(256)));
  const run = { [HEADERS.runId]: text(36), [HEADERS.connector]: text(20), [HEADERS.org]: text(18) };
  return Array.from({ length: n }, (_, i) => {
    // unique keys (the index at the end), so each record read back is found in what was sent
    const index = Buffer.alloc(4);
    index.writeUInt32BE(i);
    const key = Buffer.concat([int(10) === 0 ? Buffer.from(text(18)) : bytes(0, 40), index]);
    const kind = int(10);
    if (kind === 0) return { key, value: null, headers: { ...run } };
    if (kind === 1)
      return {
        key,
        value: Buffer.from(JSON.stringify({ reason: text(80), i })),
        headers: {
          ...run,
          [DEAD_LETTER_HEADERS.reason]: text(120),
          [DEAD_LETTER_HEADERS.errorCode]: 'RECORD_SCHEMA_MISMATCH',
          [DEAD_LETTER_HEADERS.field]: text(10),
          [DEAD_LETTER_HEADERS.sourceObject]: 'User',
          [DEAD_LETTER_HEADERS.failedAt]: new Date(1_700_000_000_000 + i).toISOString(),
        },
      };
    return {
      key,
      value: bytes(0, int(20) === 0 ? 9000 : 1500),
      headers: {
        ...run,
        [HEADERS.contentHash]: text(22),
        [HEADERS.device]: text(90),
        [HEADERS.userLogin]: text(2),
      },
    };
  });
}

async function readAll(topic: string, count: number): Promise<ReadBack[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('produce-encoding') });
  const seen: ReadBack[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = (v as Buffer).toString('hex');
        seen.push({
          partition,
          key: message.key!.toString('hex'),
          value: message.value?.toString('hex') ?? null,
          headers,
        });
        if (seen.length >= count) done();
      },
    });
    const deadline = new Promise<void>((_, reject) =>
      setTimeout(() => reject(new Error(`read ${seen.length} of ${count} records from ${topic}`)), 60_000).unref(),
    );
    await Promise.race([all, deadline]);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

let admin: Admin;
let producer: Producer;
beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  producer = createProducer(kafka);
  await producer.connect();
});
// deleted at the end: kafkajs's producer keeps refreshing the metadata of every topic it sent to
const created: string[] = [];
afterAll(async () => {
  useOwnRecordEncoding();
  await producer.disconnect();
  if (created.length) await admin.deleteTopics({ topics: created });
  await admin.disconnect();
});

it.each(['gzip', 'zstd', 'none'] as const)(
  `records read back from Kafka: the same with kafkajs's encoding and ours, %s (READBACK_SEED=${SEED})`,
  async (compression) => {
    const sent = records(SEED, 1_200);
    const topics = { kafkajs: uniqueName('encoding-kafkajs'), ours: uniqueName('encoding-ours') };
    await createTopicsReady(
      admin,
      Object.values(topics).map((topic) => ({ topic, numPartitions: 3 })),
    );
    created.push(...Object.values(topics));
    const writer = kafkaWriter(producer, { compression });
    for (const [which, topic] of Object.entries(topics)) {
      if (which === 'ours') useOwnRecordEncoding();
      else useKafkajsRecordEncoding();
      for (let i = 0; i < sent.length; i += 500)
        await writer.write(sent.slice(i, i + 500).map((r) => ({ ...r, topic })));
    }
    useOwnRecordEncoding();
    const theirs = await readAll(topics.kafkajs, sent.length);
    const ours = await readAll(topics.ours, sent.length);
    const byPartition = (xs: ReadBack[]) => [0, 1, 2].map((p) => xs.filter((x) => x.partition === p));
    // the source of truth: what was sent, in order, on each partition kafkajs's path put it on
    const expected = sent.map((r) => ({
      key: r.key.toString('hex'),
      value: r.value?.toString('hex') ?? null,
      headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Buffer.from(v).toString('hex')])),
    }));
    expect(ours).toHaveLength(sent.length);
    expect(byPartition(ours)).toEqual(byPartition(theirs));
    const fromKafka = byPartition(theirs).flat();
    expect(fromKafka.map(({ partition: _, ...r }) => r).sort(byKeyThenValue)).toEqual(
      [...expected].sort(byKeyThenValue),
    );
    for (const p of byPartition(ours)) {
      const order = p.map((r) => expected.findIndex((e) => e.key === r.key));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    // Kafka's placement (the Java client's murmur2, as kafkajs computes it) for every key
    for (const r of ours) expect(r.partition).toBe((kafkajsMurmur2(Buffer.from(r.key, 'hex')) & 0x7fffffff) % 3);
    expect(new Set(ours.map((r) => r.partition)).size).toBe(3);
  },
  180_000,
);

function byKeyThenValue(a: { key: string; value: string | null }, b: { key: string; value: string | null }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : (a.value ?? '') < (b.value ?? '') ? -1 : 1;
}

// A dead letter copies its source record's headers, and Kafka's null header value (length -1) comes back
// from kafkajs's consumer as null: our encoding writes it as Kafka's null (kafkajs's own throws on it).
it('a null header value is sent as Kafka null and read back as null', async () => {
  const topic = uniqueName('encoding-null-header');
  await createTopicsReady(admin, [{ topic, numPartitions: 1 }]);
  created.push(topic);
  useOwnRecordEncoding();
  const headers = { trace: null, tenant: Buffer.from('a'), empty: '' } as unknown as Record<string, string>;
  await producer.send({ topic, messages: [{ key: 'k', value: 'v', headers }] });
  const consumer = kafka.consumer({ groupId: uniqueName('null-header') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const read = new Promise<Record<string, unknown>>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve({ ...message.headers }) });
    });
    const deadline = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`nothing read from ${topic}`)), 60_000).unref(),
    );
    const got = await Promise.race([read, deadline]);
    expect(got.trace).toBeNull();
    expect((got.tenant as Buffer).toString()).toBe('a');
    expect((got.empty as Buffer).length).toBe(0);
  } finally {
    await consumer.disconnect();
  }
}, 90_000);

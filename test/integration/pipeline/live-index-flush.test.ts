import type { Kafka, Producer } from 'kafkajs';
import { createTopicsReady } from '../../../kafka/topics';
import { silentLogger } from '../../../kernel/logger';
import { HEADERS } from '../../../schemas/topics';
import { openFence, type RunFence } from '../../../pipeline/kafka/fence';
import { entryValue, LiveIndexTopic } from '../../../pipeline/kafka/live-index-topic';
import { readLiveIndex } from '../../../pipeline/kafka/live-index';
import { createProducer, kafkaWriter, publishStream, type OutRecord } from '../../../pipeline/kafka/publisher';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import _ from 'highland';
import { kafkaClient } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';
import { uniqueName } from '../../support/services';

/**
 * With the run's fence, the live index's entries are written as they accumulate, each batch in a
 * transaction of that fence, instead of all in the commit (which at 1M users would be one
 * transaction of 1M entries). What must hold: what lands is exactly the projection of the users
 * records acknowledged, in order; a run whose fence was taken over lands nothing more; and the
 * index plus its tail still equals a full read of the users topic. Replay with SYNC_SEED=<n>.
 */
const ORG = '00D000000000001EAA';
const connector = 'flush-test';
let kafka: Kafka;
let producer: Producer;
const fences: RunFence[] = [];
let topics: string[] = [];

beforeEach(async () => {
  kafka = kafkaClient();
  producer = createProducer(kafka);
  await producer.connect();
});

afterEach(async () => {
  for (const f of fences.splice(0)) await f.close().catch(() => undefined);
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  topics = [];
});

async function usersTopic(): Promise<string> {
  const topic = `${uniqueName('flush')}.users`;
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsReady(admin, [
    { topic, numPartitions: 3, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
  ]);
  await admin.disconnect();
  topics.push(topic, `${topic}.live-index`);
  return topic;
}

/** A users record as a run publishes it (keys are plain text here: the test's decodeKey). */
function userRecord(topic: string, id: string, rnd: () => number): OutRecord {
  const device =
    rnd() < 0.3 ? undefined : `${String(Math.floor(rnd() * 1e12)).padStart(15, '0')}0Ya${id}\u0000abcd["x"]`;
  const hash = Math.floor(rnd() * 1e15).toString(36);
  return {
    topic,
    key: Buffer.from(id),
    value: rnd() < 0.1 ? null : Buffer.from('v'),
    headers: {
      [HEADERS.connector]: connector,
      [HEADERS.org]: ORG,
      [HEADERS.contentHash]: hash,
      ...(device ? { [HEADERS.device]: device } : {}),
      ...(rnd() < 0.5 ? { [HEADERS.userLogin]: 'FA' } : {}),
    },
  };
}

const projection = (r: OutRecord): [string, string | null] => [
  `${connector}\u0000${r.key.toString()}`,
  r.value === null
    ? null
    : entryValue(
        r.headers[HEADERS.org],
        r.headers[HEADERS.userLogin],
        r.headers[HEADERS.contentHash],
        r.headers[HEADERS.device],
      ),
];

/** The index topic's entries (committed ones: kafkajs reads read_committed), in order. */
async function indexEntries(topic: string): Promise<[string, string | null][]> {
  const out: [string, string | null][] = [];
  await readToEnd(kafka, `${topic}.live-index`, (m) => {
    const key = m.key!.toString();
    if (!key.endsWith('\u0001')) out.push([key, m.value?.toString() ?? null]);
  });
  return out;
}

const decodeKey = (b: Buffer) => b.toString('utf8');

async function openIndex(topic: string, flushEvery: number): Promise<{ index: LiveIndexTopic; fence: RunFence }> {
  const index = new LiveIndexTopic(kafka, topic, connector, decodeKey, silentLogger);
  await index.ensure(1);
  const fence = await openFence(kafka, `sf-neurons:${topic}:${connector}`, connector, { compression: 'none' });
  fences.push(fence);
  index.useFence(fence, { flushEvery });
  return { index, fence };
}

/**
 * A rebuild's set-up: an index over a new users topic whose fence counts the records of each of
 * its transactions, and the entries of n random users, kept at once as a rebuild keeps them.
 */
async function rebuildCase(label: string) {
  const rnd = seededRandom(label);
  const topic = await usersTopic();
  const flushEvery = 3 + Math.floor(rnd.next() * 10);
  const index = new LiveIndexTopic(kafka, topic, connector, decodeKey, silentLogger);
  await index.ensure(1);
  const inner = await openFence(kafka, `sf-neurons:${topic}:${connector}`, connector, { compression: 'none' });
  fences.push(inner);
  // the sizes of the fence's transactions, as the broker gets them
  const sizes: number[] = [];
  const fence: RunFence = {
    get fenced() {
      return inner.fenced;
    },
    close: () => inner.close(),
    transaction: (fn) =>
      inner.transaction(async (tx) => {
        let n = 0;
        await fn({ ...tx, writer: { write: async (b) => ((n += b.length), tx.writer.write(b)) } });
        sizes.push(n);
      }),
  };
  index.useFence(fence, { flushEvery });
  const loaded = await index.load(ORG);
  const n = 30 + Math.floor(rnd.next() * 100);
  const records = Array.from({ length: n }, (_x, i) =>
    userRecord(topic, `005K${String(i).padStart(14, '0')}`, rnd.next),
  );
  const entries = records.map((r) => {
    const [k, v] = projection(r);
    return {
      topic: `${topic}.live-index`,
      key: Buffer.from(k),
      value: v === null ? null : Buffer.from(v),
      headers: {},
    };
  });
  return { index, fence, loaded, records, entries, sizes, flushEvery };
}

describe('live index entries written in the fence as they accumulate', () => {
  it('lands the projections of the acknowledged records before the commit, and loads as a full read', async () => {
    const rnd = seededRandom('live-index-flush');
    const topic = await usersTopic();
    const flushEvery = 3 + Math.floor(rnd.next() * 20);
    const { index, fence } = await openIndex(topic, flushEvery);
    const loaded = await index.load(ORG);
    index.keep(loaded.refresh());
    const writer = index.writer(kafkaWriter(producer, { compression: 'none' }));
    const n = 40 + Math.floor(rnd.next() * 120);
    const records = Array.from({ length: n }, (_x, i) =>
      userRecord(topic, `005U${String(i).padStart(14, '0')}`, rnd.next),
    );
    await publishStream(_(records), writer, {
      batchSize: 1 + Math.floor(rnd.next() * 15),
      maxInFlight: 1 + Math.floor(rnd.next() * 4),
      compression: 'none',
      lingerMs: 5,
    });

    // before any commit: every acknowledged record's entry is in the index but the last few kept
    const landed = await indexEntries(topic);
    expect(landed.length).toBeGreaterThanOrEqual(n - flushEvery);
    expect(landed.length + index.waiting).toBe(n);
    const byKey = new Map(records.map((r) => projection(r)));
    for (const [k, v] of landed) expect(v).toEqual(byKey.get(k));

    // the commit writes the rest and the watermark; the index then loads as a full read does
    const watermark = await index.nextWatermark(loaded.watermark);
    await fence.transaction(async ({ writer: w }) => {
      await publishStream(_(index.entries()), w, { batchSize: 500, maxInFlight: 1, compression: 'none', lingerMs: 5 });
      await w.write([index.watermarkRecord(watermark)]);
    });
    expect(new Map(await indexEntries(topic))).toEqual(byKey);
    const next = await new LiveIndexTopic(kafka, topic, connector, decodeKey, silentLogger).load(ORG);
    expect(next.source).toBe('index');
    expect(next.tailRecords).toBe(0);
    const full = await readLiveIndex(kafka, topic, connector, decodeKey, silentLogger, ORG);
    const users = (live: typeof full) => [...live.keys()].sort().map((k) => [k, live.get(k)]);
    expect(users(next.live)).toEqual(users(full));
  });

  it('entries kept at once (a rebuild) go out in the background, at most flushEvery a transaction', async () => {
    const { index, loaded, records, entries, sizes, flushEvery } = await rebuildCase('live-index-flush-keep');
    index.keep(entries);
    await index.nextWatermark(loaded.watermark); // the commit is next: every background flush is done
    expect(index.waiting).toBe(0);
    expect(await indexEntries(records[0].topic)).toEqual(records.map(projection));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(records.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(flushEvery);
  });

  it('keepFlushed (a rebuild) holds at most flushEvery entries at once; the rest goes out in the commit', async () => {
    const { index, fence, loaded, records, entries, sizes, flushEvery } = await rebuildCase(
      'live-index-flush-keep-flushed',
    );
    // what is waiting each time the next entry is asked for: bounded, not every user at once
    const held: number[] = [];
    await index.keepFlushed(
      (function* () {
        for (const e of entries) {
          held.push(index.waiting);
          yield e;
        }
      })(),
    );
    expect(Math.max(...held)).toBeLessThanOrEqual(flushEvery);
    // fewer than flushEvery left for the commit: a routine run's few entries cost no transaction of their own
    expect(index.waiting).toBe(records.length % flushEvery);
    const watermark = await index.nextWatermark(loaded.watermark);
    await fence.transaction(async ({ writer: w }) => {
      await publishStream(_(index.entries()), w, { batchSize: 500, maxInFlight: 1, compression: 'none', lingerMs: 5 });
      await w.write([index.watermarkRecord(watermark)]);
    });
    expect(await indexEntries(records[0].topic)).toEqual(records.map(projection));
    // the flushes (flushEvery each), then the commit: the rest and the watermark record
    expect(sizes).toEqual([
      ...Array.from({ length: Math.floor(records.length / flushEvery) }, () => flushEvery),
      (records.length % flushEvery) + 1,
    ]);
  });

  it('a run whose fence was taken over lands no entry after that', async () => {
    const rnd = seededRandom('live-index-flush-zombie');
    const topic = await usersTopic();
    const flushEvery = 2 + Math.floor(rnd.next() * 8);
    const zombie = await openIndex(topic, flushEvery);
    const writer = zombie.index.writer(kafkaWriter(producer, { compression: 'none' }));
    const before = Array.from({ length: flushEvery * 2 }, (_x, i) =>
      userRecord(topic, `005A${String(i).padStart(14, '0')}`, rnd.next),
    );
    await writer.write(before);
    const landedBefore = await indexEntries(topic);
    expect(landedBefore.length).toBe(before.length);

    // another run takes the fence over (the same transactional id): the zombie's next flush is refused
    const taker = await openFence(kafka, `sf-neurons:${topic}:${connector}`, connector, { compression: 'none' });
    fences.push(taker);
    // its first transaction takes the transactional id over (as a run's first heartbeat does)
    await taker.transaction(async () => undefined);
    const after = Array.from({ length: flushEvery }, (_x, i) =>
      userRecord(topic, `005B${String(i).padStart(14, '0')}`, rnd.next),
    );
    await expect(writer.write(after)).rejects.toMatchObject({ code: 'RUN_FENCED' });
    expect(await indexEntries(topic)).toEqual(landedBefore);
  });
});

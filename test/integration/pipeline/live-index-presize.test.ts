import type { Kafka, Producer } from 'kafkajs';
import { createTopicsReady } from '../../../kafka/topics';
import { silentLogger } from '../../../kernel/logger';
import { entryValue, LiveIndexTopic } from '../../../pipeline/kafka/live-index-topic';
import { LiveIndex } from '../../../pipeline/kafka/live-index';
import { createProducer } from '../../../pipeline/kafka/publisher';
import { kafkaClient } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';
import { uniqueName } from '../../support/services';

/**
 * Review of issue 15's presized load (live-index-topic.ts): a LiveIndex reserved from a topic's record
 * count (an upper bound: superseded records of a compacted topic) must give the unused slots back once
 * its keys are in. A rebuild (the index has no usable watermark) keeps the index's entries for the whole
 * run (refresh() needs them to null the stale ones): that LiveIndex must not hold more table than plain
 * growth reaches for its keys. Replay with SYNC_SEED=<n>.
 */
const ORG = '00D000000000001EAA';
const connector = 'presize-test';
let kafka: Kafka;
/** The hash table's slots (ArenaStringMap.slotCount; LiveIndex keeps its map private). */
const slotsOf = (live: LiveIndex): number => (live as unknown as { users: { slotCount: number } }).users.slotCount;
let producer: Producer;
let topics: string[] = [];

beforeEach(async () => {
  kafka = kafkaClient();
  producer = createProducer(kafka);
  await producer.connect();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  topics = [];
});

it('a rebuild keeps no over-reserved index for the run: every LiveIndex reserved by load is fitted', async () => {
  const rnd = seededRandom('live-index-presize');
  const topic = `${uniqueName('presize')}.users`;
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsReady(admin, [
    { topic, numPartitions: 3, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
  ]);
  await admin.disconnect();
  topics.push(topic, `${topic}.live-index`);
  const index = new LiveIndexTopic(kafka, topic, connector, (b) => b.toString('utf8'), silentLogger);
  await index.ensure(1);

  // an index written by several full runs (each writes every user's entry again), no watermark: a rebuild
  const users = 500 + Math.floor(rnd.next() * 1500);
  const runs = 3 + Math.floor(rnd.next() * 4);
  for (let run = 0; run < runs; run++) {
    const messages = Array.from({ length: users }, (_x, i) => ({
      key: `${connector}\u0000005K${String(i).padStart(14, '0')}`,
      value: entryValue(ORG, undefined, Math.floor(rnd.next() * 1e15).toString(36), undefined),
    }));
    await producer.send({ topic: `${topic}.live-index`, messages });
  }

  const reserve = jest.spyOn(LiveIndex.prototype, 'reserve');
  const loaded = await index.load(ORG);
  expect(loaded.source).toBe('rebuild');
  const reserved = reserve.mock.contexts as LiveIndex[];
  expect(reserved.length).toBeGreaterThan(0);
  const context = `seed ${rnd.seed}: ${users} users, ${runs} runs in the index`;
  for (const live of reserved) {
    // the table growth alone reaches for the same keys (4 bytes a slot; the arena is the same either way)
    const grown = new LiveIndex();
    for (const k of live.keys()) grown.put(k, live.get(k)!);
    expect({ context, size: live.size, slots: slotsOf(live) }).toEqual({
      context,
      size: grown.size,
      slots: slotsOf(grown),
    });
  }
  // the over-reserved index is the one refresh() keeps for the run
  expect([...loaded.refresh()].length).toBe(users);
});

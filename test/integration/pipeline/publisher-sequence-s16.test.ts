import { Kafka, logLevel, type Admin } from 'kafkajs';
import { createProducer, kafkaWriter, type OutRecord } from '../../../pipeline/kafka/publisher';
import { openFence } from '../../../pipeline/kafka/fence';
import { createDeadLetter, deadLetterProducer } from '../../../sinks/engine/dead-letter';
import { FatalError } from '../../../kernel/errors';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { createTopicsReady } from '../../../kafka/topics';
import { mulberry32 } from '../../../simulator/prng';
import { produceFault } from '../../support/produce-fault-s16';
import { services, uniqueName } from '../../support/services';

/**
 * Several writes in flight on one idempotent producer (drainBatches keeps DEFAULT_PUBLISHER.maxInFlight
 * of them) when a produce request is answered with a retriable error although the broker appended it
 * (a partition whose leader moved; on a topic just created, a broker still answers NOT_LEADER_OR_FOLLOWER
 * for some partitions of a request and appends the others). kafkajs takes the request's sequence
 * numbers back (node_modules/kafkajs/src/producer/sendMessages.js:106-110) and releases the broker
 * lock before its retry's back-off: a write waiting for that lock is sent with the numbers the broker
 * already has. The broker then refuses it (OUT_OF_ORDER_SEQUENCE_NUMBER: a failed run), or, when that
 * write has as many records in the partition, takes it for a retry of the appended one and
 * acknowledges it without appending it: records acknowledged and lost, and the first write's records
 * twice (its own retry). The fault here is injected in process (test/support/produce-fault-s16.ts):
 * the first produce response says NOT_LEADER_OR_FOLLOWER for a partition the broker appended.
 * Every acknowledged record must be in Kafka exactly once, and no write may fail.
 * SEQ_S16_SEED=n replays.
 */
const SEED = Number(process.env.SEQ_S16_SEED ?? Math.floor(Math.random() * 2 ** 31));
const env = services();
const WRITES = 4; // DEFAULT_PUBLISHER.maxInFlight

let admin: Admin;
beforeAll(async () => {
  admin = new Kafka({ clientId: 'seq-s16-admin', brokers: [env.KAFKA_BROKERS], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
});
const created: string[] = [];
afterAll(async () => {
  if (created.length) await admin.deleteTopics({ topics: created });
  await admin.disconnect();
});

async function topic(partitions: number): Promise<string> {
  const name = uniqueName('seq-s16');
  await createTopicsReady(admin, [{ topic: name, numPartitions: partitions }]);
  created.push(name);
  return name;
}

const RETRIES = 2;

function faultyKafka(clientId: string, faulty: (n: number) => boolean = (n) => n === 0) {
  const fault = produceFault(faulty);
  const kafka = new Kafka({
    clientId,
    brokers: [env.KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
    socketFactory: fault.socketFactory,
    retry: { initialRetryTime: 100, retries: RETRIES },
  });
  return { kafka, fault };
}

/** `sameKeys`: every write has write 0's keys, so as many records in each partition. */
function writesOf(t: string, seed: number, sameKeys: boolean): OutRecord[][] {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const keys = Array.from({ length: 20 + int(300) }, () => `user-${int(1_000_000)}`);
  return Array.from({ length: WRITES }, (_, w) => {
    const ks = sameKeys ? keys : Array.from({ length: 20 + int(300) }, () => `user-${int(1_000_000)}`);
    return ks.map((k, i) => ({ topic: t, key: Buffer.from(k), value: Buffer.from(`${w}:${i}`), headers: {} }));
  });
}

/** Every record of `t` (read_committed), as write:index values, in each partition's order. */
async function readBack(kafka: Kafka, t: string): Promise<Map<number, string[]>> {
  const byPartition = new Map<number, string[]>();
  await readToEnd(
    kafka,
    t,
    (m, p) => {
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push(m.value!.toString());
    },
    new Map(),
    { deadlineMs: 60_000 },
  );
  return byPartition;
}

function expectExactlyOnce(writes: OutRecord[][], got: Map<number, string[]>): void {
  const all = [...got.values()].flat();
  const counts = new Map<string, number>();
  for (const v of all) counts.set(v, (counts.get(v) ?? 0) + 1);
  const sent = writes.flat().map((r) => r.value!.toString());
  const missing = sent.filter((v) => !counts.has(v));
  const twice = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
  expect({ missing: missing.length, twice: twice.length, total: all.length }).toEqual({
    missing: 0,
    twice: 0,
    total: sent.length,
  });
  // each write's records in its order within a partition
  for (const list of got.values()) {
    for (let w = 0; w < writes.length; w++) {
      const idx = list.filter((v) => v.startsWith(`${w}:`)).map((v) => Number(v.split(':')[1]));
      expect(idx).toEqual([...idx].sort((a, b) => a - b));
    }
  }
}

describe(`a retried produce request among concurrent writes (SEQ_S16_SEED=${SEED})`, () => {
  test.each([
    ['writes of different keys (the broker refuses the next one: a failed run)', false],
    ['writes of the same keys (the broker acknowledges the next one without appending it: records lost)', true],
  ])(
    'the publisher: %s',
    async (_what, sameKeys) => {
      const t = await topic(1 + (SEED % 4));
      const { kafka, fault } = faultyKafka('seq-s16-publisher');
      const producer = createProducer(kafka);
      await producer.connect();
      try {
        const writer = kafkaWriter(producer, { compression: 'gzip' });
        const writes = writesOf(t, SEED, sameKeys);
        const results = await Promise.allSettled(writes.map((b) => writer.write(b)));
        expect(fault.faulted).toBe(1);
        expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(writes.map(() => 'ok'));
        expectExactlyOnce(writes, await readBack(kafka, t));
      } finally {
        await producer.disconnect();
      }
    },
    90_000,
  );

  test("the sink's dead letters: two partitions' entries sent at once", async () => {
    // the engine processes partitions concurrently (and a replay its streams): each may send its bad
    // records to the one dead-letter producer while another's send is retried
    const t = await topic(1 + (SEED % 4));
    const { kafka, fault } = faultyKafka('seq-s16-dead-letter');
    const producer = deadLetterProducer(kafka);
    await producer.connect();
    try {
      const deadLetter = createDeadLetter(producer, t);
      const writes = writesOf(t, SEED + 4, true);
      const error = new FatalError('SINK_BAD_RECORD', 'a bad record');
      const entries = writes.map((w, p) =>
        w.map((r, i) => ({
          source: { topic: 'users', partition: p, offset: String(i), key: r.key, value: r.value },
          error,
        })),
      );
      const results = await Promise.allSettled(entries.map((e) => deadLetter.send(e)));
      expect(fault.faulted).toBe(1);
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(writes.map(() => 'ok'));
      expectExactlyOnce(writes, await readBack(kafka, t));
    } finally {
      await producer.disconnect();
    }
  }, 90_000);

  test('the publisher: the write after one that failed for good is neither refused nor lost', async () => {
    // the failed one: appended, and its request and every retry answered NOT_LEADER_OR_FOLLOWER
    const t = await topic(1 + (SEED % 4));
    // the first write's request and each of its retries: answered NOT_LEADER_OR_FOLLOWER
    const { kafka, fault } = faultyKafka('seq-s16-failed', (n) => n <= RETRIES);
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      const writer = kafkaWriter(producer, { compression: 'gzip' });
      const [first, next] = writesOf(t, SEED + 2, true);
      await expect(writer.write(first)).rejects.toThrow(/leader/);
      expect(fault.faulted).toBeGreaterThan(0);
      await writer.write(next);
      // the first write's request was appended once (its retries were recognised as such)
      expectExactlyOnce([first, next], await readBack(kafka, t));
    } finally {
      await producer.disconnect();
    }
  }, 90_000);

  test('the fence: writes into one transaction at once are sent one after the other', async () => {
    const t = await topic(1 + (SEED % 4));
    const { kafka, fault } = faultyKafka('seq-s16-fence');
    const fence = await openFence(kafka, uniqueName('seq-s16-fence'), 'seq-s16', { compression: 'gzip' });
    try {
      const writes = writesOf(t, SEED + 1, true);
      await fence.transaction(async ({ writer }) => {
        await Promise.all(writes.map((b) => writer.write(b)));
      });
      expect(fault.faulted).toBe(1);
      expectExactlyOnce(writes, await readBack(kafka, t));
    } finally {
      await fence.close();
    }
  }, 90_000);

  test('the fence: after a send that failed for good, no transaction commits (none acknowledged, lost)', async () => {
    // a run goes on after a failed heartbeat transaction (pipeline/sync.ts: only a warning), and its
    // next one (a heartbeat, the LoginHistory progress: one record each) may have as many records
    const t = await topic(1 + (SEED % 4));
    const { kafka, fault } = faultyKafka('seq-s16-fence-failed', (n) => n <= RETRIES);
    const fence = await openFence(kafka, uniqueName('seq-s16-fence'), 'seq-s16', { compression: 'gzip' });
    try {
      const [first, next] = writesOf(t, SEED + 3, true);
      await expect(fence.transaction(({ writer }) => writer.write(first))).rejects.toThrow(/leader/);
      expect(fault.faulted).toBeGreaterThan(0);
      // a new producer id would need a new epoch of the connector's transactional id: that is how a
      // run takes the fence from another, so the fence refuses instead (the run fails, commits nothing)
      let committed = true;
      await fence
        .transaction(({ writer }) => writer.write(next))
        .catch((err: { code?: string }) => {
          expect(err.code).toBe('RUN_FENCE_SEND_FAILED');
          committed = false;
        });
      const got = await readBack(kafka, t);
      // what a committed transaction sent is there exactly once; an aborted one left nothing
      expectExactlyOnce(committed ? [[], next] : [], got);
    } finally {
      await fence.close();
    }
  }, 90_000);
});

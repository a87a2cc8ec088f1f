import type { Kafka, KafkaMessage } from 'kafkajs';
import { FatalError } from '../../../kernel/errors';
import { silentLogger } from '../../../kernel/logger';
import { mulberry32 } from '../../../simulator/prng';
import { startSinkConsumer, type SinkConsumer } from '../../../sinks/engine/consumer';
import type { BatchContext, BatchProcessor, BatchResult } from '../../../sinks/engine/processor';
import { SinkHarness } from '../../support/sink-harness';
import { waitFor } from '../../support/wait';

/**
 * The consumer fetches the next records while a batch is being written (write-behind,
 * sinks/engine/consumer.ts): kafkajs fetches again only once every batch of its last fetch has
 * been handed over, so a batch handed over only at its commit leaves PostgreSQL idle during each
 * fetch. The promises kept: a partition's batches are written one at a time in Kafka order, no
 * batch is written past one that failed (no gap: the failed one is read and written again first),
 * a fatal failure stops the consumer. A fake processor stands for the database (it records what
 * it was given); Kafka is real. WRITE_BEHIND_SEED=<n> replays a run.
 */
const seed = Number(process.env.WRITE_BEHIND_SEED ?? Math.floor(Math.random() * 2 ** 31));

const NOTHING: BatchResult = { records: 0, deadLettered: 0, skipped: 0, upserted: 0, inserted: 0, deleted: 0 };

interface Call {
  partition: number;
  first: bigint;
  next: bigint;
}

/** Counts the fetches kafkajs starts (its instrumentation event), from the consumers this client makes. */
function countingFetches(kafka: Kafka): { kafka: Kafka; fetches: () => number } {
  let n = 0;
  const make = kafka.consumer.bind(kafka);
  const wrapped = Object.create(kafka) as Kafka;
  wrapped.consumer = (config) => {
    const c = make(config);
    c.on(c.events.FETCH_START, () => n++);
    return c;
  };
  return { kafka: wrapped, fetches: () => n };
}

describe(`sink consumer: write-behind (WRITE_BEHIND_SEED=${seed})`, () => {
  let h: SinkHarness;
  let consumer: SinkConsumer | undefined;
  beforeEach(async () => (h = await new SinkHarness({ partitions: 2 }).setUp()));
  afterEach(async () => {
    await consumer?.stop().catch(() => undefined);
    consumer = undefined;
    await h.close();
  });

  /** `batches` produce calls per partition (each its own record batch, so each its own fetch), random sizes. */
  async function produce(rnd: () => number, batches: number): Promise<Map<number, bigint>> {
    const ends = new Map<number, bigint>();
    for (let b = 0; b < batches; b++)
      for (const partition of [0, 1]) {
        const n = 5 + Math.floor(rnd() * 40);
        const producer = h.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        await producer.send({
          topic: h.topics.logins,
          acks: -1,
          messages: Array.from({ length: n }, (_, i) => ({
            partition,
            key: Buffer.from(`k${b}-${i}`),
            value: Buffer.alloc(100 + Math.floor(rnd() * 200), 'v'),
          })),
        });
        await producer.disconnect();
        ends.set(partition, (ends.get(partition) ?? 0n) + BigInt(n));
      }
    return ends;
  }

  const start = (kafka: Kafka, processor: BatchProcessor) =>
    startSinkConsumer(
      kafka,
      processor,
      {
        groupId: h.groupId,
        topics: [h.topics.logins],
        fromBeginning: true,
        // One produced record batch a fetch: every fetch returns at least one whole record batch.
        maxBytesPerPartition: 1024,
        partitionsConsumedConcurrently: 2,
        sessionTimeoutMs: 30_000,
      },
      { logger: silentLogger },
    );

  /** A processor that checks Kafka order and no gap per partition, as the database's stored offsets would. */
  function recording(onCall?: (call: Call, n: number) => Promise<void> | void) {
    const calls: Call[] = [];
    const stored = new Map<number, bigint>();
    const writing = new Set<number>();
    const errors: string[] = [];
    let n = 0;
    const processor: BatchProcessor = {
      async process(_topic, partition, messages: readonly KafkaMessage[], ctx: BatchContext) {
        const call = { partition, first: BigInt(messages[0].offset), next: ctx.nextOffset };
        if (writing.has(partition)) errors.push(`partition ${partition}: two batches written at once`);
        writing.add(partition);
        try {
          await onCall?.(call, n++);
          const at = stored.get(partition) ?? 0n;
          if (call.first > at) errors.push(`partition ${partition}: gap ${at} -> ${call.first}`);
          if (call.next > at) stored.set(partition, call.next);
          calls.push(call);
          return { ...NOTHING, records: messages.length };
        } finally {
          writing.delete(partition);
        }
      },
    };
    return { processor, calls, stored, errors };
  }

  it('fetches the next records while a batch is being written; a partition in order, a batch at a time', async () => {
    const rnd = mulberry32(seed);
    const ends = await produce(rnd, 4);
    const { kafka, fetches } = countingFetches(h.kafka);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let fetchesAtFirstWrite = -1;
    const rec = recording(async (_call, n) => {
      if (n > 0) return;
      fetchesAtFirstWrite = fetches();
      await released; // the first write stays in flight until the consumer fetched again
    });
    consumer = await start(kafka, rec.processor);
    await waitFor('a fetch while the first batch is being written', 20_000, async () =>
      Promise.resolve(fetchesAtFirstWrite >= 0 && fetches() > fetchesAtFirstWrite),
    ).finally(release);
    await waitFor('every record written', 30_000, async () =>
      Promise.resolve([0, 1].every((p) => rec.stored.get(p) === ends.get(p))),
    );
    expect(rec.errors).toEqual([]);
  });

  it('a write that fails is read and written again before any later batch of its partition (no gap)', async () => {
    const rnd = mulberry32(seed);
    const ends = await produce(rnd, 4);
    const { kafka, fetches } = countingFetches(h.kafka);
    const failAt = Math.floor(rnd() * 4);
    let failed = false;
    const rec = recording(async (_call, n) => {
      if (n !== failAt || failed) return;
      failed = true;
      const at = fetches();
      // fails once the consumer has fetched on (the later batches of its partition are in hand)
      await waitFor('a fetch after the failing write began', 10_000, async () => Promise.resolve(fetches() > at)).catch(
        () => undefined,
      );
      throw new Error('write failed (test)');
    });
    consumer = await start(kafka, rec.processor);
    await waitFor('every record written', 60_000, async () =>
      Promise.resolve([0, 1].every((p) => rec.stored.get(p) === ends.get(p))),
    );
    expect(failed).toBe(true);
    expect(rec.errors).toEqual([]);
  });

  it('a fatal failure of a write stops the consumer; nothing of its partition is written after it', async () => {
    const rnd = mulberry32(seed);
    await produce(rnd, 4);
    const failAt = 1 + Math.floor(rnd() * 3);
    let fatal: Call | undefined;
    const rec = recording((call, n) => {
      if (n !== failAt) return;
      fatal = call;
      throw new FatalError('TEST_FATAL', 'fatal write (test)');
    });
    consumer = await start(h.kafka, rec.processor);
    await expect(consumer.done).rejects.toThrow('fatal write (test)');
    // Batches already being written may finish; none of the failed partition starts after it.
    await new Promise((r) => setTimeout(r, 1500));
    expect(rec.calls.filter((c) => c.partition === fatal!.partition && c.first >= fatal!.first)).toEqual([]);
    expect(rec.errors).toEqual([]);
  });
});

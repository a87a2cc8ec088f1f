import type { KafkaMessage } from 'kafkajs';
import { silentLogger } from '../../../kernel/logger';
import { mulberry32 } from '../../../simulator/prng';
import { startSinkConsumer, type SinkConsumer } from '../../../sinks/engine/consumer';
import type { BatchContext, BatchProcessor, BatchResult } from '../../../sinks/engine/processor';
import { SinkHarness } from '../../support/sink-harness';
import { waitFor } from '../../support/wait';

/**
 * Review (s9-rev-sink): a rebalance while a write is behind (write-behind, sinks/engine/consumer.ts).
 *
 * With the write-behind, a member hands a batch back to kafkajs as soon as its write has started, so
 * kafkajs rejoins the group while that write is still running. The partition may go to another
 * member, which resumes from the database's offset (the write behind has not committed yet) and
 * writes the partition on. When the first member's write ends, it commits its Kafka offset through
 * the consumer group's CURRENT generation (runner.js: commitOffsetsIfNecessary ->
 * consumerGroup.commitOffsets), which the broker accepts although the member no longer owns the
 * partition: Kafka's copy of the offset goes back behind where the sink really is (the new
 * owner's commits), and stays there until the new owner commits again (never, once it is caught
 * up). consumer.ts says Kafka's copy "follows, so lag and tools see where the sink really is".
 * Before the write-behind the member ended its write (and its Kafka commit) before it could rejoin.
 *
 * Two members of one group, a shared fake database (a stored offset per partition, a batch below
 * it skipped as writer.ts does), Kafka real. REBALANCE_REVIEW_SEED=<n> replays the sizes (the
 * timing is the rebalance's: seen failing 6 runs of 6 on 658401a, e.g. seeds 1, 1778671272,
 * 1911268546; passes on acb6b36 with seed 1). REVIEW_DEBUG=1 prints the timeline of the writes:
 * it also shows A and B writing the same batch of the moved partition at once (PostgreSQL
 * serializes those on the offset row's lock, writer.ts/offsets.ts: not a data finding).
 */
const seed = Number(process.env.REBALANCE_REVIEW_SEED ?? Math.floor(Math.random() * 2 ** 31));

const NOTHING: BatchResult = { records: 0, deadLettered: 0, skipped: 0, upserted: 0, inserted: 0, deleted: 0 };

describe(`sink consumer: a rebalance while a write is behind (REBALANCE_REVIEW_SEED=${seed})`, () => {
  let h: SinkHarness;
  const consumers: SinkConsumer[] = [];
  beforeEach(async () => (h = await new SinkHarness({ partitions: 2 }).setUp()));
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.stop().catch(() => undefined);
    await h.close();
  });

  async function produce(rnd: () => number, batches: number): Promise<Map<number, bigint>> {
    const ends = new Map<number, bigint>();
    const producer = h.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let b = 0; b < batches; b++)
      for (const partition of [0, 1]) {
        const n = 3 + Math.floor(rnd() * 6);
        await producer.send({
          topic: h.topics.logins,
          acks: -1,
          messages: Array.from({ length: n }, (_, i) => ({
            partition,
            key: Buffer.from(`k${b}-${i}`),
            // a record batch < 1 KiB: both partitions in every fetch
            value: Buffer.alloc(40 + Math.floor(rnd() * 60), 'v'),
          })),
        });
        ends.set(partition, (ends.get(partition) ?? 0n) + BigInt(n));
      }
    await producer.disconnect();
    return ends;
  }

  it("Kafka's committed offset does not go back behind the database's after a rebalance", async () => {
    const rnd = mulberry32(seed);
    const ends = await produce(rnd, 20);
    // The fake database: stored offsets (the truth), shared by both members.
    const stored = new Map<number, bigint>();
    const errors: string[] = [];
    const lateCommits: string[] = [];
    let bStarted = false;
    let bJoined = false;
    const bAssigned = new Set<number>();
    const log: string[] = [];
    const T = Date.now();

    const processor = (member: 'A' | 'B'): BatchProcessor => ({
      async process(_topic, partition, messages: readonly KafkaMessage[], ctx: BatchContext) {
        const first = BigInt(messages[0].offset);
        const t0 = Date.now();
        log.push(`${Date.now() - T}: ${member} starts ${partition} ${first}..${ctx.nextOffset} bJoined=${bJoined}`);
        await new Promise((r) => setTimeout(r, 80)); // a write takes a while
        if (member === 'A' && bStarted) {
          // Held a little (the rebalance is under way); once the partition went to B, held until B
          // has written it to its end (a slow COPY of the old owner).
          await waitFor('B joined', 4000, async () => Promise.resolve(bJoined)).catch(() => undefined);
          if (bJoined && bAssigned.has(partition)) {
            await waitFor('B wrote the partition to its end', 30_000, async () =>
              Promise.resolve((stored.get(partition) ?? 0n) >= ends.get(partition)!),
            ).catch(() => undefined);
            lateCommits.push(`A's write of ${partition} from ${first} to ${ctx.nextOffset} ended after B caught up`);
          }
        }
        const at = stored.get(partition) ?? 0n;
        log.push(`${Date.now() - T}: ${member} ends ${partition} ${first} after ${Date.now() - t0}`);
        if (first > at) errors.push(`partition ${partition}: gap ${at} -> ${first}`);
        if (ctx.nextOffset <= at) return { ...NOTHING, records: messages.length, skipped: messages.length };
        stored.set(partition, ctx.nextOffset);
        return { ...NOTHING, records: messages.length };
      },
    });

    const start = (member: 'A' | 'B') =>
      startSinkConsumer(
        h.kafka,
        processor(member),
        {
          groupId: h.groupId,
          topics: [h.topics.logins],
          fromBeginning: true,
          maxBytesPerPartition: 1024,
          partitionsConsumedConcurrently: 2,
          sessionTimeoutMs: 10_000, // heartbeats every second: A sees the rebalance soon
        },
        { logger: silentLogger, storedOffset: async (_t, p) => stored.get(p) },
      );

    // Member A alone, until it has written a few batches of each partition.
    const origConsumer = h.kafka.consumer.bind(h.kafka);
    let made = 0;
    h.kafka.consumer = (config) => {
      const c = origConsumer(config);
      if (made++ === 1)
        // the second consumer made is B's
        c.on(c.events.GROUP_JOIN, (e) => {
          bAssigned.clear();
          for (const p of Object.values(e.payload.memberAssignment).flat()) bAssigned.add(p);
          bJoined = true;
          log.push(`${Date.now() - T}: B joined ${[...bAssigned]}`);
        });
      return c;
    };
    consumers.push(await start('A'));
    await waitFor('A wrote some batches of each partition', 30_000, async () =>
      Promise.resolve([0, 1].every((p) => (stored.get(p) ?? 0n) > 0n)),
    );
    bStarted = true;
    consumers.push(await start('B'));

    await waitFor('every record in the database', 60_000, async () =>
      Promise.resolve([0, 1].every((p) => stored.get(p) === ends.get(p))),
    );
    // The members settle: the writes behind end and commit. Kafka's copy is read until it equals
    // the database's (bounded; it was a fixed 3 s, short on a loaded machine): with the defect it
    // stays behind for good, so the assertion below still fails after the wait.
    const admin = h.kafka.admin();
    await admin.connect();
    let kafka = new Map<number, bigint>();
    const caughtUp = async () => {
      const [committed] = await admin.fetchOffsets({ groupId: h.groupId, topics: [h.topics.logins] });
      kafka = new Map(committed.partitions.map((p) => [p.partition, BigInt(p.offset)]));
      return [0, 1].every((p) => kafka.get(p) === stored.get(p));
    };
    await waitFor("Kafka's committed offsets to reach the database's", 30_000, caughtUp).catch(() => undefined);
    await admin.disconnect();
    if (process.env.REVIEW_DEBUG)
      console.log(
        // the timeline of the writes
        { kafka, stored, lateCommits, bAssigned, log },
      );
    expect(errors).toEqual([]);
    expect({ kafka: [0, 1].map((p) => kafka.get(p)), late: lateCommits }).toEqual({
      kafka: [0, 1].map((p) => stored.get(p)),
      late: lateCommits,
    });
  }, 120_000);
});

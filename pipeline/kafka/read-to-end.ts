import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { RetriableError } from '../../kernel/errors';

export interface ReadToEndOptions {
  /** Give up after this long with READ_TO_END_TIMEOUT (ms, default 120 s). */
  deadlineMs?: number;
}

export const DEFAULT_READ_DEADLINE_MS = 120_000;

/**
 * Bytes a fetch may bring, per partition and in all. What a fetch brings is held decoded at once
 * (every message with its key, value and header Buffers, ~1 KB of heap a record), and a
 * compressed batch of small records decodes to many: 1 MiB of a declared stream's gzip'd records
 * was ~27,000 messages, ~80 MB of heap for three partitions (a heap snapshot of a full run). A
 * quarter of that keeps a read's memory small whatever the record size, for a few more fetches.
 */
const FETCH_BYTES_PER_PARTITION = 256 * 1024;
const FETCH_BYTES = 1024 * 1024;

/**
 * Reads a topic from its earliest offset up to the end it has now, then stops. Used for the
 * compacted topics whose latest value per key is the truth (users, run state). The consumer
 * group is throw-away: nothing is committed and the group is deleted afterwards.
 *
 * The consumer reads committed records only (kafkajs' default isolation), and the end is the
 * last stable offset, so a deletion phase still in its transaction, or aborted, is never read.
 * A partition whose last records are transaction markers (never handed to eachBatch) still
 * ends: progress is taken from every fetched batch, filtered ones included.
 *
 * `from` optionally starts a partition later than its earliest offset. Resolves with the end
 * offsets that were read up to (exclusive). Past `deadlineMs` it fails, naming the topic and
 * the partitions not yet read to their end, instead of waiting for ever.
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  onMessage: (message: KafkaMessage, partition: number) => void,
  from: Map<number, bigint> = new Map(),
  opts: ReadToEndOptions = {},
): Promise<Map<number, bigint>> {
  const deadline = Date.now() + (opts.deadlineMs ?? DEFAULT_READ_DEADLINE_MS);
  // A broker that has just restarted may refuse the throw-away group for a while (no coordinator
  // yet): an outage, so the read starts over until the deadline. Callers keep the latest value
  // per key, so reading records again from the start is harmless.
  for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await readOnce(kafka, topic, onMessage, from, Math.max(1, deadline - Date.now()));
    } catch (err) {
      if ((err as { code?: string }).code === 'READ_TO_END_TIMEOUT' || Date.now() + delay >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

async function readOnce(
  kafka: Kafka,
  topic: string,
  onMessage: (message: KafkaMessage, partition: number) => void,
  from: Map<number, bigint>,
  deadlineMs: number,
): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `neurons-read-${randomUUID()}`;
  try {
    const ends = new Map<number, bigint>();
    const pending = new Set<number>();
    for (const p of await admin.fetchTopicOffsets(topic)) {
      ends.set(p.partition, BigInt(p.high));
      const start = from.get(p.partition) ?? BigInt(p.low);
      if (BigInt(p.high) > start) pending.add(p.partition);
    }
    if (pending.size === 0) return ends;

    const consumer = kafka.consumer({
      groupId,
      maxBytes: FETCH_BYTES,
      maxBytesPerPartition: FETCH_BYTES_PER_PARTITION,
    });
    await consumer.connect();
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const done = new Promise<void>((resolve, reject) => {
        const progressed = (partition: number, lastOffset: string) => {
          const end = ends.get(partition);
          // compaction may have removed records near the end: the batch's own last offset decides
          if (end === undefined || BigInt(lastOffset) + 1n < end) return;
          if (pending.delete(partition) && pending.size === 0) resolve();
        };
        consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
        // every batch, also one of transaction markers only, which eachBatch never sees
        // (a batch with nothing at or after the fetched offset has no first offset: it proves nothing)
        consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
          const { payload } = e;
          if (payload.topic === topic && payload.firstOffset != null) progressed(payload.partition, payload.lastOffset);
        });
        timer = setTimeout(() => {
          reject(
            new RetriableError(
              'READ_TO_END_TIMEOUT',
              `reading topic ${topic} to its end took longer than ${Math.round(deadlineMs / 1000)} s ` +
                `(partitions not yet at their end: ${[...pending].join(', ')}). ` +
                `Check the broker's health and that the connector may read the topic.`,
            ),
          );
        }, deadlineMs);
        running = consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition)!;
            const start = from.get(batch.partition);
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              if (offset >= end) break;
              if (start === undefined || offset >= start) onMessage(m, batch.partition);
            }
          },
        });
        running.catch(reject);
      });
      for (const [partition, start] of from) consumer.seek({ topic, partition, offset: start.toString() });
      await done;
    } finally {
      clearTimeout(timer);
      // let a start still joining the group settle first, or it goes on after the disconnect
      await running?.catch(() => undefined);
      await consumer.disconnect();
    }
    return ends;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

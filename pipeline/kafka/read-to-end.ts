import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

/**
 * Reads a topic from its earliest offset up to the end it has now, then stops. Used for the
 * compacted topics whose latest value per key is the truth (users, run state). The consumer
 * group is throw-away: nothing is committed and the group is deleted afterwards.
 *
 * `from` optionally starts a partition later than its earliest offset. Resolves with the end
 * offsets that were read up to (exclusive).
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  onMessage: (message: KafkaMessage, partition: number) => void,
  from: Map<number, bigint> = new Map(),
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

    const consumer = kafka.consumer({ groupId, maxBytes: 16 * 1024 * 1024 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const done = new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const end = ends.get(batch.partition)!;
              const start = from.get(batch.partition);
              for (const m of batch.messages) {
                const offset = BigInt(m.offset);
                if (offset >= end) break;
                if (start === undefined || offset >= start) onMessage(m, batch.partition);
              }
              // compaction may have removed records near the end: the batch's own last offset decides
              if (BigInt(batch.lastOffset()) + 1n >= end && pending.delete(batch.partition) && pending.size === 0) resolve();
            },
          })
          .catch(reject);
      });
      for (const [partition, start] of from) consumer.seek({ topic, partition, offset: start.toString() });
      await done;
    } finally {
      await consumer.disconnect();
    }
    return ends;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

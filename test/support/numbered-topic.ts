import { Kafka, logLevel } from 'kafkajs';
import { createTopicsReady } from '../../kafka/topics';
import { services, uniqueName } from './services';

/**
 * A new topic of `partitions` partitions holding `count` records whose values are their numbers
 * 0..count-1 (padded with dots to `width` bytes), record i in partition i % partitions, written
 * by an idempotent producer 500 at a time: what a read of it must hand over is `expectedValues`.
 */
export async function numberedTopic(prefix: string, partitions: number, count: number, width = 0): Promise<string> {
  const writer = new Kafka({
    clientId: `${prefix}-writer`,
    brokers: [services().KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
  });
  const admin = writer.admin();
  await admin.connect();
  const topic = uniqueName(prefix);
  try {
    await createTopicsReady(admin, [{ topic, numPartitions: partitions }]);
  } finally {
    await admin.disconnect();
  }
  const producer = writer.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < count; i += 500) {
      const n = Math.min(500, count - i);
      await producer.send({
        topic,
        messages: Array.from({ length: n }, (_, j) => ({
          value: `${i + j}`.padEnd(width, '.'),
          partition: (i + j) % partitions,
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  return topic;
}

/** A numbered record's value as a number (its padding dropped). */
export const numberOf = (value: Buffer | null): number => Number(value!.toString().replace(/\.+$/, ''));

/** Each partition's numbers of a numbered topic, in offset order. */
export function expectedValues(partitions: number, count: number): number[][] {
  return Array.from({ length: partitions }, (_, p) =>
    Array.from({ length: count }, (_, i) => i).filter((i) => i % partitions === p),
  );
}

import type { Kafka } from 'kafkajs';
import { HEADERS } from '../../schemas/topics';

/**
 * Writes what a run that published and then failed before its commit leaves behind: one record of
 * this connector for this org (a stale content hash, a run id of its own), acknowledged by every
 * replica, not in any live index yet.
 */
export async function publishAsFailedRun(
  kafka: Kafka,
  topic: string,
  record: { key: Buffer; value: Buffer | null },
  who: { connectorName: string; orgId: string },
): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: [
        {
          ...record,
          headers: {
            [HEADERS.connector]: who.connectorName,
            [HEADERS.org]: who.orgId,
            [HEADERS.contentHash]: 'stale',
            [HEADERS.runId]: 'failed-run',
          },
        },
      ],
    });
  } finally {
    await producer.disconnect();
  }
}

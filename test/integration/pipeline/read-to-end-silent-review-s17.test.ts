import { Kafka, logLevel } from 'kafkajs';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { services } from '../../support/services';
import { seededRandom } from '../../support/sync-oracle';
import { silenceableSockets, type SilentSockets } from '../../support/silent-sockets';
import { expectedValues, numberedTopic, numberOf } from '../../support/numbered-topic';

/**
 * s17 review of readToEnd's request timeouts, at the read's start (read-to-end-stall.test.ts
 * silences a read in the middle). Each read must connect again and hand over every record once,
 * in order, inside its deadline. Seeded (SYNC_SEED=n replays): the partition and record counts.
 */
async function readAll(label: string, sockets: SilentSockets): Promise<void> {
  const { next: rnd } = seededRandom(label);
  const partitions = 1 + Math.floor(rnd() * 3);
  const count = 1 + Math.floor(rnd() * 2_000);
  console.log(`${label}: ${partitions} partitions, ${count} records`);
  const topic = await numberedTopic('rte-review', partitions, count);
  const reader = new Kafka({
    clientId: label,
    brokers: [services().KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
    socketFactory: sockets.socketFactory,
    requestTimeout: 1_500,
  });
  const values: number[][] = Array.from({ length: partitions }, () => []);
  await readToEnd(reader, topic, (m, partition) => values[partition].push(numberOf(m.value)), new Map(), {
    deadlineMs: 30_000,
  });
  expect(values).toEqual(expectedValues(partitions, count));
}

/**
 * The connection the read's FIRST connect opens is silent (a broker paused while the read
 * connects, a NAT that dropped the connection): its ApiVersions request times out inside kafkajs's
 * connect retrier, which never shows the read a KafkaJSRequestTimeoutError. kafkajs's
 * Broker.connect then found the silent connection "connected" and returned without the broker's
 * API versions, and every later request of that broker failed with a plain Error('Broker not
 * connected'), not an outage: the read failed in ~2 s (before read-cluster.ts closedIfUnversioned).
 */
it('a read whose first connection is silent connects again and reads every record once', async () => {
  const sockets = silenceableSockets({ firstSilent: true });
  await readAll('read-to-end-connect-review-s17', sockets);
  expect(sockets.made).toBeGreaterThan(1);
}, 60_000);

/**
 * Every connection the read has open goes silent as its first ListOffsets request is written (the
 * read's two ListOffsets go together: one times out, the connections are closed while the other
 * is still in flight).
 */
it('a read whose connections go silent at its ListOffsets connects again and reads every record once', async () => {
  const sockets = silenceableSockets();
  sockets.silenceAtRequest(2); // ListOffsets
  await readAll('read-to-end-list-offsets-review-s17', sockets);
  expect(sockets.silenced).toBeGreaterThan(0);
}, 60_000);

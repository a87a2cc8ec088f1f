import { Kafka, logLevel } from 'kafkajs';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { services } from '../../support/services';
import { seededRandom } from '../../support/sync-oracle';
import { silenceableSockets } from '../../support/silent-sockets';
import { expectedValues, numberedTopic, numberOf } from '../../support/numbered-topic';

/**
 * s17 review of readToEnd's request timeouts: the connection the read's FIRST connect opens goes
 * silent (a broker paused while the read connects, a NAT that dropped the connection): its
 * ApiVersions request times out inside kafkajs's connect retrier, which never shows the read a
 * KafkaJSRequestTimeoutError. kafkajs's Broker.connect then finds the silent connection
 * "connected" and returns without the broker's API versions, and every later request of that
 * broker fails with a plain Error('Broker not connected'). The read must connect again and hand
 * over every record once, in order, inside its deadline (later connections answer).
 *
 * Seeded (SYNC_SEED=n replays): the partition and record counts.
 */
const LABEL = 'read-to-end-connect-review-s17';

it('a read whose first connection is silent connects again and reads every record once', async () => {
  const { next: rnd } = seededRandom(LABEL);
  const partitions = 1 + Math.floor(rnd() * 3);
  const count = 1 + Math.floor(rnd() * 2_000);
  console.log(`${LABEL}: ${partitions} partitions, ${count} records`);
  const topic = await numberedTopic('rte-review', partitions, count);

  const sockets = silenceableSockets({ firstSilent: true });
  const reader = new Kafka({
    clientId: LABEL,
    brokers: [services().KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
    socketFactory: sockets.socketFactory,
    requestTimeout: 1_500,
  });
  const values: number[][] = Array.from({ length: partitions }, () => []);
  await readToEnd(reader, topic, (m, partition) => values[partition].push(numberOf(m.value)), new Map(), {
    deadlineMs: 30_000,
  });
  expect(sockets.made).toBeGreaterThan(1);
  expect(values).toEqual(expectedValues(partitions, count));
}, 60_000);

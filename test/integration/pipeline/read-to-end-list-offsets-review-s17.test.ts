import { Kafka, logLevel } from 'kafkajs';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { services } from '../../support/services';
import { seededRandom } from '../../support/sync-oracle';
import { silenceableSockets } from '../../support/silent-sockets';
import { expectedValues, numberedTopic, numberOf } from '../../support/numbered-topic';

/**
 * s17 review of readToEnd's request timeouts: every connection the read has open goes silent as
 * its first ListOffsets request is written (the read's two ListOffsets go together: one times
 * out, the connections are closed while the other is still in flight). The read must connect
 * again and hand over every record once, in order, inside its deadline.
 *
 * Seeded (SYNC_SEED=n replays): the partition and record counts.
 */
const LABEL = 'read-to-end-list-offsets-review-s17';
const LIST_OFFSETS = 2;

it('a read whose connections go silent at its ListOffsets connects again and reads every record once', async () => {
  const { next: rnd } = seededRandom(LABEL);
  const partitions = 1 + Math.floor(rnd() * 3);
  const count = 1 + Math.floor(rnd() * 2_000);
  console.log(`${LABEL}: ${partitions} partitions, ${count} records`);
  const topic = await numberedTopic('rte-review', partitions, count);

  const sockets = silenceableSockets();
  sockets.silenceAtRequest(LIST_OFFSETS);
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
  console.log(`${LABEL}: ${sockets.silenced} silenced`);
  expect(sockets.silenced).toBeGreaterThan(0);
  expect(values).toEqual(expectedValues(partitions, count));
}, 60_000);

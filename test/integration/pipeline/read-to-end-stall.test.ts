import { Kafka, logLevel } from 'kafkajs';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { services } from '../../support/services';
import { seededRandom } from '../../support/sync-oracle';
import { silenceableSockets } from '../../support/silent-sockets';
import { expectedValues, numberedTopic, numberOf } from '../../support/numbered-topic';

/**
 * A read whose connection goes silent: the TCP connection stays open and nothing comes back (a
 * broker paused or wedged, a NAT or firewall that dropped the connection's state, a peer that
 * vanished without a FIN). kafkajs times the request out and keeps the connection, so every later
 * request of the read went on it and timed out too, until the read's deadline (what the Java
 * client does instead: it closes a connection on a request timeout). The read must give up the
 * silent connection, connect again and hand over every record once, in order.
 *
 * Seeded (SYNC_SEED=n replays): the partition count, the record count and the record at which
 * every connection the read has open goes silent.
 */
it('gives up a connection that went silent mid-read, connects again and hands each record over once', async () => {
  const { next: rnd } = seededRandom('read-to-end-stall');
  const partitions = 1 + Math.floor(rnd() * 3);
  // at least ~1 MB a partition: four fetches or more (256 KiB a partition a fetch)
  const count = 2_200 * partitions + Math.floor(rnd() * 4_000);
  const at = Math.floor(rnd() * 200);
  console.log(`read-to-end-stall: ${partitions} partitions, ${count} records, silenced at record ${at}`);
  const topic = await numberedTopic('read-to-end-stall', partitions, count, 500);

  const sockets = silenceableSockets();
  // a short request timeout, so that the test sees several of them inside the read's deadline
  const reader = new Kafka({
    clientId: 'read-to-end-stall',
    brokers: [services().KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
    socketFactory: sockets.socketFactory,
    requestTimeout: 1_500,
  });
  const values: number[][] = Array.from({ length: partitions }, () => []);
  let seen = 0;
  let silenced = 0;
  await readToEnd(
    reader,
    topic,
    (m, partition) => {
      if (seen++ === at) silenced = sockets.silence();
      values[partition].push(numberOf(m.value));
    },
    new Map(),
    { deadlineMs: 30_000 },
  );
  expect(silenced).toBeGreaterThan(0);
  expect(values).toEqual(expectedValues(partitions, count));
}, 60_000);

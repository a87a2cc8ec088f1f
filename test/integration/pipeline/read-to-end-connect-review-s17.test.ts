import * as net from 'node:net';
import { Kafka, logLevel, type ISocketFactory } from 'kafkajs';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { createTopicsReady } from '../../../kafka/topics';
import { services, uniqueName } from '../../support/services';
import { seededRandom } from '../../support/sync-oracle';

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
const env = services();

function firstSocketSilent(): { socketFactory: ISocketFactory; made: () => number } {
  let made = 0;
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    if (made++ === 0) {
      const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
      socket.emit = ((event: string | symbol, ...args: unknown[]) =>
        event === 'data' ? true : emit(event, ...args)) as typeof socket.emit;
    }
    return socket;
  };
  return { socketFactory, made: () => made };
}

it('a read whose first connection is silent connects again and reads every record once', async () => {
  const { next: rnd } = seededRandom('read-to-end-connect-review-s17');
  const partitions = 1 + Math.floor(rnd() * 3);
  const count = 1 + Math.floor(rnd() * 2_000);
  console.log(`read-to-end-connect-review-s17: ${partitions} partitions, ${count} records`);

  const writer = new Kafka({
    clientId: 'rte-connect-writer',
    brokers: [env.KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
  });
  const admin = writer.admin();
  await admin.connect();
  const topic = uniqueName('rte-connect');
  try {
    await createTopicsReady(admin, [{ topic, numPartitions: partitions }]);
  } finally {
    await admin.disconnect();
  }
  const producer = writer.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: Array.from({ length: count }, (_, i) => ({ value: `${i}`, partition: i % partitions })),
    });
  } finally {
    await producer.disconnect();
  }

  const { socketFactory, made } = firstSocketSilent();
  const reader = new Kafka({
    clientId: 'rte-connect',
    brokers: [env.KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
    socketFactory,
    requestTimeout: 1_500,
  });
  const values: number[][] = Array.from({ length: partitions }, () => []);
  await readToEnd(reader, topic, (m, partition) => values[partition].push(Number(m.value!.toString())), new Map(), {
    deadlineMs: 30_000,
  });
  expect(made()).toBeGreaterThan(1);
  for (const [p, vs] of values.entries()) {
    expect([p, vs]).toEqual([p, Array.from({ length: count }, (_, i) => i).filter((i) => i % partitions === p)]);
  }
}, 60_000);

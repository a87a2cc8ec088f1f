import { Kafka, logLevel } from 'kafkajs';
import { createProducer } from '../../../pipeline/kafka/publisher';
import { useKafkaCodecs } from '../../../kafka/client';
import { silentLogger } from '../../../kernel/logger';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { createTopicsReady } from '../../../kafka/topics';
import { services, uniqueName } from '../../support/services';
import { silenceableSockets } from '../../support/silent-sockets';
import { kafkaClient } from '../../support/sync-harness';

/**
 * The connector's producer (and admin: the same kafkajs Broker) whose first connection is silent
 * (a broker paused while the connector starts, a NAT that dropped the connection): the ApiVersions
 * request of its first connect times out inside kafkajs's connect retrier; kafkajs's Broker.connect
 * then found that connection "connected" and returned without the broker's API versions, and
 * every request of that Broker failed with a plain Error('Broker not connected'), in every later
 * run of the process too (the producer lives as long as the connector). It must connect again
 * and write.
 */
it('a producer whose first connection is silent connects again and writes', async () => {
  const topic = uniqueName('producer-silent');
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic, numPartitions: 1 }]);
  } finally {
    await admin.disconnect();
  }
  useKafkaCodecs(silentLogger); // what createKafka installs for every client of the process
  const sockets = silenceableSockets({ firstSilent: true });
  const kafka = new Kafka({
    clientId: 'producer-silent',
    brokers: [services().KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
    socketFactory: sockets.socketFactory,
    connectionTimeout: 1_000,
    requestTimeout: 1_500,
  });
  const producer = createProducer(kafka);
  try {
    await producer.connect();
    for (let i = 0; i < 3; i++) await producer.send({ topic, messages: [{ key: `k${i}`, value: `v${i}` }] });
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  expect(sockets.made).toBeGreaterThan(1);
  const values: string[] = [];
  await readToEnd(kafkaClient(), topic, (m) => values.push(m.value!.toString()));
  expect(values).toEqual(['v0', 'v1', 'v2']);
}, 60_000);

import * as net from 'node:net';
import { Kafka, logLevel, type ISocketFactory } from 'kafkajs';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { createTopicsReady } from '../../../kafka/topics';
import { services, uniqueName } from '../../support/services';
import { seededRandom } from '../../support/sync-oracle';

/**
 * s17 review of readToEnd's request timeouts: every connection the read has open goes silent as
 * its first ListOffsets request is written (the read's two ListOffsets go together: one times
 * out, the connections are closed while the other is still in flight). The read must connect
 * again and hand over every record once, in order, inside its deadline.
 *
 * Seeded (SYNC_SEED=n replays): the partition and record counts.
 */
const env = services();
const LIST_OFFSETS = 2;

function silentAtFirstListOffsets(): { socketFactory: ISocketFactory; silenced: () => number } {
  const open = new Set<net.Socket>();
  const silent = new WeakSet<net.Socket>();
  let silenced = 0;
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (silenced === 0 && Buffer.isBuffer(chunk) && chunk.length >= 6 && chunk.readInt16BE(4) === LIST_OFFSETS) {
        for (const s of open) silent.add(s);
        silenced = open.size;
      }
      return write(chunk, ...rest);
    }) as typeof socket.write;
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) =>
      event === 'data' && silent.has(socket) ? true : emit(event, ...args)) as typeof socket.emit;
    return socket;
  };
  return { socketFactory, silenced: () => silenced };
}

it('a read whose connections go silent at its ListOffsets connects again and reads every record once', async () => {
  const { next: rnd } = seededRandom('read-to-end-list-offsets-review-s17');
  const partitions = 1 + Math.floor(rnd() * 3);
  const count = 1 + Math.floor(rnd() * 2_000);
  console.log(`read-to-end-list-offsets-review-s17: ${partitions} partitions, ${count} records`);

  const writer = new Kafka({ clientId: 'rte-lo-writer', brokers: [env.KAFKA_BROKERS], logLevel: logLevel.NOTHING });
  const admin = writer.admin();
  await admin.connect();
  const topic = uniqueName('rte-lo');
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

  const { socketFactory, silenced } = silentAtFirstListOffsets();
  const reader = new Kafka({
    clientId: 'rte-lo',
    brokers: [env.KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
    socketFactory,
    requestTimeout: 1_500,
  });
  const values: number[][] = Array.from({ length: partitions }, () => []);
  const started = Date.now();
  await readToEnd(reader, topic, (m, partition) => values[partition].push(Number(m.value!.toString())), new Map(), {
    deadlineMs: 30_000,
  });
  console.log(`read-to-end-list-offsets-review-s17: ${silenced()} silenced, read in ${Date.now() - started} ms`);
  expect(silenced()).toBeGreaterThan(0);
  for (const [p, vs] of values.entries()) {
    expect([p, vs]).toEqual([p, Array.from({ length: count }, (_, i) => i).filter((i) => i % partitions === p)]);
  }
}, 60_000);

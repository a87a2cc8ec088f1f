import type { Producer, ProducerBatch, RecordMetadata } from 'kafkajs';
import { serialProducer } from '../../../kafka/serial-producer';
import { mulberry32 } from '../../../simulator/prng';

/**
 * serialProducer without a broker: sends made at once reach kafkajs one at a time, in call order,
 * whatever each takes; after a send that failed, the next one goes through a new producer (connected
 * first, the old one disconnected), and not while the owner has disconnected it.
 * SERIAL_S16_SEED=n replays.
 */
const SEED = Number(process.env.SERIAL_S16_SEED ?? Math.floor(Math.random() * 2 ** 31));

interface Fake {
  id: number;
  log: string[];
  producer: Producer;
}

function fakes(rnd: () => number, fail: (n: number) => boolean) {
  const made: Fake[] = [];
  let active = 0;
  let maxActive = 0;
  let sends = 0;
  const order: number[] = [];
  const make = (): Producer => {
    const f: Fake = { id: made.length, log: [], producer: undefined as unknown as Producer };
    const sendBatch = async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
      const n = sends++;
      active++;
      maxActive = Math.max(maxActive, active);
      f.log.push(`send ${batch.topicMessages![0].topic}`);
      await new Promise((r) => setTimeout(r, Math.floor(rnd() * 4)));
      order.push(Number(batch.topicMessages![0].topic));
      active--;
      if (fail(n)) throw new Error(`send ${n} failed`);
      return [];
    };
    f.producer = {
      connect: async () => void f.log.push('connect'),
      disconnect: async () => void f.log.push('disconnect'),
      sendBatch,
      send: async () => [],
    } as unknown as Producer;
    made.push(f);
    return f.producer;
  };
  return { make, made, order, maxActive: () => maxActive };
}

const batch = (i: number): ProducerBatch => ({ topicMessages: [{ topic: String(i), messages: [] }] });

test(`sends at once go one at a time, in call order (SERIAL_S16_SEED=${SEED})`, async () => {
  const rnd = mulberry32(SEED);
  const f = fakes(rnd, () => false);
  const p = serialProducer(f.make);
  await p.connect();
  const n = 5 + Math.floor(rnd() * 30);
  await Promise.all(Array.from({ length: n }, (_, i) => p.sendBatch(batch(i))));
  expect(f.maxActive()).toBe(1);
  expect(f.order).toEqual(Array.from({ length: n }, (_, i) => i));
  expect(f.made).toHaveLength(1);
});

test(`after a failed send, the next goes through a new producer (SERIAL_S16_SEED=${SEED})`, async () => {
  const rnd = mulberry32(SEED);
  const failAt = 1 + Math.floor(rnd() * 5);
  const f = fakes(rnd, (n) => n === failAt);
  const p = serialProducer(f.make);
  await p.connect();
  const results = await Promise.allSettled(Array.from({ length: failAt + 3 }, (_, i) => p.sendBatch(batch(i))));
  expect(results.map((r) => r.status)).toEqual(
    Array.from({ length: failAt + 3 }, (_, i) => (i === failAt ? 'rejected' : 'fulfilled')),
  );
  expect(f.made).toHaveLength(2);
  // the first producer sent up to the failure, then was disconnected; the new one was connected first
  expect(f.made[0].log).toEqual([
    'connect',
    ...Array.from({ length: failAt + 1 }, (_, i) => `send ${i}`),
    'disconnect',
  ]);
  expect(f.made[1].log).toEqual(['connect', `send ${failAt + 1}`, `send ${failAt + 2}`]);
  expect(f.order).toEqual(Array.from({ length: failAt + 3 }, (_, i) => i));
});

test('a producer its owner disconnected is not renewed by a send', async () => {
  const f = fakes(
    () => 0,
    (n) => n === 0,
  );
  const p = serialProducer(f.make);
  await p.connect();
  await expect(p.sendBatch(batch(0))).rejects.toThrow('send 0 failed');
  await p.disconnect();
  await p.sendBatch(batch(1));
  expect(f.made).toHaveLength(1);
});

import { CompressionTypes, Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { createTopicsReady } from '../../../kafka/topics';
import { useOwnRecordEncoding } from '../../../kafka/produce-encoding';
import { mulberry32 } from '../../../simulator/prng';
import { services, uniqueName } from '../../support/services';

/**
 * Review of kafka/produce-encoding.ts: a transactional (hence idempotent) producer with the connector's
 * record encoding, as pipeline/kafka/fence.ts uses one. Random records in transactions committed and
 * aborted, gzip or none, several sends per transaction (the sequence numbers advance); the broker is the
 * judge: a read_committed consumer must see exactly the committed records in send order (the batch's
 * transactional bit and producer id/epoch/sequence are right), a read_uncommitted one every record sent.
 * Seeded: TXN_SEED=n replays.
 */
const SEED = Number(process.env.TXN_SEED ?? Math.floor(Math.random() * 2 ** 31));
const env = services();
const kafka = new Kafka({ clientId: 'produce-encoding-txn', brokers: [env.KAFKA_BROKERS], logLevel: logLevel.NOTHING });

async function readUntil(topic: string, sentinel: string, readUncommitted: boolean): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('txn-review'), readUncommitted });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const v = `${message.key!.toString('hex')}=${message.value?.toString('hex') ?? 'null'}|${Object.entries(
          message.headers ?? {},
        )
          .map(([k, h]) => `${k}:${(h as Buffer).toString('hex')}`)
          .join(',')}`;
        seen.push(v);
        if (message.key!.toString() === sentinel) done();
      },
    });
    const deadline = new Promise<void>((_, reject) =>
      setTimeout(() => reject(new Error(`read ${seen.length} records of ${topic}, no sentinel`)), 60_000).unref(),
    );
    await Promise.race([all, deadline]);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

let admin: Admin;
let producer: Producer;
const topic = uniqueName('txn-review');
beforeAll(async () => {
  useOwnRecordEncoding();
  admin = kafka.admin();
  await admin.connect();
  await createTopicsReady(admin, [{ topic, numPartitions: 1 }]);
  producer = kafka.producer({ transactionalId: uniqueName('txn-review'), idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Encoder = require('kafkajs/src/protocol/encoder') as { prototype: { writeVarIntArray(): unknown } };

test(`our record encoding in transactions: read_committed sees just the committed (TXN_SEED=${SEED})`, async () => {
  // kafkajs's own record encoding writes each record's headers with writeVarIntArray; ours never does
  const kafkajsRecords = jest.spyOn(Encoder.prototype, 'writeVarIntArray');
  const rnd = mulberry32(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  const chars = [...'abc019 é中😀\u0000'];
  const text = (max: number) => Array.from({ length: int(max + 1) }, () => chars[int(chars.length)]).join('');
  const line = (m: { key: Buffer; value: Buffer | null; headers: Record<string, string | Buffer> }) =>
    `${m.key.toString('hex')}=${m.value?.toString('hex') ?? 'null'}|${Object.entries(m.headers)
      .map(([k, h]) => `${k}:${Buffer.from(h).toString('hex')}`)
      .join(',')}`;
  const committed: string[] = [];
  const everything: string[] = [];
  let n = 0;
  // one of the first seven transactions always aborts (each of the others commits at 2 in 3): left
  // to chance alone, 1 seed in 17 aborted none and failed the check below
  const aborted = int(7);
  for (let t = 0; t < 8; t++) {
    const commit = t === 7 || (t !== aborted && int(3) > 0);
    const tx = await producer.transaction();
    for (let s = 1 + int(4); s > 0; s--) {
      const messages = Array.from({ length: 1 + int(70) }, () => ({
        key: Buffer.from(`k${n++}`),
        value: int(8) === 0 ? null : Buffer.from(text(300)),
        headers: { a: text(20), b: Buffer.from(text(5)) },
      }));
      await tx.send({ topic, acks: -1, compression: int(2) ? CompressionTypes.GZIP : CompressionTypes.None, messages });
      for (const m of messages) {
        everything.push(line(m));
        if (commit) committed.push(line(m));
      }
    }
    if (commit) await tx.commit();
    else await tx.abort();
  }
  expect(kafkajsRecords).not.toHaveBeenCalled();
  kafkajsRecords.mockRestore();
  const sentinel = { key: Buffer.from('sentinel'), value: Buffer.from('end'), headers: {} };
  const last = await producer.transaction();
  await last.send({ topic, acks: -1, messages: [sentinel] });
  await last.commit();
  committed.push(line(sentinel));
  everything.push(line(sentinel));
  expect(committed.length).toBeLessThan(everything.length); // at least one abort, or the test shows nothing
  expect(await readUntil(topic, 'sentinel', false)).toEqual(committed);
  expect(await readUntil(topic, 'sentinel', true)).toEqual(everything);
}, 180_000);

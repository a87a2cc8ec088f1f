/**
 * The publisher's throughput with its sends one at a time (createProducer, serialProducer) and as
 * before (the same kafkajs producer, sendBatch calls at once), side by side in one process, rounds
 * alternated (A B A B). The writes as drainBatches makes them: batches of `--batch` records, at most
 * `--in-flight` outstanding, gzip, keys of user Ids, values of a user record's size.
 *
 *   node -r ts-node/register/transpile-only test/support/publisher-bench-s16.ts \
 *     [--brokers 127.0.0.1:19092] [--records 50000] [--rounds 4] [--batch 500] [--in-flight 4] [--partitions 3]
 *
 * Prints records/s and CPU µs a record of each round, then the medians and their ratio.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { createProducer, kafkaWriter, type OutRecord } from '../../pipeline/kafka/publisher';
import { producerPartitioner } from '../../kafka/partitioner';
import { createTopicsReady } from '../../kafka/topics';
import { mulberry32 } from '../../simulator/prng';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const brokers = arg('brokers', '127.0.0.1:19092');
const records = Number(arg('records', '50000'));
const rounds = Number(arg('rounds', '4'));
const batchSize = Number(arg('batch', '500'));
const inFlight = Number(arg('in-flight', '4'));
const partitions = Number(arg('partitions', '3'));

const kafka = new Kafka({ clientId: 'publisher-bench-s16', brokers: [brokers], logLevel: logLevel.NOTHING });

/** As createProducer made it before session 16: the same settings, sends at once. */
function concurrentProducer(): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: producerPartitioner,
  });
}

function batches(topic: string, seed: number): OutRecord[][] {
  const rnd = mulberry32(seed);
  const out: OutRecord[][] = [];
  const word = () => Math.floor(rnd() * 36 ** 6).toString(36);
  for (let i = 0; i < records; i += batchSize) {
    const b: OutRecord[] = [];
    for (let j = i; j < Math.min(records, i + batchSize); j++) {
      // about a user record's size and make-up: Ids, names, flags, dates; gzip takes it to ~40 %
      const fields = Array.from({ length: 24 }, (_, k) => (k % 3 === 0 ? `005${word()}${word()}` : word()));
      const value = Buffer.from(`${fields.join('\u0001')}\u0002true\u0002false\u00022026-11-28T10:00:00.000Z`);
      b.push({ topic, key: Buffer.from(`005${String(j).padStart(15, '0')}`), value, headers: {} });
    }
    out.push(b);
  }
  return out;
}

/** drainBatches's writes: at most `inFlight` outstanding. */
async function drain(producer: Producer, all: OutRecord[][]): Promise<void> {
  const writer = kafkaWriter(producer, { compression: 'gzip' });
  const pending = new Set<Promise<void>>();
  for (const b of all) {
    while (pending.size >= inFlight) await Promise.race(pending);
    const w: Promise<void> = writer.write(b).then(() => void pending.delete(w));
    pending.add(w);
  }
  await Promise.all(pending);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const topic = `publisher-bench-s16-${process.pid}`;
  await createTopicsReady(admin, [{ topic, numPartitions: partitions }]);
  const variants: [string, () => Producer][] = [
    ['before (sends at once)', concurrentProducer],
    ['serialProducer', () => createProducer(kafka)],
  ];
  const rate: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  try {
    // one warm-up round of each, not counted
    for (let r = -1; r < rounds; r++) {
      for (const [name, make] of variants) {
        const all = batches(topic, r + 100);
        const producer = make();
        await producer.connect();
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await drain(producer, all);
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        const c = process.cpuUsage(c0);
        await producer.disconnect();
        if (r < 0) continue;
        (rate[name] ??= []).push(records / s);
        (cpu[name] ??= []).push((c.user + c.system) / records);
        const us = (c.user + c.system) / records;
        console.log(`round ${r} ${name}: ${Math.round(records / s)} records/s, ${us.toFixed(2)} µs CPU a record`);
      }
    }
    const [a, b] = variants.map(([n]) => n);
    console.log(
      `median: ${a} ${Math.round(median(rate[a]))} records/s ${median(cpu[a]).toFixed(2)} µs; ` +
        `${b} ${Math.round(median(rate[b]))} records/s ${median(cpu[b]).toFixed(2)} µs; ` +
        `ratio ${(median(rate[b]) / median(rate[a])).toFixed(3)}`,
    );
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

void main();

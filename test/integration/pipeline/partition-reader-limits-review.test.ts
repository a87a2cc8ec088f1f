import { CompressionTypes, Kafka, logLevel, type Admin, type Producer, type Transaction } from 'kafkajs';
import { listOffsets, PartitionReader } from '../../../kafka/partition-reader';
import { readCluster } from '../../../kafka/read-cluster';
import { createTopicsReady } from '../../../kafka/topics';
import { services, uniqueName } from '../../support/services';
import { seededRandom } from '../../support/sync-oracle';

/**
 * Review PIN (s11-rev-reads; passes at 2bc24ca, 13 seeds): PartitionReader with SMALL fetch
 * limits (tens to thousands of bytes a partition), so that transactions of several producers
 * interleaved on one partition, aborted ones among them, span many fetches, and requests share
 * their bytes between partitions (the `alone` logic). The change's own randomized test reads with
 * the product's 256 KiB limits only. Every committed record of [from, end) exactly once, in offset
 * order per partition, nothing else, against what the test produced. SYNC_SEED=n replays.
 */
const env = services();
const kafka = new Kafka({ clientId: 'reader-limits-review', brokers: [env.KAFKA_BROKERS], logLevel: logLevel.NOTHING });

let admin: Admin;
beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});
afterAll(() => admin.disconnect());

interface Produced {
  partition: number;
  offset: bigint;
  value: string;
  committed: boolean;
}

it('reads exactly the committed records of [from, end) with small fetch limits', async () => {
  const rnd = seededRandom('reader-limits-review');
  const int = (n: number) => Math.floor(rnd.next() * n);
  const partitions = 1 + int(4);
  const topic = uniqueName('reader-limits');
  await createTopicsReady(admin, [{ topic, numPartitions: partitions }]);

  const produced: Produced[] = [];
  let n = 0;
  const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const txns: { producer: Producer; open?: { t: Transaction; records: Produced[] } }[] = [];
  for (let i = 0; i < 2 + int(3); i++) {
    txns.push({
      producer: kafka.producer({
        transactionalId: uniqueName('reader-limits-tx'),
        maxInFlightRequests: 1,
        idempotent: true,
      }),
    });
  }
  await Promise.all([plain, ...txns.map((t) => t.producer)].map((p) => p.connect()));
  const send = async (to: Producer | Transaction, committed: boolean): Promise<Produced[]> => {
    // most records on partition 0: transactions interleave there
    const partition = rnd.next() < 0.6 ? 0 : int(partitions);
    const count = 1 + (rnd.next() < 0.4 ? int(6) : 0);
    const values = Array.from({ length: count }, () => `r${n++}.${'x'.repeat(int(300))}`);
    const compression = rnd.next() < 0.3 ? CompressionTypes.GZIP : CompressionTypes.None;
    const [meta] = await to.send({ topic, compression, messages: values.map((value) => ({ value, partition })) });
    const base = BigInt(meta.baseOffset!);
    const records = values.map((value, i) => ({ partition, offset: base + BigInt(i), value, committed }));
    produced.push(...records);
    return records;
  };
  try {
    const steps = 60 + int(80);
    for (let s = 0; s < steps; s++) {
      if (rnd.next() < 0.2) {
        await send(plain, true);
        continue;
      }
      const tx = rnd.pick(txns);
      if (!tx.open) tx.open = { t: await tx.producer.transaction(), records: [] };
      const y = rnd.next();
      if (y < 0.7) tx.open.records.push(...(await send(tx.open.t, false)));
      else {
        const commit = rnd.next() < 0.5;
        await (commit ? tx.open.t.commit() : tx.open.t.abort());
        for (const r of tx.open.records) r.committed = commit;
        tx.open = undefined;
      }
    }
    for (const tx of txns) {
      if (!tx.open) continue;
      const commit = rnd.next() < 0.5;
      await (commit ? tx.open.t.commit() : tx.open.t.abort());
      for (const r of tx.open.records) r.committed = commit;
      tx.open = undefined;
    }
    const cluster = readCluster(kafka);
    await cluster.connect();
    try {
      // every transaction decided: the last stable offset past every record produced (a
      // transaction's records stay above it until its marker is written)
      const last = (p: number) =>
        produced.filter((r) => r.partition === p).reduce((m, r) => (r.offset >= m ? r.offset + 1n : m), 0n);
      let offsets = await listOffsets(cluster, topic);
      for (const until = Date.now() + 20_000; ;) {
        offsets = await listOffsets(cluster, topic);
        if (offsets.every((o) => o.high >= last(o.partition))) break;
        if (Date.now() > until) throw new Error(`markers not written: ${JSON.stringify(offsets.map(String))}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // from: some partitions start at a random produced offset (inside transactions, batches)
      const from = new Map<number, bigint>();
      for (let p = 0; p < partitions; p++) {
        const os = produced.filter((r) => r.partition === p).map((r) => r.offset);
        if (os.length && rnd.next() < 0.5) from.set(p, rnd.pick(os));
      }
      const perPartition = 40 + int(3_000);
      const total = perPartition + int(3 * perPartition);
      const aborted = produced.filter((r) => !r.committed).length;
      console.log(
        `reader-limits-review: ${partitions} partitions, perPartition ${perPartition}, total ${total}, ` +
          `${produced.length} records produced, ${aborted} aborted`,
      );
      const reader = new PartitionReader(cluster, topic, { perPartition, total });
      const ends = new Map<number, bigint>();
      for (const o of offsets) {
        reader.add(o.partition, from.get(o.partition) ?? o.low, o.high);
        ends.set(o.partition, o.high);
      }
      const got: string[][] = Array.from({ length: partitions }, () => []);
      await reader.run((m, p) => got[p].push(`${m.offset}:${m.value!.toString()}`));
      const expected = Array.from({ length: partitions }, (_, p) =>
        produced
          .filter((r) => r.partition === p && r.committed && r.offset >= (from.get(p) ?? 0n) && r.offset < ends.get(p)!)
          .sort((a, b) => (a.offset < b.offset ? -1 : 1))
          .map((r) => `${r.offset}:${r.value}`),
      );
      expect(got).toEqual(expected);
    } finally {
      await cluster.disconnect();
    }
  } finally {
    await Promise.all([plain, ...txns.map((t) => t.producer)].map((p) => p.disconnect()));
  }
}, 180_000);

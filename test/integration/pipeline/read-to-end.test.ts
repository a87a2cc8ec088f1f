import { CompressionTypes, Kafka, logLevel, type Admin, type Producer, type Transaction } from 'kafkajs';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { createTopicsReady } from '../../../kafka/topics';
import { services, uniqueName } from '../../support/services';
import { seededRandom } from '../../support/sync-oracle';
import { DedicatedKafka } from '../../support/dedicated-kafka';

/**
 * readToEnd against the real broker: no consumer group, and exactly the committed records of
 * [from, end) per partition, in offset order, once each, compared with what the test produced.
 */
const env = services();
const kafka = new Kafka({ clientId: 'read-to-end-test', brokers: [env.KAFKA_BROKERS], logLevel: logLevel.NOTHING });

let admin: Admin;
beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});
afterAll(() => admin.disconnect());

async function newTopic(partitions: number, configEntries: { name: string; value: string }[] = []): Promise<string> {
  const topic = uniqueName('read-to-end');
  await createTopicsReady(admin, [{ topic, numPartitions: partitions, configEntries }]);
  return topic;
}

interface Read {
  partition: number;
  offset: bigint;
  value: string;
}

async function read(
  topic: string,
  from?: Map<number, bigint>,
  onFirst?: () => void,
): Promise<{ records: Read[]; ends: Map<number, bigint> }> {
  const records: Read[] = [];
  const ends = await readToEnd(
    kafka,
    topic,
    (m, partition) => {
      if (!records.length) onFirst?.();
      records.push({ partition, offset: BigInt(m.offset), value: m.value?.toString() ?? 'null' });
    },
    from,
  );
  return { records, ends };
}

it('joins no consumer group', async () => {
  const topic = await newTopic(3);
  // idempotent: a plain producer retries a whole request when one partition fails, and the trial CI
  // of 06af7e3 (a loaded machine) read 10,333 records here, two partitions of one send twice
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < 20; i++) {
      await producer.send({
        topic,
        messages: Array.from({ length: 500 }, (_, j) => ({ key: `k${j}`, value: `v${i}-${j}`, partition: j % 3 })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  // a client id of this read's own: other processes on the shared broker have groups too
  const clientId = uniqueName('read-to-end-groups');
  const reader = new Kafka({ clientId, brokers: [env.KAFKA_BROKERS], logLevel: logLevel.NOTHING });
  const consumer = jest.spyOn(reader, 'consumer');
  // the groups with a member of this client while the read runs
  const described = new Set<string>();
  const mine = new Set<string>();
  let reading = true;
  const watch = (async () => {
    while (reading) {
      const ids = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => !described.has(g));
      ids.forEach((g) => described.add(g));
      const { groups } = ids.length ? await admin.describeGroups(ids) : { groups: [] };
      for (const g of groups) if (g.members.some((m) => m.clientId === clientId)) mine.add(g.groupId);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  try {
    let n = 0;
    const seen = new Set<string>();
    await readToEnd(reader, topic, (m, partition) => {
      n++;
      seen.add(`${partition}:${m.offset}`);
    });
    // each record once (a record read twice), and the log holds what was sent (a record written twice)
    const held = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    expect({ n, distinct: seen.size, held }).toEqual({ n: 10_000, distinct: 10_000, held: 10_000 });
  } finally {
    reading = false;
    await watch;
    consumer.mockRestore();
  }
  expect(consumer).not.toHaveBeenCalled();
  expect([...mine]).toEqual([]);
});

it('reads every committed record of [from, end) once, in order: transactions committed, aborted, open', async () => {
  const rnd = seededRandom('read-to-end');
  const int = (n: number) => Math.floor(rnd.next() * n);
  const partitions = 1 + int(4);
  const topic = await newTopic(partitions);

  // every record produced: its offset (from the broker's answer), and whether it is committed
  const produced: (Read & { committed: boolean; txn?: number })[] = [];
  let n = 0;
  const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const txns: { producer: Producer; open?: { t: Transaction; id: number; records: typeof produced } }[] = [];
  for (let i = 0; i < 3; i++) {
    const producer = kafka.producer({
      transactionalId: uniqueName('read-to-end-tx'),
      maxInFlightRequests: 1,
      idempotent: true,
    });
    txns.push({ producer });
  }
  await Promise.all([plain, ...txns.map((t) => t.producer)].map((p) => p.connect()));
  let txnId = 0;
  const send = async (to: Producer | Transaction, committed: boolean, txn?: number) => {
    const partition = int(partitions);
    // now and then a batch bigger than a fetch's 256 KiB per partition
    const big = rnd.next() < 0.06;
    const count = big ? 1_000 : 1 + (rnd.next() < 0.3 ? int(8) : 0);
    const values = Array.from({ length: count }, () => `r${n++}${big ? '.'.repeat(400) : ''}`);
    const compression = rnd.next() < 0.3 ? CompressionTypes.GZIP : CompressionTypes.None;
    const [meta] = await to.send({
      topic,
      compression,
      messages: values.map((value) => ({ key: value, value, partition })),
    });
    const base = BigInt(meta.baseOffset!);
    const records = values.map((value, i) => ({ partition, offset: base + BigInt(i), value, committed, txn }));
    produced.push(...records);
    return records;
  };
  try {
    const steps = 40 + int(80);
    for (let s = 0; s < steps; s++) {
      const x = rnd.next();
      if (x < 0.3) {
        await send(plain, true);
        continue;
      }
      const tx = rnd.pick(txns);
      if (!tx.open) {
        tx.open = { t: await tx.producer.transaction(), id: txnId++, records: [] };
      }
      const y = rnd.next();
      if (y < 0.6) tx.open.records.push(...(await send(tx.open.t, false, tx.open.id)));
      else {
        const commit = y < 0.85;
        await (commit ? tx.open.t.commit() : tx.open.t.abort());
        for (const r of tx.open.records) r.committed = commit;
        tx.open = undefined;
      }
    }
    // one transaction stays open across the read's start (with records on some partition)
    const left = rnd.pick(txns);
    if (!left.open) left.open = { t: await left.producer.transaction(), id: txnId++, records: [] };
    left.open.records.push(...(await send(left.open.t, false, left.open.id)));
    const stillOpen = txns.flatMap((t) => (t.open ? [t.open] : []));

    // from: some partitions start later, some past their end
    const from = new Map<number, bigint>();
    for (let p = 0; p < partitions; p++) {
      const offsets = produced.filter((r) => r.partition === p).map((r) => r.offset);
      if (offsets.length && rnd.next() < 0.5)
        from.set(p, rnd.next() < 0.1 ? offsets.at(-1)! + 100n : rnd.pick(offsets));
    }
    // the end of a partition: the first offset of a transaction open at the read's start
    const openFirst = new Map<number, bigint>();
    for (const o of stillOpen) {
      for (const r of o.records) {
        const was = openFirst.get(r.partition);
        if (was === undefined || r.offset < was) openFirst.set(r.partition, r.offset);
      }
    }
    // commit() and abort() return before the broker has written the transactions' markers, and
    // the last stable offset waits for them: the read's end is where it stands at the read's start
    const settledEnd = (p: number) =>
      openFirst.get(p) ??
      produced.filter((r) => r.partition === p).reduce((m, r) => (r.offset >= m ? r.offset + 1n : m), 0n);
    for (const until = Date.now() + 20_000; ;) {
      const lso = await admin.fetchTopicOffsets(topic);
      if (lso.every((o) => BigInt(o.high) >= settledEnd(o.partition))) break;
      if (Date.now() > until) throw new Error(`markers not written: ${JSON.stringify(lso)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const expected = produced
      .filter((r) => r.committed)
      .filter((r) => r.offset >= (from.get(r.partition) ?? 0n))
      .filter((r) => r.offset < (openFirst.get(r.partition) ?? BigInt(Number.MAX_SAFE_INTEGER)))
      .map(({ partition, offset, value }) => ({ partition, offset, value }));

    // records produced during the read (once it has its ends: at its first record), and the
    // open transactions ending: never read
    let started!: () => void;
    const first = new Promise<void>((resolve) => (started = resolve));
    const reading = read(topic, from, started).finally(started);
    const during = (async () => {
      await first;
      for (let i = 0; i < 5; i++) await send(plain, true);
      for (const o of stillOpen) await (rnd.next() < 0.5 ? o.t.commit() : o.t.abort());
    })();
    const [{ records, ends }] = await Promise.all([reading, during]);

    const byPartition = (rs: Read[]) =>
      Array.from({ length: partitions }, (_, p) =>
        rs.filter((r) => r.partition === p).map((r) => `${r.offset}:${r.value}`),
      );
    const sortedExpected = [...expected].sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
    expect(byPartition(records)).toEqual(byPartition(sortedExpected));
    for (const [p, first] of openFirst) expect(ends.get(p)).toBe(first);
  } finally {
    await Promise.all([plain, ...txns.map((t) => t.producer)].map((p) => p.disconnect()));
  }
});

it('fails with READ_TO_END_OFFSET_GONE when a from offset is below the log start', async () => {
  const topic = await newTopic(1);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })) });
  } finally {
    await producer.disconnect();
  }
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '6' }] });
  await expect(read(topic, new Map([[0, 3n]]))).rejects.toMatchObject({ code: 'READ_TO_END_OFFSET_GONE' });
  // without from, the read starts at the log start; from at or after it reads from there
  expect((await read(topic)).records.map((r) => r.value)).toEqual(['v6', 'v7', 'v8', 'v9']);
  expect((await read(topic, new Map([[0, 8n]]))).records.map((r) => r.value)).toEqual(['v8', 'v9']);
});

it('steps over the records and batches compaction removed', async () => {
  // tombstones and markers are removed at once (delete.retention.ms=0); a new segment every 100 ms
  const topic = await newTopic(1, [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'delete.retention.ms', value: '0' },
    { name: 'min.compaction.lag.ms', value: '0' },
    { name: 'min.cleanable.dirty.ratio', value: '0.0001' },
    { name: 'segment.ms', value: '100' },
  ]);
  const producer = kafka.producer({
    transactionalId: uniqueName('read-to-end-tx'),
    maxInFlightRequests: 1,
    idempotent: true,
  });
  await producer.connect();
  try {
    const t = await producer.transaction();
    await t.send({
      topic,
      messages: [
        { key: 'a', value: 'a1' },
        { key: 'b', value: 'b1' },
      ],
    });
    await t.commit();
    const u = await producer.transaction();
    await u.send({
      topic,
      messages: [
        { key: 'b', value: null },
        { key: 'c', value: 'c1' },
      ],
    });
    await u.send({ topic, messages: [{ key: 'c', value: null }] });
    await u.commit();
    // roll the segment: the records above leave the active segment and can be cleaned
    await new Promise((resolve) => setTimeout(resolve, 300));
    const v = await producer.transaction();
    await v.send({ topic, messages: [{ key: 'z', value: 'z1' }] });
    await v.abort();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const w = await producer.transaction();
    await w.send({ topic, messages: [{ key: 'z', value: null }] });
    await w.abort();
  } finally {
    await producer.disconnect();
  }
  // wait for the cleaner (backoff 1 s on the project's broker) to remove b's and c's records
  const deadline = Date.now() + 60_000;
  let values: string[];
  for (;;) {
    values = (await read(topic)).records.map((r) => r.value);
    if (!values.includes('c1') || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  expect(values.filter((v) => v !== 'null')).toEqual(['a1']);
}, 90_000);

it('rides out a broker restarted mid-read, handing each record over once', async () => {
  const broker = new DedicatedKafka();
  await broker.start();
  // kafkajs's own account of the read (connections, requests, errors), the last lines quoted on a failure
  const trail: string[] = [];
  const t0 = Date.now();
  const own = new Kafka({
    clientId: 'read-to-end-restart',
    brokers: [broker.brokers],
    logLevel: logLevel.DEBUG,
    logCreator:
      () =>
      ({ namespace, label, log }) => {
        const { message, timestamp: _t, logger: _l, ...rest } = log as Record<string, unknown>;
        trail.push(`${Date.now() - t0} ms ${label} [${namespace}] ${String(message)} ${JSON.stringify(rest)}`);
        if (trail.length > 400) trail.splice(0, trail.length - 300);
      },
  });
  try {
    const ownAdmin = own.admin();
    await ownAdmin.connect();
    await createTopicsReady(ownAdmin, [{ topic: 't', numPartitions: 2 }]);
    await ownAdmin.disconnect();
    const producer = own.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < 10; i++) {
      const messages = Array.from({ length: 1_000 }, (_, j) => ({ value: `${i * 1_000 + j}`.padEnd(300, '.') }));
      await producer.send({ topic: 't', messages });
    }
    await producer.disconnect();
    // the broker is killed at the first record (the next fetch is already on its way) and
    // started again: the fetches fail until it is back
    let restarted: Promise<void> | undefined;
    // when the broker was killed and when it answered again (or failed to start), for a failure's message
    const timeline: string[] = [];
    const values: number[][] = [[], []];
    try {
      await readToEnd(own, 't', (m, partition) => {
        if (!restarted) {
          process.kill((broker as unknown as { pid: number }).pid, 'SIGKILL');
          timeline.push(`killed at ${Date.now() - t0} ms`);
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); // its sockets closed
          restarted = broker.stop().then(() => broker.start());
          restarted.then(
            () => timeline.push(`answering again at ${Date.now() - t0} ms`),
            (err: Error) => timeline.push(`restart failed at ${Date.now() - t0} ms: ${err.message}`),
          );
        }
        values[partition].push(Number(m.value!.toString().replace(/\.+$/, '')));
      });
    } catch (err) {
      // the trial CI of d31ab48 timed out here once (Kafka 3.9, 'Request Fetch timed out'), 8 of 8
      // passed after: say what the broker did
      (err as Error).message +=
        `\nread failed at ${Date.now() - t0} ms; ${timeline.join('; ')}\n` +
        `dedicated broker's log (INFO), last lines:\n${broker.logTail(150)}\n` +
        `the client's log (kafkajs, DEBUG), last lines:\n${trail.slice(-150).join('\n')}`;
      throw err;
    }
    expect(restarted).toBeDefined();
    await restarted;
    // each partition's records in order, once each, all of them
    for (const vs of values) expect(vs).toEqual([...vs].sort((a, b) => a - b));
    expect(values.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  } finally {
    await broker.remove();
  }
}, 240_000);

import _ from 'highland';
import { CompressionTypes, type Message, type Producer, type Kafka, type TopicMessages } from 'kafkajs';
import { messageList } from '../../kafka/partition-grouping';
import { producerPartitioner } from '../../kafka/partitioner';

/** One record on its way to Kafka: key and value already in wire format; null value = tombstone. */
export interface OutRecord {
  topic: string;
  key: Buffer;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface PublisherOptions {
  /** Records per produce request (default 500). */
  batchSize: number;
  /** Produce requests in flight at once (default 4). With batchSize this bounds the memory
   *  held by records on their way: a slow broker slows the source instead of filling memory. */
  maxInFlight: number;
  /** gzip (default), zstd (Node's own, registered by kafka/zstd.ts) or none. */
  compression: Compression;
  /** How long a partial batch waits for more records, in ms (default 20). */
  lingerMs: number;
}

export type Compression = 'gzip' | 'zstd' | 'none';

/** kafkajs's compression type of a record batch. */
export function compressionType(c: Compression): CompressionTypes {
  return c === 'gzip' ? CompressionTypes.GZIP : c === 'zstd' ? CompressionTypes.ZSTD : CompressionTypes.None;
}

export const DEFAULT_PUBLISHER: PublisherOptions = {
  batchSize: 500,
  maxInFlight: 4,
  compression: 'gzip',
  lingerMs: 20,
};

/**
 * The delivery promise of the publishing side: the producer is idempotent (no duplicates from
 * its own retries) and every send waits for acks from all in-sync replicas (acks=-1), so a
 * record counted as published is durable in Kafka. Its sends go one at a time (serialProducer):
 * kafkajs keeps that promise only so.
 */
export function createProducer(kafka: Kafka): Producer {
  // The default (murmur2) partitioner is the Java client's: a user Id lands on the same
  // partition whichever client produced it. producerPartitioner places keys as kafkajs's does, faster.
  return serialProducer(() =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: producerPartitioner,
    }),
  );
}

/**
 * An idempotent kafkajs producer whose sends (send, sendBatch) go one after the other, in the order
 * they were made, and which takes a new producer id after a send that failed.
 *
 * Why: kafkajs numbers a request's records when it builds it, under a lock per broker, and when the
 * request fails (any error, a retriable one included) it takes the numbers back and releases the lock
 * before its retry's back-off (node_modules/kafkajs/src/producer/sendMessages.js:79-122). A send
 * waiting for that lock then gets the numbers the failed request had, though the broker may have
 * appended that request: a partition whose leader moved answers NOT_LEADER_OR_FOLLOWER while the
 * request's other partitions are appended, and a topic just created answers so for a moment (seen
 * on Kafka 3.9 and 4.4, docs/performance-s16-seq.md). The broker then refuses the waiting send
 * (OUT_OF_ORDER_SEQUENCE_NUMBER) or, when it has as many records in that partition, takes it for
 * a retry of the appended request and acknowledges it without appending it: records lost, and the
 * first request's records twice once its retry goes (test/integration/pipeline/publisher-sequence-s16.test.ts).
 * One send at a time, a retry resends the same records under the same numbers, which the broker
 * recognises. After a send that failed for good, the numbers kafkajs holds may be below the
 * broker's for ever (every later send refused, or lost when its count matches): the next send
 * first connects a new producer (a new producer id, numbers from 0) and disconnects the old one.
 *
 * Cost: kafkajs's lock already let one request at a time reach a broker; the writes' throughput
 * with and without, side by side, is in docs/performance-s16-seq.md. Events (`on`) are the current
 * producer's: a listener does not follow it to a new one (the connector registers none).
 */
export function serialProducer(make: () => Producer): Producer {
  let inner = make();
  let connected = false;
  let stale = false;
  let tail: Promise<unknown> = Promise.resolve();
  const renew = async () => {
    const next = make();
    try {
      await next.connect();
    } catch (err) {
      await next.disconnect().catch(() => undefined);
      throw err;
    }
    const old = inner;
    inner = next;
    stale = false;
    await old.disconnect().catch(() => undefined);
  };
  const queued = <T>(op: (p: Producer) => Promise<T>): Promise<T> => {
    const run = tail.then(async () => {
      if (stale && connected) await renew();
      try {
        return await op(inner);
      } catch (err) {
        stale = true;
        throw err;
      }
    });
    tail = run.catch(() => undefined);
    return run;
  };
  return {
    async connect() {
      connected = true;
      await inner.connect();
    },
    async disconnect() {
      connected = false;
      await inner.disconnect();
    },
    isIdempotent: () => inner.isIdempotent(),
    get events() {
      return inner.events;
    },
    on: ((...args: Parameters<Producer['on']>) => inner.on(...args)) as Producer['on'],
    logger: () => inner.logger(),
    transaction: () => inner.transaction(),
    send: (record) => queued((p) => p.send(record)),
    sendBatch: (batch) => queued((p) => p.sendBatch(batch)),
  };
}

/** Something records can be written to: Kafka, or nothing at all in a dry run. */
export interface RecordWriter {
  write(batch: OutRecord[]): Promise<void>;
}

export function kafkaWriter(producer: Producer, opts: Pick<PublisherOptions, 'compression'>): RecordWriter {
  const compression = compressionType(opts.compression);
  return {
    async write(batch) {
      await producer.sendBatch({ acks: -1, compression, topicMessages: topicMessagesOf(batch) });
    },
  };
}

/**
 * A batch's records as kafkajs's messages by topic, in order. Each topic's list is one whose grouping
 * by partition is linear (kafka/partition-grouping.ts: kafkajs's own copies the partition's list for
 * every message). A record is its own message: kafkajs reads its key, value and headers (and finds no
 * partition or timestamp), so no copy of each is made.
 */
export function topicMessagesOf(batch: readonly OutRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const r of batch) {
    let list = byTopic.get(r.topic);
    if (!list) byTopic.set(r.topic, (list = messageList()));
    list.push(r);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** A dry run's writer: counts and drops. */
export const nullWriter: RecordWriter = { write: async () => undefined };

/**
 * Drains a highland stream of records into `writer`, in batches, with at most `maxInFlight`
 * batches outstanding (highland pulls from the source only as batches complete). Resolves
 * with the number written; rejects on the first error, and then the source is not read further.
 */
export function publishStream(
  source: Highland.Stream<OutRecord>,
  writer: RecordWriter,
  opts: PublisherOptions = DEFAULT_PUBLISHER,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let written = 0;
    source
      .batchWithTimeOrCount(opts.lingerMs, opts.batchSize)
      .map((batch) => _(writer.write(batch).then(() => batch.length)))
      .parallel(opts.maxInFlight)
      .stopOnError(reject)
      .each((n) => {
        written += n;
      })
      .done(() => resolve(written));
  });
}

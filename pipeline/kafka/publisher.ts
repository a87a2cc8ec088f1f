import _ from 'highland';
import { CompressionTypes, type Message, type Producer, type Kafka, type TopicMessages } from 'kafkajs';
import { messageList } from '../../kafka/partition-grouping';
import { producerPartitioner } from '../../kafka/partitioner';
import { serialProducer } from '../../kafka/serial-producer';

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

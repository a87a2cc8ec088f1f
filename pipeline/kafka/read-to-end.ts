import type { Kafka, KafkaMessage } from 'kafkajs';
import { RetriableError } from '../../kernel/errors';
import { listOffsets, PartitionReader, ReadOutage } from '../../kafka/partition-reader';
import { dropConnections, readCluster, sever } from '../../kafka/read-cluster';

export interface ReadToEndOptions {
  /** Give up after this long with READ_TO_END_TIMEOUT (ms, default 120 s). */
  deadlineMs?: number;
}

export const DEFAULT_READ_DEADLINE_MS = 120_000;

/**
 * Bytes a fetch may bring, per partition and in all. What a fetch brings is held decoded at once
 * (every message with its key, value and header Buffers, ~1 KB of heap a record), and a
 * compressed batch of small records decodes to many: 1 MiB of a declared stream's gzip'd records
 * was ~27,000 messages, ~80 MB of heap for three partitions (a heap snapshot of a full run). A
 * quarter of that keeps a read's memory small whatever the record size, for a few more fetches.
 */
const FETCH_BYTES_PER_PARTITION = 256 * 1024;
const FETCH_BYTES = 1024 * 1024;

/**
 * Reads a topic from its earliest offset up to the end it has now, then stops. Used for the
 * compacted topics whose latest value per key is the truth (users, run state).
 *
 * No consumer group: the partitions are fetched directly from their leaders
 * (kafka/partition-reader.ts over kafkajs's own cluster, kafka/read-cluster.ts). A group cost
 * every read the broker's group.initial.rebalance.delay.ms (Kafka's default 3,000 ms: ~3 s a read,
 * 8-10 reads a routine run), needed Group ACLs, and a crash left it behind.
 *
 * Committed records only (read_committed), and the end is the last stable offset at the read's
 * start, so a deletion phase still in its transaction, or aborted, is never read; nor is what is
 * produced during the read. A partition whose last records are transaction markers, or were
 * removed by compaction, still ends: the next offset fetched is the end of the last record batch
 * received.
 *
 * `from` optionally starts a partition later than its earliest offset. Resolves with the end
 * offsets that were read up to (exclusive). Past `deadlineMs` it fails, naming the topic and
 * the partitions not yet read to their end, instead of waiting for ever. A broker that is
 * restarting, a leader change or stale metadata is an outage: the read refreshes its metadata
 * and goes on where it was, until the deadline (each record is handed over once).
 *
 * A `from` offset below the partition's log start (retention or records deleted moved it, after
 * the caller chose it) fails with READ_TO_END_OFFSET_GONE: the records between are gone, so a
 * read from there cannot be exact (the live index's tail read from its watermark: the next run
 * finds the watermark below the log start and reads the whole topic). Without `from`, a log start
 * that moves during the read is followed: those records are gone for every reader.
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  onMessage: (message: KafkaMessage, partition: number) => void,
  from: Map<number, bigint> = new Map(),
  opts: ReadToEndOptions = {},
): Promise<Map<number, bigint>> {
  const deadlineMs = opts.deadlineMs ?? DEFAULT_READ_DEADLINE_MS;
  const deadline = Date.now() + deadlineMs;
  const cluster = readCluster(kafka);
  let reader: PartitionReader | undefined;
  let lastOutage: unknown;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const pending = reader ? reader.pending().join(', ') : 'all (their end offsets not yet listed)';
      const cause = lastOutage === undefined ? '' : ` Last error: ${(lastOutage as Error).message}.`;
      reject(
        new RetriableError(
          'READ_TO_END_TIMEOUT',
          `reading topic ${topic} to its end took longer than ${Math.round(deadlineMs / 1000)} s ` +
            `(partitions not yet at their end: ${pending}). ` +
            `Check the broker's health and that the connector may read the topic.${cause}`,
          { cause: lastOutage },
        ),
      );
    }, deadlineMs);
  });
  expired.catch(() => undefined);
  const inTime = <T>(p: Promise<T>): Promise<T> => Promise.race([p, expired]);

  let done = false;
  try {
    let ends: Map<number, bigint> | undefined;
    for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        if (!ends) {
          await inTime(cluster.connect());
          const offsets = await inTime(listOffsets(cluster, topic));
          const r = new PartitionReader(cluster, topic, {
            perPartition: FETCH_BYTES_PER_PARTITION,
            total: FETCH_BYTES,
          });
          for (const p of offsets) {
            const start = from.get(p.partition) ?? p.low;
            if (start < p.high && start < p.low) throw offsetGone(topic, p.partition, start, p.low);
            r.add(p.partition, start, p.high);
          }
          reader = r;
          ends = new Map(offsets.map((p) => [p.partition, p.high]));
        }
        await inTime(reader!.run(onMessage));
        done = true;
        return ends;
      } catch (err) {
        if (isOffsetOutOfRange(err, topic) && reader) {
          await inTime(followLogStart(cluster, topic, reader, err.partition, from));
        } else if (!isOutage(err)) throw err;
        // a request with no answer in requestTimeout: its connection is not to be trusted
        if (isRequestTimeout(err)) dropConnections(cluster);
        lastOutage = err;
        await inTime(cluster.refreshMetadata()).catch(() => undefined);
        if (Date.now() + delay >= deadline) await expired;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  } finally {
    clearTimeout(timer);
    reader?.stop();
    // a read that gave up or failed may have a connect or a request still in flight: end them now,
    // or kafkajs goes on connecting after the read has failed (read-to-end-leak-review.test.ts)
    if (!done) sever(cluster);
    await cluster.disconnect().catch(() => undefined);
  }
}

/** The broker's answer to a fetch below the log start (or past the end: records lost). */
function isOffsetOutOfRange(err: unknown, topic: string): err is { partition: number } {
  const e = err as { name?: string; topic?: string; partition?: number };
  return e?.name === 'KafkaJSOffsetOutOfRange' && e.topic === topic && typeof e.partition === 'number';
}

function isRequestTimeout(err: unknown): boolean {
  return (err as { name?: string })?.name === 'KafkaJSRequestTimeoutError';
}

/** kafkajs's errors (connection refused or closed, not leader, metadata, request timeout, ...). */
function isOutage(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? '';
  return err instanceof ReadOutage || name.startsWith('KafkaJS');
}

async function followLogStart(
  cluster: ReturnType<typeof readCluster>,
  topic: string,
  reader: PartitionReader,
  partition: number,
  from: Map<number, bigint>,
): Promise<void> {
  const next = reader.next(partition);
  if (next === undefined) return;
  const now = (await listOffsets(cluster, topic)).find((p) => p.partition === partition);
  if (!now || next > now.high) {
    throw new RetriableError(
      'READ_TO_END_OFFSET_GONE',
      `partition ${partition} of topic ${topic} no longer has offset ${next} (it ends at ${now?.high ?? 'unknown'}): ` +
        `the topic was recreated or lost records. Read it again from its start.`,
    );
  }
  if (next >= now.low) return; // in range again (a leader change): fetch again
  if (from.has(partition)) throw offsetGone(topic, partition, next, now.low);
  reader.moveTo(partition, now.low);
}

function offsetGone(topic: string, partition: number, offset: bigint, low: bigint): RetriableError {
  return new RetriableError(
    'READ_TO_END_OFFSET_GONE',
    `partition ${partition} of topic ${topic} starts at ${low} now, after the offset ${offset} to read from: ` +
      `the records between were deleted (retention, or records deleted). Read it again from its start.`,
  );
}

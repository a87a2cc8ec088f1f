import type { KafkaMessage } from 'kafkajs';
import { ConnectorError, FatalError, RecordError } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import { withRetry, type RetryOptions } from '../../kernel/retry';
import type { Sink, SinkStream, WriteCounts } from '../port';
import { collapseInserts, collapseUpserts, type DecodedRecord, type SourceRecord } from './collapse';
import { classifySendError, type DeadLetter, type DeadLetterEntry } from './dead-letter';
import { isTombstone, type RecordDecoder, type WriterSchema } from './decode';
import { Breaker } from './breaker';

/** Test seams. Production code passes none. */
export interface SinkHooks {
  /**
   * Runs after a batch's database transaction has committed (and its dead letters are sent),
   * before its offsets are committed. Throwing here (or the process dying here) leaves the
   * offsets uncommitted: the batch is consumed again and must change nothing.
   */
  afterDatabaseCommit?(info: {
    topic: string;
    partition: number;
    lastOffset: string;
    result: BatchResult;
  }): Promise<void> | void;
  /**
   * Runs inside a batch's database transaction, right after BEGIN, before anything is read or
   * written: a slow hook is a slow transaction (a zombie that lost its partition meanwhile).
   */
  insideTransaction?(info: { topic: string; partition: number; firstOffset: string }): Promise<void> | void;
}

export interface BatchProcessorDeps {
  /** The store the batches go to (the sink port). */
  sink: Sink;
  decoder: RecordDecoder;
  /** Source topic → the stream its records belong to. */
  routes: ReadonlyMap<string, SinkStream>;
  deadLetter: DeadLetter;
  logger: Logger;
  /** Backoff for passing failures (database, registry, dead-letter producer). */
  retry: RetryOptions;
  /** Consecutive failures for one reason before the sink stops (the circuit breaker). */
  breakerFailures: number;
  /** Most bytes of records (keys + values, decompressed) written in one transaction; a fetched
   *  batch beyond it is written in several, in order, each with its own offset (default 4 MiB). */
  maxBatchBytes?: number;
  /** A partition waits on a passing failure (trouble), or no longer does (undefined). */
  onTrouble?: (topic: string, partition: number, trouble: PartitionTrouble | undefined) => void;
  hooks?: SinkHooks;
}

/** What the consumer lends a batch: a heartbeat for long retries, and the sink's stop signal. */
export interface BatchContext {
  heartbeat(): Promise<void>;
  signal: AbortSignal;
  /** Offset after the batch (its last offset + 1; records compacted away at its end included). */
  nextOffset: bigint;
}

/** Why a partition is waiting: the failing step, the error's code and message, since when (ms). */
export interface PartitionTrouble {
  what: string;
  code: string;
  message: string;
  since: number;
}

export interface BatchResult extends WriteCounts {
  records: number;
  deadLettered: number;
  /** Records the database already had from an earlier transaction (stored offset past them). */
  skipped: number;
}

/**
 * Turns one Kafka batch (one partition, Kafka order) into one database transaction (one
 * Sink.write).
 * Resolves when the transaction has committed and every bad record is on the dead-letter topic:
 * only then may the caller commit the batch's offsets. Rejects without committing anything but
 * possibly some dead letters (sent again on replay: at least once) when a failure is not
 * retriable, retries are spent, or `signal` aborts.
 */
export interface BatchProcessor {
  process(topic: string, partition: number, messages: readonly KafkaMessage[], ctx: BatchContext): Promise<BatchResult>;
}

/** About 3,000 users of the simulator's typical 1.3 KB: a transaction large enough for COPY to pay. */
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;

export function createBatchProcessor(deps: BatchProcessorDeps): BatchProcessor {
  const { sink, decoder, logger } = deps;
  const maxBatchBytes = deps.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  // Per stream: the DDL in flight or done. Every write waits for it, so a batch never inserts
  // into a column that another batch (another partition) is still adding.
  const ddl = new Map<SinkStream, Promise<void>>();
  const absorbed = new Set<string>();

  /**
   * Retries a passing failure with capped backoff, heartbeating, while the partition waits (its
   * next records are not fetched). The circuit breaker: `breakerFailures` consecutive failures
   * for the same reason (error code) stop the sink with a FatalError saying what failed and
   * what to check, rather than waiting forever on something that needs a person.
   */
  const retrying = <T>(
    what: string,
    where: { topic: string; partition: number },
    ctx: BatchContext,
    fn: () => Promise<T>,
  ): Promise<T> => {
    const breaker = new Breaker(deps.breakerFailures, what, `on ${where.topic}[${where.partition}]`);
    return withRetry(
      async (attempt) => {
        if (attempt > 1) await ctx.heartbeat();
        return fn();
      },
      {
        ...deps.retry,
        signal: ctx.signal,
        retryOn: breaker.retryOn,
        onRetry: (err, attempt, delayMs) => {
          const code = (err as ConnectorError).code;
          deps.onTrouble?.(where.topic, where.partition, {
            what,
            code,
            message: (err as Error).message,
            since: breaker.since,
          });
          logger.warn(`${what} failed; retrying`, {
            topic: where.topic,
            partition: where.partition,
            attempt,
            delayMs,
            code,
            error: (err as Error).message,
          });
        },
      },
    ).then(
      (out) => {
        if (breaker.troubled) deps.onTrouble?.(where.topic, where.partition, undefined);
        return out;
      },
      (err: unknown) => {
        throw breaker.final(err, ctx.signal.aborted);
      },
    );
  };

  /** Grows the stream's store for a writer schema not seen before (ALTER TABLE ADD COLUMN). */
  const evolve = (
    stream: SinkStream,
    writer: WriterSchema,
    where: { topic: string; partition: number },
    ctx: BatchContext,
  ): void => {
    const key = `${stream.name}:${writer.id}`;
    if (absorbed.has(key)) return;
    const change = sink.evolve(stream, writer); // throws (schema not storable) before changing anything
    absorbed.add(key);
    if (!change) return;
    const previous = ddl.get(stream) ?? Promise.resolve();
    ddl.set(
      stream,
      previous.then(() => retrying('adding columns', where, ctx, change).then(() => undefined)),
    );
  };

  /** One transaction: records of one partition, in Kafka order, and the offset after them. */
  const writeSlice = async (
    stream: SinkStream,
    topic: string,
    partition: number,
    messages: readonly KafkaMessage[],
    ctx: BatchContext,
    nextOffset: bigint,
  ): Promise<BatchResult> => {
    const where = { topic, partition };
    const good: DecodedRecord[] = [];
    const dead: DeadLetterEntry[] = [];
    let absorbedWriter: WriterSchema | undefined; // the last writer evolve() took: not looked up per record
    // indexed, not for…of: the loop awaits (a registry lookup), and V8 then keeps an iterator
    // result object a record (~37 B a row in a heap sample of the sink)
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const source: SourceRecord = new MessageSource(topic, partition, m);
      try {
        const decoded =
          decoder.decodeCached?.(m) ??
          (await retrying('decoding (schema registry)', where, ctx, () => decoder.decode(m)));
        if (isTombstone(decoded) && stream.write === 'append') {
          throw new RecordError(
            `a ${stream.name} record cannot be deleted (append-only stream): tombstone on ${topic}`,
            { code: 'UNEXPECTED_TOMBSTONE' },
          );
        }
        if (decoded.writer && decoded.writer !== absorbedWriter) {
          evolve(stream, decoded.writer, where, ctx);
          absorbedWriter = decoded.writer;
        }
        good.push({ decoded, source });
      } catch (err) {
        if (err instanceof RecordError) dead.push({ source, error: err });
        else if (err instanceof FatalError && err.code === 'SCHEMA_UNSUPPORTED')
          dead.push({ source, error: new RecordError(err.message, { code: 'SCHEMA_UNSUPPORTED', cause: err }) });
        else throw err;
      }
    }
    await ddl.get(stream);
    const ops = stream.write === 'upsert' ? collapseUpserts(good) : collapseInserts(good);
    good.length = 0; // the decoded records live on in `ops` only (one per key)
    let sent: DeadLetterEntry[] = [];
    const outcome = await retrying('writing a batch', where, ctx, () =>
      sink.write({
        stream,
        partition,
        ops,
        nextOffset,
        inside: () => deps.hooks?.insideTransaction?.({ topic, partition, firstOffset: messages[0].offset }),
        // Dead letters go out before the offsets move past them (at least once); records
        // below the stored offset were dead-lettered by the transaction that applied them.
        beforeCommit: async (rejected, stored) => {
          sent = [...dead, ...rejected.map((r) => ({ source: r.op.source, error: r.error }))].filter(
            (d) => BigInt(d.source.offset) >= stored,
          );
          await deps.deadLetter
            .send(sent)
            .catch((err: unknown) => Promise.reject(classifySendError(err, deps.deadLetter.topic)));
        },
      }),
    );
    for (const d of sent)
      logger.warn('record dead-lettered', {
        topic,
        partition,
        offset: d.source.offset,
        code: d.error.code,
        reason: d.error.message,
      });
    if (outcome.skipped > 0)
      logger.info('batch partly applied before (stored offset ahead): those records left out', {
        topic,
        partition,
        skipped: outcome.skipped,
      });
    return {
      records: messages.length,
      deadLettered: sent.length,
      skipped: outcome.skipped,
      upserted: outcome.upserted,
      inserted: outcome.inserted,
      deleted: outcome.deleted,
    };
  };

  return {
    async process(topic, partition, messages, ctx) {
      const stream = deps.routes.get(topic);
      if (!stream) throw new FatalError('SINK_TOPIC_UNKNOWN', `no table is configured for topic ${topic}`);
      // A fetch is bounded in compressed bytes: 1 MiB of gzip'd users can hold 20 MB of records,
      // several times that once decoded. Its records are written in slices of at most
      // `maxBatchBytes` (keys and values as fetched), each one transaction with the offset after
      // its last record: memory stays bounded whatever the compression ratio, and a slice
      // committed before a crash is not written again (its records are below the stored offset).
      const total: BatchResult = { records: 0, deadLettered: 0, skipped: 0, upserted: 0, inserted: 0, deleted: 0 };
      let from = 0;
      while (from < messages.length) {
        let to = from;
        let bytes = 0;
        while (to < messages.length && (to === from || bytes + sizeOf(messages[to]) <= maxBatchBytes))
          bytes += sizeOf(messages[to++]);
        const last = to === messages.length;
        const next = last ? ctx.nextOffset : BigInt(messages[to - 1].offset) + 1n;
        const slice = await writeSlice(stream, topic, partition, messages.slice(from, to), ctx, next);
        for (const k of Object.keys(total) as (keyof BatchResult)[]) total[k] += slice[k];
        if (!last) await ctx.heartbeat();
        from = to;
      }
      return total;
    },
  };
}

/**
 * A fetched message as its SourceRecord. Its headers are read from the message only when asked
 * for (a dead letter copies them): kafka/fetch-records.ts builds a record's headers at their first
 * read, and a record on its way to the table needs none (session 24: ~500 B a row of the sink's
 * allocations).
 */
class MessageSource implements SourceRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly #message: KafkaMessage;
  constructor(
    readonly topic: string,
    readonly partition: number,
    message: KafkaMessage,
  ) {
    this.offset = message.offset;
    this.key = message.key;
    this.value = message.value;
    this.#message = message;
  }
  get headers(): KafkaMessage['headers'] {
    return this.#message.headers;
  }
}

const sizeOf = (m: KafkaMessage) => (m.key?.length ?? 0) + (m.value?.length ?? 0);

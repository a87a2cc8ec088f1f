import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../../pipeline/core/logger';
import type { BatchProcessor, BatchResult } from './processor';

/** Test seams. Production code passes none. */
export interface SinkHooks {
  /**
   * Runs after a batch's database transaction has committed (and its dead letters are sent),
   * before its offsets are committed. Throwing here (or the process dying here) leaves the
   * offsets uncommitted: the batch is consumed again and must change nothing.
   */
  afterDatabaseCommit?(info: { topic: string; partition: number; lastOffset: string; result: BatchResult }): Promise<void> | void;
}

export interface SinkConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group without committed offsets starts: true = earliest (rebuilds the full state). */
  fromBeginning: boolean;
  /** Fetch size per partition, in bytes: the upper bound of one batch (one transaction). */
  maxBytesPerPartition: number;
  /** Partitions processed at once, each batch in its own transaction. */
  partitionsConsumedConcurrently: number;
  /** Consumer group session timeout, in ms. */
  sessionTimeoutMs: number;
}

/** What one committed batch reports: its partition, the offset to resume from, and counts. */
export interface BatchDone {
  topic: string;
  partition: number;
  /** Offset of the next record to read (last written + 1). */
  nextOffset: bigint;
  result: BatchResult;
}

/**
 * A running consumer group member that feeds the processor.
 * `done` rejects when the consumer crashed for good (a fatal error: the sink is then stopped);
 * it resolves after stop(). pause() resolves once no batch is being processed and none will
 * start until resume().
 */
export interface SinkConsumer {
  readonly done: Promise<void>;
  pause(): Promise<void>;
  resume(): void;
  stop(): Promise<void>;
}

export async function startSinkConsumer(
  kafka: Kafka,
  processor: BatchProcessor,
  opts: SinkConsumerOptions,
  deps: { logger: Logger; hooks?: SinkHooks; onBatch?: (done: BatchDone) => void },
): Promise<SinkConsumer> {
  const { logger, hooks } = deps;
  const abort = new AbortController();
  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId,
    maxBytesPerPartition: opts.maxBytesPerPartition,
    maxBytes: opts.maxBytesPerPartition * 4,
    sessionTimeout: opts.sessionTimeoutMs,
    heartbeatInterval: Math.min(3000, Math.floor(opts.sessionTimeoutMs / 10)),
    allowAutoTopicCreation: false,
  });
  let paused = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined); // observed by the owner; never an unhandled rejection

  consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart } = event.payload;
    if (abort.signal.aborted) return;
    if (restart) {
      logger.warn('sink consumer failed; kafkajs restarts it', { error: error.message });
    } else {
      logger.error('sink consumer stopped on a fatal error', { error: error.message, code: (error as { code?: string }).code });
      settle.reject(error);
    }
  });

  await consumer.connect();
  for (const topic of opts.topics) await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
      // Not resolving anything makes kafkajs fetch these records again later.
      if (paused || !isRunning() || isStale() || batch.messages.length === 0) return;
      inFlight++;
      try {
        const { topic, partition } = batch;
        const result = await processor.process(topic, partition, batch.messages, { heartbeat, signal: abort.signal });
        // ── The batch's database transaction has committed here. ──────────────────────────────
        // Offsets are committed only now. A crash before the commit below makes the group read
        // this batch again; every write is idempotent (upsert by id, delete, insert-or-nothing),
        // so the tables end the same.
        // The batch's own last offset, not its last message's: records compacted away or control
        // records at the end of the batch are passed over too.
        const lastOffset = batch.lastOffset();
        await hooks?.afterDatabaseCommit?.({ topic, partition, lastOffset, result });
        resolveOffset(batch.messages[batch.messages.length - 1].offset);
        const nextOffset = BigInt(lastOffset) + 1n;
        await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: nextOffset.toString() }] }] });
        deps.onBatch?.({ topic, partition, nextOffset, result });
        await heartbeat();
      } finally {
        if (--inFlight === 0) idle?.();
      }
    },
  });

  return {
    done,
    async pause() {
      paused = true;
      consumer.pause(opts.topics.map((topic) => ({ topic })));
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
      idle = undefined;
    },
    resume() {
      paused = false;
      consumer.resume(opts.topics.map((topic) => ({ topic })));
    },
    async stop() {
      abort.abort(new Error('sink stopping'));
      try {
        await consumer.disconnect();
      } finally {
        settle.resolve();
      }
    },
  };
}

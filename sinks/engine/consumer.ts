import type { Consumer, Kafka } from 'kafkajs';
import { FatalError } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import type { BatchProcessor, BatchResult, SinkHooks } from './processor';

export type { SinkHooks };

export interface SinkConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group without committed offsets starts: true = earliest (rebuilds the full state). */
  fromBeginning: boolean;
  /** Fetch size per partition, in bytes: the upper bound of one batch (one transaction). */
  maxBytesPerPartition: number;
  /** Batches written at once (each its own transaction, at most one per partition); kafkajs fetches
   *  the next records while they are written (write-behind, below). */
  partitionsConsumedConcurrently: number;
  /** Consumer group session timeout, in ms. */
  sessionTimeoutMs: number;
  /** The broker answers a fetch once it holds this many bytes for it, or after fetchMaxWaitMs
   *  (kafkajs minBytes; its default 1 answers as soon as one record is there). */
  fetchMinBytes?: number;
  /** The longest the broker holds a fetch waiting for fetchMinBytes, in ms (kafkajs maxWaitTimeInMs). */
  fetchMaxWaitMs?: number;
}

/** What one committed batch reports: its partition, the offset to resume from, and counts. */
export interface BatchDone {
  topic: string;
  partition: number;
  /** Offset of the next record to read (last written + 1). */
  nextOffset: bigint;
  result: BatchResult;
  /** From the batch's arrival to its database commit, in seconds. */
  seconds: number;
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
  deps: {
    logger: Logger;
    hooks?: SinkHooks;
    onBatch?: (done: BatchDone) => void;
    /** The database's position of a partition (offsets.ts); undefined when it has none. */
    storedOffset?: (topic: string, partition: number) => Promise<bigint | undefined>;
  },
): Promise<SinkConsumer> {
  const { logger, hooks } = deps;
  // Per partition: the seek to the database's offset after the last (re)join, once done.
  const resumed = new Map<string, Promise<void>>();
  const abort = new AbortController();
  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId,
    maxBytesPerPartition: opts.maxBytesPerPartition,
    maxBytes: opts.maxBytesPerPartition * 4,
    // Fetch batching while live (postgres/sink.ts SinkTuning.fetchMinBytes): a fetch of a backlog is
    // full at once and never waits; one of a live topic waits at most fetchMaxWaitMs for more.
    ...(opts.fetchMinBytes !== undefined && { minBytes: opts.fetchMinBytes }),
    ...(opts.fetchMaxWaitMs !== undefined && { maxWaitTimeInMs: opts.fetchMaxWaitMs }),
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
      logger.error('sink consumer stopped on a fatal error', {
        error: error.message,
        code: (error as { code?: string }).code,
      });
      settle.reject(error);
    }
  });

  /**
   * The database's offsets are the truth, Kafka's informational: after every (re)join each
   * assigned partition is moved to the database's offset. That covers Kafka being ahead (a
   * commit lost with synchronous_commit off, a restored database) as well as behind (the
   * writer would skip what was applied, but reading it again is wasted work). A partition
   * without a stored offset (a table from before offsets were kept) starts where Kafka says.
   */
  const resume = (topic: string, partition: number): Promise<void> => {
    const where = `${topic}:${partition}`;
    let done = resumed.get(where);
    if (!done) {
      done = (async () => {
        const stored = await deps.storedOffset?.(topic, partition);
        if (stored === undefined) return;
        consumer.seek({ topic, partition, offset: stored.toString() });
        // Kafka's copy follows, so lag and tools see where the sink really is (also when no
        // record comes after it).
        await consumer
          .commitOffsets([{ topic, partition, offset: stored.toString() }])
          .catch((err: Error) =>
            logger.warn('could not copy the database offset to Kafka', { topic, partition, error: err.message }),
          );
      })();
      // A failed read (database down) is tried again by the partition's next batch.
      done.catch(() => resumed.delete(where));
      resumed.set(where, done);
    }
    return done;
  };
  // The member's generations in the group, counted by its joins: a write begun in an earlier one
  // does not copy its offset to Kafka (below).
  let generation = 0;
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    generation++;
    resumed.clear();
    if (!deps.storedOffset) return;
    for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) {
      for (const partition of partitions)
        resume(topic, partition).catch((err: Error) =>
          logger.warn('reading the database offset failed', { topic, partition, error: err.message }),
        );
    }
  });

  // ── Write-behind ──
  // kafkajs fetches again only once every batch of its last fetch has been handed back (its
  // fetcher waits for its worker queue to drain). A batch handed back at its commit leaves
  // PostgreSQL idle during each fetch and its decompression (~14 % of an initial load's time,
  // bench/sink.ts: "fetching"). So a batch is handed back as soon as its write has started: its
  // records are resolved in kafkajs (fetched past), and the write goes on while kafkajs fetches.
  // The database's offsets stay the truth: the offset stored with the rows in the batch's
  // transaction is what a restart or rebalance resumes from; Kafka's copy is committed after it.
  // Kept: a partition's batches are written one at a time, in Kafka order (a batch waits for its
  // partition's previous write); at most `partitionsConsumedConcurrently` writes at once (the
  // memory: a write holds its fetched records); no batch is written past one that failed: the
  // partition is sought back to the failed batch, and the failure is thrown from its next batch
  // as it was from the batch itself before (kafkajs restarts the consumer; a FatalError stops
  // the sink at once, as before).
  const writes = new Map<string, { done: Promise<void>; failed?: { error: unknown } }>();
  let writing = 0;
  const slotFreed: (() => void)[] = [];
  const release = () => {
    writing--;
    slotFreed.shift()?.();
  };

  // Set by a fatal error: no write starts after it (the batches fetched meanwhile are dropped).
  let stopped = false;
  const stopOn = (err: unknown) => {
    // A fatal error (the circuit breaker, bad configuration) stops the sink now: left to
    // kafkajs, the batch would be processed a few more times first.
    if (err instanceof FatalError && !abort.signal.aborted && !stopped) {
      stopped = true;
      logger.error('sink stopped on a fatal error', { code: err.code, error: err.message });
      settle.reject(err);
      consumer.pause(opts.topics.map((topic) => ({ topic })));
    }
  };

  await consumer.connect();
  for (const topic of opts.topics) await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
      // Not resolving anything makes kafkajs fetch these records again later.
      if (stopped || abort.signal.aborted || paused || !isRunning() || isStale() || batch.messages.length === 0) return;
      inFlight++;
      try {
        const { topic, partition } = batch;
        const where = `${topic}:${partition}`;
        const previous = writes.get(where);
        if (previous) {
          await previous.done;
          if (previous.failed) {
            // Its partition was sought back to the failed batch: this one is read again after it.
            writes.delete(where);
            throw previous.failed.error;
          }
        }
        while (writing >= opts.partitionsConsumedConcurrently) await new Promise<void>((r) => slotFreed.push(r));
        writing++;
        let started = false;
        try {
          if (stopped || abort.signal.aborted || paused || !isRunning() || isStale()) return;
          if (deps.storedOffset) {
            await resume(topic, partition);
            // The seek made this batch stale: it is fetched again from the database's offset.
            if (stopped || abort.signal.aborted || isStale()) return;
          }
          const firstOffset = batch.messages[0].offset;
          const nextOffset = BigInt(batch.lastOffset()) + 1n;
          // The batch's own last offset, not its last message's: records compacted away or control
          // records at the end of the batch are passed over too.
          const lastOffset = batch.lastOffset();
          const arrived = performance.now();
          const joined = generation;
          const entry: { done: Promise<void>; failed?: { error: unknown } } = { done: Promise.resolve() };
          inFlight++;
          started = true;
          entry.done = (async () => {
            const result = await processor.process(topic, partition, batch.messages, {
              heartbeat,
              signal: abort.signal,
              nextOffset,
            });
            const seconds = (performance.now() - arrived) / 1000;
            // ── The batch's database transaction has committed here, with the partition's offset. ──
            // Kafka's offsets are committed only now, for information (lag, tools): the sink resumes
            // from the database's. A crash before the commit below makes the group read this batch
            // again, and the writer finds it applied and changes nothing.
            await hooks?.afterDatabaseCommit?.({ topic, partition, lastOffset, result });
            // Not when the member joined the group again during the write: the partition may be
            // another member's now, already written further (Kafka takes any member's commit in the
            // current generation, owner or not); whoever owns it copied the database's offset to
            // Kafka at its join (resume). A failed copy is no failed write: the rows and their
            // offset are committed, and Kafka's copy is information.
            if (joined === generation)
              await commitOffsetsIfNecessary({
                topics: [{ topic, partitions: [{ partition, offset: nextOffset.toString() }] }],
              }).catch((err: Error) =>
                logger.warn('could not copy the database offset to Kafka', { topic, partition, error: err.message }),
              );
            deps.onBatch?.({ topic, partition, nextOffset, result, seconds });
          })().then(
            () => undefined,
            (error: unknown) => {
              entry.failed = { error };
              stopOn(error);
              if (abort.signal.aborted) return;
              // Read the failed batch again (the database skips what it applied); the batches of
              // this partition fetched meanwhile are stale, or wait on this entry and throw.
              resumed.delete(where);
              try {
                consumer.seek({ topic, partition, offset: firstOffset });
              } catch (err) {
                logger.warn('could not seek back to a failed batch', {
                  topic,
                  partition,
                  error: (err as Error).message,
                });
              }
            },
          );
          void entry.done.finally(() => {
            release();
            if (writes.get(where) === entry && !entry.failed) writes.delete(where);
            if (--inFlight === 0) idle?.();
          });
          writes.set(where, entry);
          // kafkajs fetches past this batch while it is written.
          resolveOffset(batch.messages[batch.messages.length - 1].offset);
        } finally {
          if (!started) release();
        }
        await heartbeat();
      } catch (err) {
        stopOn(err);
        throw err;
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
      // Batches being handed over and writes behind them (each counts in inFlight).
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
      idle = undefined;
    },
    resume() {
      paused = false;
      consumer.resume(opts.topics.map((topic) => ({ topic })));
    },
    async stop() {
      abort.abort(new Error('sink stopping'));
      // The writes behind the last batches end first (committed, or failed on the abort), and
      // their Kafka commits with them, while the consumer is still connected; no write starts
      // after the abort.
      const writesEnd = () => Promise.all([...writes.values()].map((w) => w.done));
      try {
        await writesEnd();
        await consumer.disconnect();
      } finally {
        await writesEnd();
        settle.resolve();
      }
    },
  };
}

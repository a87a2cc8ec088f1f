import type { Admin, Kafka, Producer } from 'kafkajs';
import { silentLogger, type Logger } from '../../kernel/logger';
import type { ConnectorError } from '../../kernel/errors';
import { withRetry, type RetryOptions } from '../../kernel/retry';
import { Breaker } from './breaker';
import { createTopicsReady, topicSpecs } from '../../kafka/topics';
import { DEFAULT_TOPICS, DEFAULT_TOPIC_SETTINGS } from '../../schemas/topics';
import type { SchemaSource } from '../postgres/schema-source';
import type { Sink, SinkStream } from '../port';
import { startSinkConsumer, type SinkConsumer } from './consumer';
import { createDeadLetter, deadLetterProducer } from './dead-letter';
import { createDecoder } from './decode';
import { SinkHealthState, type PartitionHealth, type SinkHealthReport } from './health';
import { createBatchProcessor, type BatchResult, type SinkHooks } from './processor';

/** The engine's knobs (units in the names); the sink's tuning (postgres/sink.ts) documents each. */
export interface EngineTuning {
  maxBytesPerPartition: number;
  partitionsConsumedConcurrently: number;
  sessionTimeoutMs: number;
  fromBeginning: boolean;
  retry: RetryOptions;
  breakerFailures: number;
  stallAfterMs: number;
  maxBatchBytes?: number;
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
}

/** Everything the engine needs: the Kafka side, the streams, and the store (the sink port). */
export interface SinkEngineDeps {
  kafka: Kafka;
  sink: Sink;
  streams: readonly SinkStream[];
  schemas: SchemaSource;
  deadLetterTopic: string;
  groupId: string;
  tuning: EngineTuning;
  logger?: Logger;
  hooks?: SinkHooks;
  /** Each batch committed: its latency in seconds (arrival to commit) and record count. Must not throw. */
  onBatch?: (batch: { seconds: number; records: number }) => void;
  /** Closes the store with the engine (default true). */
  closeSink?: boolean;
}

export interface SinkStats extends BatchResult {
  batches: number;
}

/**
 * A running sink: a consumer group member that writes each batch in one transaction of the
 * store and commits offsets only after it (see consumer.ts), dead-letters bad records, retries
 * passing failures.
 *  - start(): opens the store (tables, indexes, views), creates the dead-letter topic when
 *    missing, joins the group; resolves once consuming. Rejects (FatalError) on bad configuration;
 *    an outage while opening (registry, database) is retried as while consuming (tuning.retry).
 *  - stop(): leaves the group; an unfinished batch is abandoned uncommitted. Idempotent.
 *  - done: rejects when the sink stopped on its own because of a fatal error (call stop() then,
 *    to release the producer and, with fromConfig, the pool and an embedded database).
 * Passing failures never reject `done`: with the default unlimited retries a database that stays
 * down keeps the sink waiting (and logging each retry), not crashing.
 */
export interface SinkRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly done: Promise<void>;
  stats(): SinkStats;
  /** The truth for /health and the metrics: store reachable, partitions waiting, lag per
   *  partition from the store's offsets, age of the last commit (health.ts). */
  health(): Promise<SinkHealthReport>;
}

export function createSinkEngine(deps: SinkEngineDeps): SinkRunner {
  const logger = deps.logger ?? silentLogger;
  const { tuning, sink } = deps;
  const stats: SinkStats = {
    batches: 0,
    records: 0,
    upserted: 0,
    inserted: 0,
    deleted: 0,
    deadLettered: 0,
    skipped: 0,
  };
  let consumer: SinkConsumer | undefined;
  let producer: Producer | undefined;
  let admin: Admin | undefined;
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);
  const state = new SinkHealthState();
  const routes = new Map(deps.streams.map((s) => [s.topic, s]));

  return {
    done,
    stats: () => ({ ...stats }),
    async health() {
      const databaseReachable = await sink.probe();
      const lag: PartitionHealth[] = [];
      for (const [topic, stream] of routes) {
        const ends = admin ? await admin.fetchTopicOffsets(topic).catch(() => []) : [];
        const stored = databaseReachable ? await sink.storedOffsets(stream).catch(() => undefined) : undefined;
        for (const e of ends) {
          const at = stored ? (stored.get(e.partition) ?? BigInt(e.low)) : undefined;
          lag.push({
            topic,
            partition: e.partition,
            lag: at === undefined ? Number.NaN : Math.max(0, Number(BigInt(e.high) - at)),
          });
        }
      }
      return state.report({ databaseReachable, lag, stallAfterMs: tuning.stallAfterMs });
    },
    async start() {
      // An outage while starting (the registry or the database not answering yet) is waited out
      // like one while consuming: retried with the same backoff and breaker, each retry logged.
      // Opening is idempotent (tables, indexes and views are created only when missing).
      const breaker = new Breaker(tuning.breakerFailures, 'opening the sink');
      admin = deps.kafka.admin();
      await admin.connect();
      const kafkaAdmin = admin;
      // Subscribing to a missing topic fails (auto-creation is off): a sink started before the
      // connector's first run, or before the connector of an upgrade that declared a new stream,
      // would never start. It creates them as the contract says instead, before opening the store:
      // a topic that exists and is empty lets a fresh table begin its live bulk load there, where a
      // missing one has no end offsets (topicEnds) and gave none (docs/performance-s15-pg.md).
      await ensureSourceTopics(admin, deps.streams, logger);
      await withRetry(
        () =>
          sink.open(deps.streams, {
            logger,
            latestSchema: async (s) => (await deps.schemas.latest(`${s.topic}-value`))?.schema,
            // A group that starts at the end has no backlog to load. Unknown ends: no bulk load.
            endOffsets: tuning.fromBeginning
              ? (s) =>
                  topicEnds(kafkaAdmin, s.topic).catch((err: Error) => {
                    logger.warn('could not read the end offsets: no bulk load', { topic: s.topic, error: err.message });
                    return undefined;
                  })
              : undefined,
          }),
        {
          ...tuning.retry,
          retryOn: breaker.retryOn,
          onRetry: (err, attempt, delayMs) =>
            logger.warn('opening the sink failed; retrying', {
              attempt,
              delayMs,
              code: (err as ConnectorError).code,
              error: (err as Error).message,
            }),
        },
      ).catch(async (err: unknown) => {
        admin = undefined;
        await kafkaAdmin.disconnect().catch(() => undefined);
        throw breaker.final(err);
      });
      await ensureDeadLetterTopic(admin, deps.deadLetterTopic, logger);
      producer = deadLetterProducer(deps.kafka);
      await producer.connect();
      const processor = createBatchProcessor({
        sink,
        decoder: createDecoder(deps.schemas, sink.acceptSchema?.bind(sink)),
        routes,
        deadLetter: createDeadLetter(producer, deps.deadLetterTopic, undefined, sink.deadLetterHeaders?.bind(sink)),
        logger,
        retry: tuning.retry,
        breakerFailures: tuning.breakerFailures,
        maxBatchBytes: tuning.maxBatchBytes,
        onTrouble: (topic, partition, trouble) => state.setTrouble(topic, partition, trouble),
        hooks: deps.hooks,
      });
      consumer = await startSinkConsumer(
        deps.kafka,
        processor,
        { groupId: deps.groupId, topics: [...routes.keys()], ...tuning },
        {
          logger,
          hooks: deps.hooks,
          storedOffset: async (topic, partition) => (await sink.storedOffsets(routes.get(topic)!)).get(partition),
          onBatch: ({ result, seconds }) => {
            deps.onBatch?.({ seconds, records: result.records });
            state.committed();
            stats.batches++;
            for (const k of ['records', 'upserted', 'inserted', 'deleted', 'deadLettered', 'skipped'] as const)
              stats[k] += result[k];
          },
        },
      );
      consumer.done.then(settle.resolve, settle.reject);
      logger.info('sink started', {
        groupId: deps.groupId,
        streams: deps.streams.map((s) => `${s.topic} → ${s.table.name}`),
      });
    },
    async stop() {
      const c = consumer;
      const p = producer;
      const a = admin;
      consumer = undefined;
      producer = undefined;
      admin = undefined;
      await c?.stop();
      await p?.disconnect();
      await a?.disconnect().catch(() => undefined);
      if (deps.closeSink !== false) await sink.close();
      settle.resolve();
    },
  };
}

/**
 * The end offset of each partition of `topic` that holds records (high > low), or undefined when
 * the topic does not exist: the backlog a store may load in bulk (port.ts Sink.open endOffsets).
 */
export async function topicEnds(admin: Admin, topic: string): Promise<Map<number, bigint> | undefined> {
  if (!(await admin.listTopics()).includes(topic)) return undefined;
  const ends = new Map<number, bigint>();
  for (const p of await admin.fetchTopicOffsets(topic))
    if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
  return ends;
}

/**
 * Creates the missing topics of the streams the sink reads, as the connector would (kafka/topics.ts):
 * an upsert (snapshot) stream's topic compacted, an append stream's time-retained. Partitions and
 * retention are the contract's defaults; create the topics beforehand (or let the connector run
 * first) to choose others. Topics that exist are left as they are.
 */
export async function ensureSourceTopics(admin: Admin, streams: readonly SinkStream[], logger: Logger): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = streams.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return;
  const declared = missing.map((s) => ({ name: s.topic, compacted: s.write === 'upsert' }));
  // The declared specs come last: where a stream reads a default topic name, its spec wins.
  const byTopic = new Map(topicSpecs(DEFAULT_TOPICS, DEFAULT_TOPIC_SETTINGS, declared).map((t) => [t.topic, t]));
  const specs = missing.map((s) => byTopic.get(s.topic)!);
  await createTopicsReady(admin, specs);
  logger.info('created the missing topics of the streams the sink reads', { topics: missing.map((s) => s.topic) });
}

/** Creates the dead-letter topic when it is missing (delete policy, as provisionTopics would). */
export async function ensureDeadLetterTopic(admin: Admin, topic: string, logger: Logger): Promise<void> {
  if ((await admin.listTopics()).includes(topic)) return;
  const spec = topicSpecs({ ...DEFAULT_TOPICS, deadLetter: topic }, DEFAULT_TOPIC_SETTINGS).find(
    (s) => s.topic === topic,
  )!;
  await createTopicsReady(admin, [spec]);
  logger.info('created the dead-letter topic', { topic });
}

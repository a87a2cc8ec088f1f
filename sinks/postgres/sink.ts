import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { loadConnectorSchemas, type AvroSchemaJson } from '../../schemas/avro';
import { silentLogger, type Logger } from '../../kernel/logger';
import type { RetryOptions } from '../../kernel/retry';
import { startSinkConsumer, type SinkConsumer, type SinkHooks } from './consumer';
import { createDeadLetter } from './dead-letter';
import { createDecoder } from './decode';
import { createBatchProcessor, type BatchResult } from './processor';
import type { SchemaSource } from './schema-source';
import { SinkHealthState, type PartitionHealth, type SinkHealthReport } from './health';
import { ensureOffsetsTable, readOffsets } from './offsets';
import { ensureDeadLetterTopic, prepareTable } from './setup';
import { SinkTable } from './table';
import type { TableName } from './sql';

/** Knobs with defaults (DEFAULT_TUNING); units in the names. */
export interface SinkTuning {
  /** Rows per CopyData message sent to the staging table (default 2000). */
  chunkRows: number;
  /** Fetch size per partition in bytes, the upper bound of one transaction (default 1 MiB).
   *  Counted compressed: 1 MiB of gzip'd user records is about 1,400 users, some 20 MB once
   *  decoded, so this bounds the sink's memory when it works through a backlog. */
  maxBytesPerPartition: number;
  /** Partitions written at once, each batch in its own transaction (default 2: one batch is
   *  decoded while another is written; a partition's batches stay in order). */
  partitionsConsumedConcurrently: number;
  /** Consumer group session timeout in ms (default 30000). */
  sessionTimeoutMs: number;
  /** A new group starts at the earliest offset (default true: the users topic holds the state). */
  fromBeginning: boolean;
  /** Backoff for passing failures. Default: unlimited attempts, 200 ms doubling to 10 s, so a
   *  database or registry restart only delays the sink. */
  retry: RetryOptions;
  /** Wait for each batch's commit to be flushed to disk (default false). Off is safe here: the
   *  partition's offset is in the same transaction, so a commit lost in a database crash loses
   *  its offset too and the sink reads the batch from Kafka again (offsets.ts). */
  synchronousCommit: boolean;
  /** The circuit breaker: consecutive failures for one reason (registry, database, dead-letter
   *  topic) before the sink stops with an error saying what to fix (default 60: about 9 minutes
   *  with the default backoff). */
  breakerFailures: number;
  /** Longest a statement of the sink may run, in ms (default 60000): SET LOCAL statement_timeout
   *  in every batch transaction, so a lock held elsewhere or a stalled server fails the batch
   *  (retried from the stored offsets) instead of hanging the partition. */
  statementTimeoutMs: number;
  /** /health turns not ready when there is lag and nothing was committed for this long (default 120000). */
  stallAfterMs: number;
}

export const DEFAULT_TUNING: SinkTuning = {
  chunkRows: 2000,
  maxBytesPerPartition: 1024 * 1024,
  partitionsConsumedConcurrently: 2,
  sessionTimeoutMs: 30_000,
  fromBeginning: true,
  retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 200, maxDelayMs: 10_000 },
  synchronousCommit: true,
  breakerFailures: 60,
  statementTimeoutMs: 60_000,
  stallAfterMs: 120_000,
};

/** Everything the sink needs, built by the caller (fromConfig builds the real ones). */
export interface PostgresSinkDeps {
  kafka: Kafka;
  /** Each batch committed: its latency in seconds (arrival to database commit) and record count. For metrics; must not throw. */
  onBatch?: (batch: { seconds: number; records: number }) => void;
  /** The sink adds an 'error' listener (an idle connection lost in a restart must not crash the process). */
  pool: Pool;
  schemas: SchemaSource;
  topics: { users: string; logins: string; deadLetter: string };
  tables: { users: TableName; logins: TableName };
  groupId: string;
  logger?: Logger;
  /** The schemas tables are created from at start-up (default: the .avsc files this build ships). */
  baseSchemas?: { users: AvroSchemaJson; logins: AvroSchemaJson };
  tuning?: Partial<SinkTuning>;
  hooks?: SinkHooks;
  /** What happens to a removed user's login events (default delete-logins): deleted in the
   *  same transaction as the user's row, or kept. */
  onUserRemoved?: OnUserRemoved;
}

export type OnUserRemoved = 'delete-logins' | 'keep';

export interface SinkStats extends BatchResult {
  batches: number;
}

/**
 * The PostgreSQL sink: a consumer group member that writes each batch in one transaction and
 * commits offsets only after it (see consumer.ts), dead-letters bad records, retries passing
 * failures.
 *  - start(): creates or evolves the tables, creates the dead-letter topic when missing, joins
 *    the group; resolves once consuming. Rejects (FatalError) on bad configuration.
 *  - stop(): leaves the group; an unfinished batch is abandoned uncommitted. Idempotent.
 *  - done: rejects when the sink stopped on its own because of a fatal error (call stop() then,
 *    to release the producer and, with fromConfig, the pool and an embedded database).
 * Passing failures never reject `done`: with the default unlimited retries a database that stays
 * down keeps the sink waiting (and logging each retry), not crashing.
 */
export interface PostgresSink {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly done: Promise<void>;
  stats(): SinkStats;
  /** The truth for /health and the metrics: database reachable, partitions waiting, lag per
   *  partition from the database's offsets, age of the last commit (health.ts). */
  health(): Promise<SinkHealthReport>;
}

export function createPostgresSink(deps: PostgresSinkDeps): PostgresSink {
  const logger = deps.logger ?? silentLogger;
  const tuning: SinkTuning = { ...DEFAULT_TUNING, ...deps.tuning };
  const stats: SinkStats = { batches: 0, records: 0, upserted: 0, inserted: 0, deleted: 0, deadLettered: 0, skipped: 0 };
  const users = new SinkTable('users', deps.tables.users);
  const logins = new SinkTable('logins', deps.tables.logins);
  let consumer: SinkConsumer | undefined;
  let producer: Producer | undefined;
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);
  const onPoolError = (err: Error) => logger.warn('idle database connection lost', { error: err.message });
  const state = new SinkHealthState();
  const tableOf = new Map([[deps.topics.users, users], [deps.topics.logins, logins]]);
  let admin: Admin | undefined;

  return {
    done,
    stats: () => ({ ...stats }),
    async health() {
      const databaseReachable = await probeDatabase(deps.pool);
      const lag: PartitionHealth[] = [];
      for (const [topic, table] of tableOf) {
        const ends = admin ? await admin.fetchTopicOffsets(topic).catch(() => []) : [];
        const stored = databaseReachable ? await readOffsets(deps.pool, table.name, topic).catch(() => undefined) : undefined;
        for (const e of ends) {
          const at = stored ? (stored.get(e.partition) ?? BigInt(e.low)) : undefined;
          lag.push({ topic, partition: e.partition, lag: at === undefined ? Number.NaN : Math.max(0, Number(BigInt(e.high) - at)) });
        }
      }
      return state.report({ databaseReachable, lag, stallAfterMs: tuning.stallAfterMs });
    },
    async start() {
      deps.pool.on('error', onPoolError);
      const base = deps.baseSchemas ?? { users: loadConnectorSchemas().userValue, logins: loadConnectorSchemas().loginEventValue };
      for (const schema of new Set([users.name.schema, logins.name.schema])) await ensureOffsetsTable(deps.pool, schema);
      await prepareTable(deps.pool, users, base.users, deps.topics.users, deps.schemas, logger);
      await prepareTable(deps.pool, logins, base.logins, deps.topics.logins, deps.schemas, logger);
      admin = deps.kafka.admin();
      await admin.connect();
      await ensureDeadLetterTopic(admin, deps.topics.deadLetter, logger);
      producer = deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const processor = createBatchProcessor({
        pool: deps.pool,
        decoder: createDecoder(deps.schemas),
        routes: new Map([[deps.topics.users, users], [deps.topics.logins, logins]]),
        deadLetter: createDeadLetter(producer, deps.topics.deadLetter),
        logger,
        chunkRows: tuning.chunkRows,
        retry: tuning.retry,
        synchronousCommit: tuning.synchronousCommit,
        breakerFailures: tuning.breakerFailures,
        statementTimeoutMs: tuning.statementTimeoutMs,
        loginsOfRemoved: (deps.onUserRemoved ?? 'delete-logins') === 'delete-logins' ? deps.tables.logins : undefined,
        onTrouble: (topic, partition, trouble) => state.setTrouble(topic, partition, trouble),
        hooks: deps.hooks,
      });
      consumer = await startSinkConsumer(deps.kafka, processor, { groupId: deps.groupId, topics: [deps.topics.users, deps.topics.logins], ...tuning }, {
        logger,
        hooks: deps.hooks,
        storedOffset: async (topic, partition) => (await readOffsets(deps.pool, tableOf.get(topic)!.name, topic)).get(partition),
        onBatch: ({ result, seconds }) => {
          deps.onBatch?.({ seconds, records: result.records });
          state.committed();
          stats.batches++;
          for (const k of ['records', 'upserted', 'inserted', 'deleted', 'deadLettered', 'skipped'] as const) stats[k] += result[k];
        },
      });
      consumer.done.then(settle.resolve, settle.reject);
      logger.info('postgres sink started', { groupId: deps.groupId, users: deps.tables.users.name, logins: deps.tables.logins.name });
    },
    async stop() {
      const c = consumer;
      const p = producer;
      consumer = undefined;
      producer = undefined;
      const a = admin;
      admin = undefined;
      await c?.stop();
      await p?.disconnect();
      await a?.disconnect().catch(() => undefined);
      deps.pool.off('error', onPoolError);
      settle.resolve();
    },
  };
}

/** True when the database answers a trivial query within 3 s. */
async function probeDatabase(pool: Pool): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 3000)));
  try {
    return await Promise.race([pool.query('SELECT 1').then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

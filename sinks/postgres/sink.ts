import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { AvroSchemaJson } from '../../schemas/avro';
import { STREAMS, type StreamDeclaration } from '../../schemas/streams';
import type { Logger } from '../../kernel/logger';
import type { RetryOptions } from '../../kernel/retry';
import { createSinkEngine, type SinkRunner, type SinkStats } from '../engine/engine';
import { DEFAULT_MAX_BATCH_BYTES, type SinkHooks } from '../engine/processor';
import { sinkStreams, userRemovalCascades } from '../streams';
import type { SchemaSource } from './schema-source';
import { createPostgresStore } from './store';
import type { TableName } from './sql';

export type { SinkStats };

/** Knobs with defaults (DEFAULT_TUNING); units in the names. */
export interface SinkTuning {
  /** Rows per CopyData message sent to the staging table (default 2000). */
  chunkRows: number;
  /** Fetch size per partition in bytes (default 256 KiB), counted compressed: kafkajs holds a
   *  fetch decompressed until it is written, 10–30 times that for gzip'd users (the sink's peak
   *  memory: 1 MiB made it ~570 MB, 256 KiB ~370 MB, 64 KiB ~280 MB at the same speed within
   *  the noise, bench/sink.ts --tunings, docs/performance-s4-sink.md). Not below the largest
   *  compressed record batch the connector writes (publisher.batchSize 500 users: ~20–120 KB):
   *  a batch larger than the fetch size is returned only for the first partition of a fetch
   *  request, and kafkajs lists partitions in a fixed order, so the other partitions (logins)
   *  would wait until it caught up. Transactions are bounded by maxBatchBytes instead. */
  maxBytesPerPartition: number;
  /** Most bytes of records (keys + values, decompressed) in one transaction (default 4 MiB): a
   *  fetch holding more (gzip'd records decompress several times over) is written in several
   *  transactions, each with its offset. Bounds the sink's memory and its transactions. */
  maxBatchBytes: number;
  /** While live, the broker answers a fetch once it holds this many bytes (compressed) for it, or
   *  after fetchMaxWaitMs (default 256 KiB; 1: at once, kafkajs's default). With 1, a first run
   *  with the sink already up (the compose stack's order) went in transactions of ~200-370 rows,
   *  one per producer send: each with its offset row, key probe, COPY and commit. A backlog's fetch
   *  is full at once and never waits. At most maxBytesPerPartition: one partition's fetch returns no
   *  more, so a larger minimum holds every fetch of a one-partition backlog for fetchMaxWaitMs (1 MiB
   *  left the sink 37 s behind a 100k first run). docs/performance-s14-live.md. */
  fetchMinBytes: number;
  /** The longest a live fetch waits for fetchMinBytes, in ms (default 500): the latency this adds
   *  to a record that arrives alone. */
  fetchMaxWaitMs: number;
  /** A table fresh at start-up (empty, no stored offset) whose topic is empty too (the sink up
   *  before the connector's first run) is loaded in bulk as the run's records arrive: COPY without
   *  the key probe, secondary indexes built once at the end, as from a backlog. The load ends when
   *  nothing was written for this many ms (default 5000), or at the first record whose key the table
   *  holds already, or after liveLoadMaxMs (sinks/postgres/bulk.ts, a live load). The tables lack
   *  their secondary indexes until then, as during a backlog's bulk load. Only on the sink's first
   *  start: none of its tables has a stored offset. docs/performance-s14-live.md. */
  liveLoadIdleMs: number;
  /** A live load ends at the latest this many ms after its first write (default 1800000, 30 min),
   *  even if records never stop coming (a steady trickle of new keys): the tables get their
   *  indexes, and what follows takes the normal path. Ending early costs speed only. */
  liveLoadMaxMs: number;
  /** Partitions written at once, each batch in its own transaction (default 2: one batch is
   *  decoded while another is written; a partition's batches stay in order). The next fetch
   *  runs while they are written (sinks/engine/consumer.ts, write-behind). */
  partitionsConsumedConcurrently: number;
  /** Consumer group session timeout in ms (default 30000). */
  sessionTimeoutMs: number;
  /** A new group starts at the earliest offset (default true: the users topic holds the state). */
  fromBeginning: boolean;
  /** Backoff for passing failures. Default: unlimited attempts, 200 ms doubling to 10 s, so a
   *  database or registry restart only delays the sink. */
  retry: RetryOptions;
  /** Wait for each batch's commit to be flushed to disk (default true). A commit lost in a
   *  database crash loses its offset too (same transaction), but a sink that rides out the crash
   *  on its retries does not rejoin, so it never seeks back to the stored offsets and would skip
   *  what the crash lost (sinks/README.md "Exactly once"). Off only where that is acceptable. */
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
  maxBytesPerPartition: 256 * 1024,
  maxBatchBytes: DEFAULT_MAX_BATCH_BYTES,
  fetchMinBytes: 256 * 1024,
  fetchMaxWaitMs: 500,
  liveLoadIdleMs: 5000,
  liveLoadMaxMs: 30 * 60_000,
  partitionsConsumedConcurrently: 2,
  sessionTimeoutMs: 30_000,
  fromBeginning: true,
  retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 200, maxDelayMs: 10_000 },
  synchronousCommit: true,
  breakerFailures: 60,
  statementTimeoutMs: 60_000,
  stallAfterMs: 120_000,
};

/**
 * Everything the sink needs, built by the caller (fromConfig builds the real ones). Topics and
 * tables are keyed by stream name (schemas/streams: users, logins, and whatever else is declared);
 * a stream without an entry uses its declaration's topic and table (in the users table's schema).
 */
export interface PostgresSinkDeps {
  kafka: Kafka;
  /** Each batch committed: its latency in seconds (arrival to database commit) and record count.
   *  For metrics; must not throw. */
  onBatch?: (batch: { seconds: number; records: number }) => void;
  /** The sink adds an 'error' listener (an idle connection lost in a restart must not crash the process). */
  pool: Pool;
  schemas: SchemaSource;
  topics: { deadLetter: string } & Partial<Record<string, string>>;
  tables: Partial<Record<string, TableName>>;
  groupId: string;
  logger?: Logger;
  /** The streams to sink (default: every declared stream, schemas/streams STREAMS). */
  streams?: readonly StreamDeclaration[];
  /** The schemas tables are created from at start-up, by stream name (default: the .avsc files this build ships). */
  baseSchemas?: Partial<Record<string, AvroSchemaJson>>;
  tuning?: Partial<SinkTuning>;
  hooks?: SinkHooks;
  /** What happens to a removed user's login events (default delete-logins): deleted in the
   *  same transaction as the user's row, or kept. */
  onUserRemoved?: OnUserRemoved;
}

export const ON_USER_REMOVED = ['delete-logins', 'keep'] as const;
export type OnUserRemoved = (typeof ON_USER_REMOVED)[number];
export const DEFAULT_ON_USER_REMOVED: OnUserRemoved = 'delete-logins';

/** The PostgreSQL sink: the generic engine (engine/engine.ts) over the PostgreSQL store (store.ts). */
export type PostgresSink = SinkRunner;

/** The declared streams with the deps' topics, tables and options applied. */
export function postgresSinkStreams(deps: Omit<PostgresSinkDeps, 'kafka' | 'pool' | 'schemas' | 'groupId'>) {
  const { deadLetter: _deadLetter, ...topics } = deps.topics;
  return sinkStreams(deps.streams ?? STREAMS, {
    topics,
    tables: deps.tables,
    schema: deps.tables.users?.schema ?? Object.values(deps.tables).find((t) => t !== undefined)?.schema,
    baseSchemas: deps.baseSchemas,
    cascades: userRemovalCascades(deps.onUserRemoved ?? 'delete-logins'),
  });
}

export function createPostgresSink(deps: PostgresSinkDeps): PostgresSink {
  const given: SinkTuning = { ...DEFAULT_TUNING, ...deps.tuning };
  // One partition's fetch returns at most maxBytesPerPartition: a larger minimum would hold every
  // fetch of a one-partition backlog for fetchMaxWaitMs. The default follows a smaller fetch size
  // (a configuration from before fetchMinBytes keeps its behaviour); config.ts refuses a larger one given.
  const tuning: SinkTuning = { ...given, fetchMinBytes: Math.min(given.fetchMinBytes, given.maxBytesPerPartition) };
  const store = createPostgresStore({
    pool: deps.pool,
    chunkRows: tuning.chunkRows,
    synchronousCommit: tuning.synchronousCommit,
    statementTimeoutMs: tuning.statementTimeoutMs,
    logger: deps.logger,
    liveLoadIdleMs: tuning.liveLoadIdleMs,
    liveLoadMaxMs: tuning.liveLoadMaxMs,
  });
  return createSinkEngine({
    kafka: deps.kafka,
    sink: store,
    streams: postgresSinkStreams(deps),
    schemas: deps.schemas,
    deadLetterTopic: deps.topics.deadLetter,
    groupId: deps.groupId,
    tuning,
    logger: deps.logger,
    hooks: deps.hooks,
    onBatch: deps.onBatch,
  });
}

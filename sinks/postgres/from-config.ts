import { Pool } from 'pg';
import { silentLogger, type Logger } from '../../kernel/logger';
import { createKafka } from '../../kafka/client';
import { resolveSinkConfig, type PostgresSinkConfig, type ResolvedSinkConfig } from './config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded';
import { replay, type ReplayDeps, type ReplayResult } from './replay';
import { registrySchemaSource } from './schema-source';
import { createPostgresSink, type PostgresSink, type PostgresSinkDeps, type SinkStats } from './sink';

/** The database a configured sink uses: the configured URL, or an embedded server it owns. */
interface Database {
  pool: Pool;
  close(): Promise<void>;
}

async function openDatabase(config: ResolvedSinkConfig, logger: Logger): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let url: string;
  if ('url' in config.database) {
    url = config.database.url;
  } else {
    logger.info('no database URL configured: using the embedded PostgreSQL', {
      dataDir: config.database.embedded.dataDir,
    });
    embedded = await startEmbeddedPostgres({ ...config.database.embedded, logger });
    url = embedded.url;
  }
  const pool = new Pool({
    connectionString: url,
    max: config.poolSize,
    connectionTimeoutMillis: 10_000,
    // TCP keep-alive: a connection whose server vanished (a network cut, a failover) fails its
    // query instead of waiting forever; the batch is then retried from the stored offsets.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // Server-side cap for every statement (batches also SET LOCAL it), and a client-side one
    // a little later for when the server cannot even answer.
    statement_timeout: config.tuning.statementTimeoutMs,
    query_timeout: config.tuning.statementTimeoutMs + 15_000,
  });
  // The pool is ours to the end: a connection the server closes while the pool is ending (an
  // embedded server stopping right after) must not become an unhandled 'error' event.
  pool.on('error', () => undefined);
  return {
    pool,
    async close() {
      await pool.end().catch(() => undefined);
      await embedded?.stop();
    },
  };
}

/**
 * The sink built from configuration: validates it at once (FatalError CONFIG_INVALID), and on
 * start() opens the database (starting the embedded one when no URL is configured), the Kafka
 * client and the registry source. stop() stops the sink, closes the pool and stops the
 * embedded database, in that order.
 */
export function fromConfig(
  raw: PostgresSinkConfig,
  opts: { logger?: Logger; onBatch?: PostgresSinkDeps['onBatch'] } = {},
): PostgresSink {
  const config = resolveSinkConfig(raw);
  const logger = opts.logger ?? silentLogger;
  let db: Database | undefined;
  let sink: PostgresSink | undefined;
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);
  const empty: SinkStats = {
    batches: 0,
    records: 0,
    upserted: 0,
    inserted: 0,
    deleted: 0,
    deadLettered: 0,
    skipped: 0,
  };
  const stop = async () => {
    await sink?.stop();
    await db?.close();
    sink = undefined;
    db = undefined;
    settle.resolve();
  };
  return {
    done,
    stats: () => sink?.stats() ?? empty,
    health: async () =>
      sink
        ? sink.health()
        : {
            ready: false,
            reasons: ['the sink is not running'],
            databaseReachable: false,
            lastCommitAgeMs: 0,
            partitions: [],
          },
    async start() {
      db = await openDatabase(config, logger);
      sink = createPostgresSink({ ...sinkDeps(config, db.pool, logger), onBatch: opts.onBatch });
      sink.done.then(settle.resolve, settle.reject);
      try {
        await sink.start();
      } catch (err) {
        await stop().catch(() => undefined);
        throw err;
      }
    },
    stop,
  };
}

/** Replay for backfill (replay.ts) with the configured Kafka, registry, database and tables. */
export async function replayFromConfig(
  raw: PostgresSinkConfig,
  opts: Pick<ReplayDeps, 'only' | 'onProgress' | 'progressIntervalMs'> & { logger?: Logger } = {},
): Promise<ReplayResult> {
  const config = resolveSinkConfig(raw);
  const logger = opts.logger ?? silentLogger;
  const db = await openDatabase(config, logger);
  try {
    return await replay({ ...sinkDeps(config, db.pool, logger), ...opts });
  } finally {
    await db.close();
  }
}

/** The real dependencies of the sink (and of replay) from a resolved config. */
function sinkDeps(config: ResolvedSinkConfig, pool: Pool, logger: Logger): PostgresSinkDeps {
  return {
    kafka: createKafka(config.kafka, logger),
    pool,
    schemas: registrySchemaSource(config.registry),
    topics: { ...config.streamTopics, ...config.topics },
    tables: config.tables,
    groupId: config.groupId,
    logger,
    tuning: config.tuning,
    onUserRemoved: config.onUserRemoved,
  };
}

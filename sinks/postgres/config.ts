import { z } from 'zod';
import { checkEach, ConfigError, Issues } from '../../kernel/config-issues';
import type { KafkaOptions } from '../../kafka/options';
import { DEFAULT_TOPICS } from '../../schemas/topics';
import type { RegistryConfig } from '../../schemas/registry';
import { defaultEmbeddedDataDir } from './embedded';
import { DEFAULT_ON_USER_REMOVED, DEFAULT_TUNING, ON_USER_REMOVED, type OnUserRemoved, type SinkTuning } from './sink';
import { checkTableName, MAX_IDENTIFIER, type TableName } from './sql';

/** The sink's options as a user writes them. Only kafka and registry are required. */
export interface PostgresSinkConfig {
  kafka: KafkaOptions;
  registry: RegistryConfig;
  /** postgres://user:password@host:port/db. Absent or empty: an embedded PostgreSQL. */
  databaseUrl?: string;
  /**
   * The embedded server, when no databaseUrl: data directory (default defaultEmbeddedDataDir()) and port
   * (default: a free one).
   */
  embedded?: { dataDir?: string; port?: number };
  /** Source and dead-letter topics (defaults: DEFAULT_TOPICS). */
  topics?: { users?: string; logins?: string; deadLetter?: string; streams?: Readonly<Record<string, string>> };
  /** Tables (defaults: public.neurons_users, public.neurons_login_events). */
  tables?: { schema?: string; users?: string; logins?: string };
  /** Consumer group (default neurons-postgres-sink). */
  groupId?: string;
  /** Database connections (default 4). */
  poolSize?: number;
  tuning?: Partial<SinkTuning>;
  /** A removed user's login events: delete-logins (default) or keep. */
  onUserRemoved?: OnUserRemoved;
}

export interface ResolvedSinkConfig {
  kafka: KafkaOptions;
  registry: RegistryConfig;
  database: { url: string } | { embedded: { dataDir: string; port?: number } };
  topics: { users: string; logins: string; deadLetter: string };
  /** Topics of the other declared streams, by stream name (absent: the declaration's default). */
  streamTopics: Readonly<Record<string, string>>;
  tables: { users: TableName; logins: TableName };
  groupId: string;
  poolSize: number;
  tuning: SinkTuning;
  onUserRemoved: OnUserRemoved;
}

export const DEFAULT_SINK_GROUP = 'neurons-postgres-sink';
export const DEFAULT_TABLES = { schema: 'public', users: 'neurons_users', logins: 'neurons_login_events' } as const;
export const DEFAULT_POOL_SIZE = 4;

/** A whole number from `min`; every failure (type, fraction, range) reads as the one fix. */
const whole = (fix: string, min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z.number({ error: fix }).int({ error: fix }).min(min, { error: fix }).max(max, { error: fix });
const topic = z
  .string({ error: 'give a topic name' })
  .regex(/^[a-zA-Z0-9._-]{1,249}$/, { error: 'a Kafka topic name is 1-249 characters of letters, digits, . _ -' });
const tableName = z
  .string({ error: 'give a table name' })
  .refine((s) => s.length > 0 && Buffer.byteLength(s) <= MAX_IDENTIFIER, {
    error: `a table name is 1-${MAX_IDENTIFIER} bytes`,
  });
const TUNED = [
  'chunkRows',
  'maxBytesPerPartition',
  'maxBatchBytes',
  'partitionsConsumedConcurrently',
  'sessionTimeoutMs',
  'statementTimeoutMs',
  'breakerFailures',
  'stallAfterMs',
  'fetchMinBytes',
  'fetchMaxWaitMs',
  'liveLoadIdleMs',
  'liveLoadMaxMs',
] as const;

/**
 * The sink's options, each with its fix and its default (defined here only; the config file's
 * schema, pipeline/config/schema-services.ts, takes them from these constants). Checked option by
 * option (kernel/config-issues.ts checkEach), so every mistake is reported at once.
 */
const SINK_SHAPE = {
  kafka: z.looseObject({
    brokers: z
      .array(z.string().regex(/^[^:\s]+:\d+$/, { error: 'give at least one broker as host:port' }), {
        error: 'give at least one broker as host:port',
      })
      .min(1, { error: 'give at least one broker as host:port' }),
    clientId: z.string({ error: 'give a client id' }).min(1, { error: 'give a client id' }),
  }),
  registry: z.looseObject({
    url: z.string({ error: 'give the registry URL' }).regex(/^https?:\/\/\S+$/, {
      error: 'give the registry URL, e.g. http://localhost:8081 (Apicurio: http://host:8080/apis/ccompat/v7)',
    }),
  }),
  databaseUrl: z
    .string()
    .refine((s) => s === '' || /^postgres(ql)?:\/\/\S+$/.test(s), {
      error: 'use postgres://user:password@host:port/database, or leave it empty for the embedded database',
    })
    .optional(),
  embedded: z
    .object({
      dataDir: z.string().optional(),
      port: whole('give a TCP port 1-65535, or leave it out for a free one', 1, 65535).optional(),
    })
    .optional(),
  topics: z
    .object({
      users: topic.default(DEFAULT_TOPICS.users),
      logins: topic.default(DEFAULT_TOPICS.logins),
      deadLetter: topic.default(DEFAULT_TOPICS.deadLetter),
      streams: z.record(z.string(), topic).default({}),
    })
    .default({
      users: DEFAULT_TOPICS.users,
      logins: DEFAULT_TOPICS.logins,
      deadLetter: DEFAULT_TOPICS.deadLetter,
      streams: {},
    }),
  tables: z
    .object({
      schema: tableName.default(DEFAULT_TABLES.schema),
      users: tableName.default(DEFAULT_TABLES.users),
      logins: tableName.default(DEFAULT_TABLES.logins),
    })
    .default(DEFAULT_TABLES),
  groupId: z.string({ error: 'give a consumer group id' }).optional(),
  poolSize: whole('give a whole number of connections, at least 1').default(DEFAULT_POOL_SIZE),
  // The other knobs (backoff, fromBeginning) are the caller's code, not a user's text: taken as given.
  tuning: z
    .looseObject({
      ...Object.fromEntries(TUNED.map((k) => [k, whole('give a whole number, at least 1').optional()])),
      synchronousCommit: z.boolean({ error: 'give true or false' }).optional(),
    })
    .default({}),
  onUserRemoved: z
    .enum(ON_USER_REMOVED, { error: 'give delete-logins (the default) or keep' })
    .default(DEFAULT_ON_USER_REMOVED),
};

/**
 * Validates the options once, at start-up, and fills in the defaults. Throws a ConfigError
 * (FatalError CONFIG_INVALID) listing every problem, each naming the option and the fix; a
 * secret (the database URL) is never shown.
 */
export function resolveSinkConfig(raw: PostgresSinkConfig): ResolvedSinkConfig {
  const issues = new Issues();
  const v = checkEach(SINK_SHAPE, (raw ?? {}) as unknown as Record<string, unknown>, issues, {
    secret: ['databaseUrl', 'kafka.sasl', 'kafka.ssl', 'registry.auth'],
  });
  // Checks across options, on the options that passed their own check.
  if (v.topics && new Set([v.topics.users, v.topics.logins, v.topics.deadLetter]).size !== 3)
    issues.add('topics', 'users, logins and deadLetter must be three different topics', {
      value: { users: v.topics.users, logins: v.topics.logins, deadLetter: v.topics.deadLetter },
    });
  if (v.tables && v.tables.users === v.tables.logins)
    issues.add('tables', 'users and logins must be different tables', { value: v.tables.users });
  const tuning = { ...DEFAULT_TUNING, ...(v.tuning as Partial<SinkTuning>) } as SinkTuning;
  if (v.poolSize !== undefined && v.tuning && v.poolSize < tuning.partitionsConsumedConcurrently)
    issues.add(
      'poolSize',
      `give at least tuning.partitionsConsumedConcurrently (${tuning.partitionsConsumedConcurrently}) connections`,
      { value: v.poolSize },
    );
  // One partition's fetch returns at most maxBytesPerPartition: a larger minimum would hold every
  // fetch of a one-partition backlog for fetchMaxWaitMs (measured: 1 MiB with 256 KiB partitions left
  // the sink 37 s behind a 100k first run, docs/performance-s14-live.md).
  const givenTuning = (v.tuning ?? {}) as Partial<SinkTuning>;
  if (givenTuning.fetchMinBytes !== undefined && tuning.fetchMinBytes > tuning.maxBytesPerPartition)
    issues.add(
      'tuning.fetchMinBytes',
      `give at most tuning.maxBytesPerPartition (${tuning.maxBytesPerPartition}): ` +
        'a fetch of one partition returns no more',
      { value: tuning.fetchMinBytes },
    );
  // kafkajs heartbeats between fetches: a live fetch that waits near the session timeout gets an
  // idle member evicted (a rebalance at every quiet fetch), and stop() waits as long.
  if (v.tuning && tuning.fetchMaxWaitMs > Math.floor(tuning.sessionTimeoutMs / 3))
    issues.add(
      'tuning.fetchMaxWaitMs',
      `give at most a third of tuning.sessionTimeoutMs (${Math.floor(tuning.sessionTimeoutMs / 3)} ms): ` +
        'the group heartbeats between fetches',
      { value: tuning.fetchMaxWaitMs },
    );
  if (issues.list.length > 0) throw new ConfigError('sink config', issues.list);

  const { topics, tables } = v as Required<typeof v>;
  const database: ResolvedSinkConfig['database'] = raw.databaseUrl
    ? { url: raw.databaseUrl }
    : { embedded: { dataDir: v.embedded?.dataDir || defaultEmbeddedDataDir(), port: v.embedded?.port } };
  return {
    kafka: raw.kafka,
    registry: raw.registry,
    database,
    topics: { users: topics.users, logins: topics.logins, deadLetter: topics.deadLetter },
    streamTopics: topics.streams,
    tables: {
      users: checkTableName({ schema: tables.schema, name: tables.users }, 'sink config: tables.users'),
      logins: checkTableName({ schema: tables.schema, name: tables.logins }, 'sink config: tables.logins'),
    },
    groupId: v.groupId || DEFAULT_SINK_GROUP,
    poolSize: v.poolSize!,
    tuning,
    onUserRemoved: v.onUserRemoved!,
  };
}

import { FatalError } from '../../kernel/errors';
import type { KafkaOptions } from '../../kafka/options';
import { DEFAULT_TOPICS } from '../../schemas/topics';
import type { RegistryConfig } from '../../schemas/registry';
import { defaultEmbeddedDataDir } from './embedded';
import { DEFAULT_TUNING, type OnUserRemoved, type SinkTuning } from './sink';
import { checkTableName, type TableName } from './sql';

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

/**
 * Validates the options once, at start-up, and fills in the defaults. Throws a FatalError
 * (CONFIG_INVALID) naming the option and the fix; secrets are never part of the message.
 */
export function resolveSinkConfig(raw: PostgresSinkConfig): ResolvedSinkConfig {
  const bad = (field: string, fix: string): never => {
    throw new FatalError('CONFIG_INVALID', `sink config: ${field}: ${fix}`);
  };
  if (!raw.kafka?.brokers?.length || raw.kafka.brokers.some((b) => !/^[^:\s]+:\d+$/.test(b)))
    bad('kafka.brokers', 'give at least one broker as host:port');
  if (!raw.kafka.clientId) bad('kafka.clientId', 'give a client id');
  if (!/^https?:\/\/\S+$/.test(raw.registry?.url ?? ''))
    bad(
      'registry.url',
      'give the registry URL, e.g. http://localhost:8081 (Apicurio: http://host:8080/apis/ccompat/v7)',
    );
  let database: ResolvedSinkConfig['database'];
  if (raw.databaseUrl) {
    if (!/^postgres(ql)?:\/\/\S+$/.test(raw.databaseUrl))
      bad(
        'databaseUrl',
        'use postgres://user:password@host:port/database, or leave it empty for the embedded database',
      );
    database = { url: raw.databaseUrl };
  } else {
    const port = raw.embedded?.port;
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))
      bad('embedded.port', 'give a TCP port 1-65535, or leave it out for a free one');
    database = { embedded: { dataDir: raw.embedded?.dataDir || defaultEmbeddedDataDir(), port } };
  }
  const topics = {
    users: raw.topics?.users ?? DEFAULT_TOPICS.users,
    logins: raw.topics?.logins ?? DEFAULT_TOPICS.logins,
    deadLetter: raw.topics?.deadLetter ?? DEFAULT_TOPICS.deadLetter,
  };
  for (const [k, v] of Object.entries(topics))
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(v))
      bad(`topics.${k}`, 'a Kafka topic name is 1-249 characters of letters, digits, . _ -');
  if (new Set(Object.values(topics)).size !== 3)
    bad('topics', 'users, logins and deadLetter must be three different topics');
  const schema = raw.tables?.schema ?? DEFAULT_TABLES.schema;
  const tables = {
    users: checkTableName({ schema, name: raw.tables?.users ?? DEFAULT_TABLES.users }, 'sink config: tables.users'),
    logins: checkTableName({ schema, name: raw.tables?.logins ?? DEFAULT_TABLES.logins }, 'sink config: tables.logins'),
  };
  if (tables.users.name === tables.logins.name) bad('tables', 'users and logins must be different tables');
  const poolSize = raw.poolSize ?? 4;
  if (!Number.isInteger(poolSize) || poolSize < 1) bad('poolSize', 'give a whole number of connections, at least 1');
  const tuning = { ...DEFAULT_TUNING, ...raw.tuning };
  for (const k of [
    'chunkRows',
    'maxBytesPerPartition',
    'partitionsConsumedConcurrently',
    'sessionTimeoutMs',
    'statementTimeoutMs',
    'breakerFailures',
    'stallAfterMs',
  ] as const) {
    if (!Number.isInteger(tuning[k]) || tuning[k] < 1) bad(`tuning.${k}`, 'give a whole number, at least 1');
  }
  if (typeof tuning.synchronousCommit !== 'boolean') bad('tuning.synchronousCommit', 'give true or false');
  const onUserRemoved = raw.onUserRemoved ?? 'delete-logins';
  if (onUserRemoved !== 'delete-logins' && onUserRemoved !== 'keep')
    bad('onUserRemoved', 'give delete-logins (the default) or keep');
  if (poolSize < tuning.partitionsConsumedConcurrently)
    bad(
      'poolSize',
      `give at least tuning.partitionsConsumedConcurrently (${tuning.partitionsConsumedConcurrently}) connections`,
    );
  const streamTopics = raw.topics?.streams ?? {};
  return {
    kafka: raw.kafka,
    registry: raw.registry,
    database,
    topics,
    streamTopics,
    tables,
    groupId: raw.groupId || DEFAULT_SINK_GROUP,
    poolSize,
    tuning,
    onUserRemoved,
  };
}

import { z } from 'zod';
import { DEFAULT_SINK_GROUP, DEFAULT_TABLES } from '../../sinks/postgres/config';
import { DEFAULT_ON_USER_REMOVED, DEFAULT_TUNING, ON_USER_REMOVED } from '../../sinks/postgres/sink';
import { DEFAULT_DELETION_GUARD } from '../guard';
import { DEFAULT_TOMBSTONE_RETENTION_MS, DEFAULT_TOPIC_SETTINGS, DEFAULT_TOPICS } from '../../schemas/topics';
import { GENERIC_STREAMS } from '../../schemas/streams/generic';
import { DEFAULT_PUBLISHER } from '../kafka/publisher';
import { DEFAULT_RETRY } from '../schedule/retry';
import { bool, group, list, num, oneOf, secret, str, tlsOrBool } from './options';

/** Kafka, registry, topics, guard, publisher, database, sink, metrics, retries: options of both roles' files. */
const DAY_MS = 86_400_000;
const TOPIC = { pattern: /^[a-zA-Z0-9._-]{1,249}$/, allowed: '1-249 letters, digits, . _ -' };
const IDENT = { pattern: /^[a-z_][a-z0-9_]{0,62}$/, allowed: 'a lower-case SQL identifier: letters, digits, _' };

const kafka = group(
  {
    brokers: list({
      required: true,
      item: z.string().regex(/^[^\s:/]+:\d{1,5}$/, { error: 'has an entry that is not host:port' }),
      min: 1,
      entryProblem: 'has an entry that is not host:port',
      allowed: 'a list of host:port',
      doc: 'bootstrap brokers',
      example: 'kafka-1.example.com:9093',
    }),
    clientId: str({ doc: 'Kafka client id', shownDefault: 'sf-neurons-<connectorName>' }),
    tls: tlsOrBool(
      {
        caFile: str({ doc: 'PEM of a private CA' }),
        certFile: str({ doc: 'client certificate (PEM)' }),
        ...secret('key', { what: 'the client key (PEM)', doc: 'client key (PEM)' }),
        rejectUnauthorized: bool({ default: true, doc: 'false turns certificate checks off (warned at every start)' }),
      },
      { doc: 'true (a SASL_SSL or SSL listener), or the PEM files', shownDefault: 'false' },
    ),
    sasl: group(
      {
        mechanism: oneOf(['plain', 'scram-sha-256', 'scram-sha-512'], { required: true, doc: 'SASL mechanism' }),
        username: str({ required: true, doc: 'SASL user' }),
        ...secret('password', { what: 'a secret', doc: 'SASL password' }),
      },
      { doc: 'SASL login', whenGiven: true },
    ),
  },
  { doc: 'the Kafka cluster' },
);

export const SERVICE_OPTIONS = {
  kafka,
  registry: group(
    {
      url: str({
        required: true,
        pattern: /^https?:\/\/\S+$/,
        allowed: 'http(s)://host:port[/path], e.g. http://registry:8080/apis/ccompat/v7 for Apicurio',
        doc: 'Confluent-compatible schema registry',
        example: 'https://registry.example.com/apis/ccompat/v7',
      }),
      username: str({ doc: 'basic-auth user' }),
      ...secret('password', { what: 'a secret', doc: 'basic-auth password' }),
    },
    { doc: 'the schema registry' },
  ),
  topics: group(
    {
      users: str({
        ...TOPIC,
        default: DEFAULT_TOPICS.users,
        doc: 'compacted: one record per user, tombstones on removal',
      }),
      loginHistory: str({ ...TOPIC, default: DEFAULT_TOPICS.logins, doc: 'login events, time-retained' }),
      state: str({ ...TOPIC, default: DEFAULT_TOPICS.state, doc: 'run state and lock (compacted)' }),
      deadLetter: str({ ...TOPIC, default: DEFAULT_TOPICS.deadLetter, doc: 'records that could not be mapped' }),
      streams: group(
        Object.fromEntries(
          GENERIC_STREAMS.map((d) => [
            d.name,
            str({ ...TOPIC, doc: `${d.object} records (default ${d.topic.defaultName}; docs/streams.md)` }),
          ]),
        ),
        { doc: 'topics of the other declared streams, by stream name' },
      ),
    },
    { doc: 'topic names (four different ones)' },
  ),
  topicSettings: group(
    {
      partitions: num({
        min: 1,
        max: 1000,
        int: true,
        default: DEFAULT_TOPIC_SETTINGS.partitions,
        doc: 'partitions of topics the connector creates',
      }),
      replicationFactor: num({
        min: 1,
        max: 32,
        int: true,
        doc: 'replication of created topics',
        shownDefault: "the broker's",
      }),
      loginHistoryRetentionDays: num({
        min: 1,
        max: 36_500,
        int: true,
        default: DEFAULT_TOPIC_SETTINGS.loginRetentionMs / DAY_MS,
        doc: 'retention of the login-history topic',
      }),
      tombstoneRetentionDays: num({
        min: 1,
        max: 36_500,
        int: true,
        default: DEFAULT_TOMBSTONE_RETENTION_MS / DAY_MS,
        doc: 'how long the users topic keeps tombstones',
      }),
    },
    { doc: 'settings of the topics the connector creates' },
  ),
  deletionGuard: group(
    {
      maxShare: num({
        min: 0,
        max: 1,
        default: DEFAULT_DELETION_GUARD.maxShare,
        doc: 'a run never deletes more than this share of the users…',
      }),
      alwaysAllowUpTo: num({
        min: 0,
        max: 100_000_000,
        int: true,
        default: DEFAULT_DELETION_GUARD.alwaysAllowUpTo,
        doc: '…unless it deletes this many or fewer',
      }),
      maxCount: num({ min: 0, max: 100_000_000, int: true, doc: 'and never more than this many', example: '500' }),
      override: bool({
        default: false,
        doc: 'never true here: one run passes with connector sync --allow-mass-delete',
        refuse: {
          value: true,
          problem: 'cannot be true in the config file: it would let every run through the guard',
          allowed: 'false; let one run through with connector sync --allow-mass-delete',
        },
      }),
    },
    { doc: 'the mass-deletion guard' },
  ),
  publisher: group(
    {
      batchSize: num({
        min: 1,
        max: 100_000,
        int: true,
        default: DEFAULT_PUBLISHER.batchSize,
        doc: 'records per producer send',
      }),
      maxInFlight: num({ min: 1, max: 64, int: true, default: DEFAULT_PUBLISHER.maxInFlight, doc: 'sends in flight' }),
      compression: oneOf(['gzip', 'zstd', 'none'], {
        default: DEFAULT_PUBLISHER.compression as 'gzip',
        doc: 'record compression (zstd: Node 22.15+; a kafkajs consumer needs a zstd codec, docs/consumers.md)',
      }),
      lingerMs: num({
        min: 0,
        max: 60_000,
        int: true,
        default: DEFAULT_PUBLISHER.lingerMs,
        doc: 'wait for a fuller batch',
      }),
    },
    { doc: 'the Kafka producer' },
  ),
  database: group(
    {
      ...secret('url', {
        role: 'sink',
        what: 'postgres://user:password@host:port/database',
        doc: "the sink's PostgreSQL (a secret: it holds the password); absent: an embedded PostgreSQL",
      }),
      embeddedDataDir: str({
        role: 'sink',
        doc: 'data directory of the embedded PostgreSQL',
        shownDefault: 'a directory per user',
      }),
    },
    { role: 'sink', doc: "the sink's database (never read by the connector)" },
  ),
  sink: group(
    {
      groupId: str({ doc: 'consumer group', shownDefault: DEFAULT_SINK_GROUP }),
      tableSchema: str({ ...IDENT, doc: 'schema of the tables', shownDefault: DEFAULT_TABLES.schema }),
      usersTable: str({ ...IDENT, doc: 'users table', shownDefault: DEFAULT_TABLES.users }),
      loginHistoryTable: str({ ...IDENT, doc: 'login events table', shownDefault: DEFAULT_TABLES.logins }),
      onUserRemoved: oneOf(ON_USER_REMOVED, {
        default: DEFAULT_ON_USER_REMOVED,
        doc: "a removed user's login events: deleted with the user, or kept",
      }),
      synchronousCommit: bool({
        default: DEFAULT_TUNING.synchronousCommit,
        doc: 'false: faster commits that a database crash may lose (replayed from Kafka)',
      }),
      statementTimeoutMs: num({
        min: 100,
        max: 3_600_000,
        int: true,
        default: DEFAULT_TUNING.statementTimeoutMs,
        doc: 'limit of one SQL statement',
      }),
      breakerFailures: num({
        min: 1,
        max: 1_000_000,
        int: true,
        default: DEFAULT_TUNING.breakerFailures,
        doc: 'consecutive failed batches before the sink stops',
      }),
      stallAfterMs: num({
        min: 1000,
        max: DAY_MS,
        int: true,
        default: DEFAULT_TUNING.stallAfterMs,
        doc: 'no progress with lag for this long: the sink reports itself stalled',
      }),
      fetchMinBytes: num({
        min: 1,
        max: DEFAULT_TUNING.maxBytesPerPartition,
        int: true,
        default: DEFAULT_TUNING.fetchMinBytes,
        doc:
          'while live, a fetch returns once the broker holds this many bytes for it ' +
          "(fewer, larger transactions); at most one partition's fetch size",
      }),
      fetchMaxWaitMs: num({
        min: 1,
        max: Math.floor(DEFAULT_TUNING.sessionTimeoutMs / 3),
        int: true,
        default: DEFAULT_TUNING.fetchMaxWaitMs,
        doc: 'the longest a live fetch waits for fetchMinBytes: the latency added to a record that arrives alone',
      }),
      liveLoadIdleMs: num({
        min: 100,
        max: DAY_MS,
        int: true,
        default: DEFAULT_TUNING.liveLoadIdleMs,
        doc:
          "the sink's first load, when it is up before the first run, ends after this long with nothing " +
          'written: the tables then get their secondary indexes',
      }),
      liveLoadMaxMs: num({
        min: 1000,
        max: DAY_MS,
        int: true,
        default: DEFAULT_TUNING.liveLoadMaxMs,
        doc: "the latest the sink's first load ends after its first write, even if records never stop coming",
      }),
    },
    { doc: 'the PostgreSQL sink' },
  ),
  metrics: group(
    {
      host: str({ default: '127.0.0.1', doc: 'listen address of /metrics and /health', example: '0.0.0.0' }),
      port: num({
        min: 0,
        max: 65_535,
        int: true,
        doc: 'port of /metrics and /health; 0 = any free port; --metrics-port overrides',
        shownDefault: 'off',
        example: '9464',
      }),
    },
    { doc: 'the Prometheus and health endpoint' },
  ),
  runRetries: group(
    {
      retries: num({
        min: 0,
        max: 20,
        int: true,
        default: DEFAULT_RETRY.retries,
        doc: 'retries of a failed scheduled run within its slot; 0 = off',
      }),
      initialDelayMinutes: num({
        min: 0.1,
        max: 1440,
        default: DEFAULT_RETRY.initialDelayMs / 60_000,
        doc: 'first wait, then doubling',
      }),
      maxDelayMinutes: num({ min: 0.1, max: 1440, default: DEFAULT_RETRY.maxDelayMs / 60_000, doc: 'longest wait' }),
    },
    { doc: 'retries of a failed scheduled run' },
  ),
  indexCheckpointDir: str({
    role: 'connector',
    doc:
      'a directory where the connector keeps a checkpoint of each live index, a local cache: a routine run ' +
      'reads the index topic from the last checkpoint on instead of from its start (Kafka stays the truth)',
    shownDefault: 'none: every run reads the index topics whole',
    example: '/var/lib/sf-neurons/index-checkpoints',
  }),
  shutdownGraceSeconds: num({
    min: 0,
    max: 3600,
    default: 30,
    doc: 'SIGTERM: a run in progress may finish within this, then it is interrupted (no tombstones, no watermark move)',
  }),
};

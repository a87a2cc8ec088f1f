import { z } from 'zod';
import { LOGIN_HISTORY_MODES } from '../../connectors/salesforce/access';
import { EXTRACTOR_DEFAULTS, USER_STATUSES } from '../../connectors/salesforce/config';
import { DEFAULT_SINK_GROUP, DEFAULT_TABLES } from '../../sinks/postgres/config';
import { DEFAULT_TUNING } from '../../sinks/postgres/sink';
import { CUSTOM_FIELD_TYPES } from '../../schemas/mapping-choice';
import { DEFAULT_DELETION_GUARD } from '../guard';
import { DEFAULT_TOMBSTONE_RETENTION_MS, DEFAULT_TOPIC_SETTINGS, DEFAULT_TOPICS } from '../kafka/options';
import { DEFAULT_PUBLISHER } from '../kafka/publisher';
import { DEFAULT_RETRY } from '../schedule/retry';
import { REPEATS, WEEKDAYS, parseStartTime } from '../schedule/spec';
import { isValidTimeZone } from '../schedule/zone';
import { anyValue, bool, group, list, num, oneOf, secret, str, tlsOrBool } from './options';

/**
 * THE config file's schema: every option, its type, range, default, doc line and example, which
 * options are secrets and which role's file each belongs in. The loader (parse.ts) validates
 * with it, docs/configuration-reference.md and config/connector.schema.json are generated from it
 * (reference.ts; `npm run config:docs`). Rules between options (a flow's secrets, a schedule's
 * fields) are in rules.ts. Defaults that a component also applies on its own are taken from it.
 */
const C = 'connector' as const;
const DAY_MS = 86_400_000;
const TOPIC = { pattern: /^[a-zA-Z0-9._-]{1,249}$/, allowed: '1-249 letters, digits, . _ -' };
const IDENT = { pattern: /^[a-z_][a-z0-9_]{0,62}$/, allowed: 'a lower-case SQL identifier: letters, digits, _' };

const salesforce = {
  oauthFlow: oneOf(['password', 'client_credentials', 'jwt'], {
    role: C,
    default: 'password',
    doc:
      'how the connector logs in: jwt (recommended: a certificate, no password), client_credentials, ' +
      'or password (retired by Salesforce on 2027-02-20)',
  }),
  salesforceUrl: str({
    role: C,
    required: true,
    doc: 'the org\'s login URL (the product\'s "Salesforce URL")',
    example: 'https://acme.my.salesforce.com',
    allowed: 'https://login.salesforce.com, https://test.salesforce.com or https://MyDomain.my.salesforce.com',
  }),
  consumerKey: str({
    role: C,
    required: true,
    doc: "the external client (connected) app's consumer key",
    allowed: "the connected app's consumer key",
  }),
  ...secret('consumerSecret', {
    role: C,
    what: "the connected app's consumer secret",
    doc: "the connected app's consumer secret (not used by jwt)",
  }),
  username: str({
    role: C,
    doc: 'the integration user (password and jwt flows)',
    example: 'integration@acme.com',
    allowed: 'the Salesforce username of the integration user',
  }),
  ...secret('password', {
    role: C,
    what: "the user's password",
    doc: "the integration user's password (password flow)",
  }),
  ...secret('securityToken', {
    role: C,
    what: 'a secret',
    doc: "the user's security token, appended to the password (password flow; may be empty)",
  }),
  ...secret('privateKey', {
    role: C,
    what: 'the PEM private key whose certificate is on the connected app',
    doc: 'PEM private key whose certificate is on the connected app (jwt flow)',
  }),
  jwtAudience: str({
    role: C,
    doc:
      'JWT `aud` (jwt flow); default https://login.salesforce.com, or https://test.salesforce.com for a sandbox; ' +
      'set it for an Experience Cloud site',
    shownDefault: 'by login URL',
  }),
  userStatus: list({
    role: C,
    item: z.enum(USER_STATUSES, { error: 'has an unknown status' }),
    min: 1,
    minProblem: 'must name at least one status',
    lower: true,
    allowed: USER_STATUSES.join(', '),
    shownDefault: USER_STATUSES.join(', '),
    doc: 'which users to import (the product\'s "User status"); users of other statuses are removed from Neurons',
    example: 'active, frozen',
  }),
  apiVersion: str({
    role: C,
    default: EXTRACTOR_DEFAULTS.apiVersion,
    pattern: /^\d{2,3}\.0$/,
    allowed: "'NN.0', at least 47.0 (Bulk API 2.0 query)",
    check: [{ ok: (v) => Number(v) >= 47, problem: 'is too old for Bulk API 2.0 query', allowed: '47.0 or later' }],
    doc: 'REST/Bulk API version; an org serving only older ones is used at its newest (47.0 at least)',
  }),
  loginHistory: oneOf(LOGIN_HISTORY_MODES, {
    role: C,
    default: 'auto',
    doc:
      'auto: read LoginHistory when the user may, else go on without login events (a warning); ' +
      'enabled: refuse to run without it; disabled: never read',
  }),
  apiReserve: num({
    role: C,
    min: 0,
    max: 0.9,
    default: EXTRACTOR_DEFAULTS.apiReserve,
    doc: "stop before the org's remaining daily API requests fall below this share of its limit",
  }),
  apiBudgetShare: num({
    role: C,
    min: 0.01,
    max: 1,
    doc: "optional cap: stop before the org's daily API usage passes this share of its limit",
    example: '0.5',
  }),
  apiMaxCalls: num({
    role: C,
    min: 1,
    max: 10_000_000,
    int: true,
    doc: 'optional cap: the most Salesforce calls per extraction',
    example: '2000',
  }),
  loginHistoryLookbackDays: num({
    role: C,
    min: 1,
    max: 3650,
    int: true,
    default: EXTRACTOR_DEFAULTS.loginLookbackDays,
    doc: 'first run (no watermark): how far back LoginHistory is read',
  }),
  salesforceProxy: group(
    {
      url: str({
        doc: 'the proxy, without credentials',
        example: 'http://proxy.example.com:3128',
        allowed: 'http://proxy.example.com:3128 (no credentials in it)',
      }),
      username: str({ doc: 'the proxy user' }),
      ...secret('password', { what: "the proxy user's password", doc: "the proxy user's password" }),
    },
    {
      role: C,
      whenGiven: true,
      doc: 'an HTTP proxy for every Salesforce call (default: HTTPS_PROXY / NO_PROXY from the environment)',
    },
  ),
  fields: anyValue(
    z.strictObject({
      include: z.record(z.string(), z.enum(CUSTOM_FIELD_TYPES)).optional(),
      exclude: z.array(z.string()).optional(),
      hash: z.array(z.string()).optional(),
    }),
    {
      role: C,
      doc:
        `custom User fields to add (include: {Name__c: type}, type one of ${CUSTOM_FIELD_TYPES.join(', ')}), ` +
        'fields never read (exclude: [AboutMe]), text fields hashed (hash: [Email])',
    },
  ),
  ...secret('hashSalt', {
    role: C,
    what: 'a secret salt for fields.hash (at least 16 characters)',
    doc: 'HMAC-SHA-256 salt of fields.hash (required with it; at least 16 characters)',
  }),
  userFilter: group(
    {
      userTypes: list({ doc: 'only these user types', example: 'Standard' }),
      excludeUserTypes: list({ doc: 'never these user types', example: 'AutomatedProcess, Guest' }),
      profiles: list({ doc: 'only users of these profiles', example: 'Standard User' }),
      where: str({
        doc: 'a SOQL condition on User, checked against describe at connect',
        example: "Department = 'Sales'",
      }),
    },
    { role: C, doc: 'which users beyond their status' },
  ),
  salesforceTuning: group(
    {
      pageSize: num({
        min: 1,
        max: 1_000_000,
        int: true,
        doc: 'maxRecords per result page',
        shownDefault: 'Salesforce decides',
      }),
      parallelPages: num({
        min: 1,
        max: 10,
        int: true,
        doc: 'result pages downloaded at once (API 58.0+)',
        shownDefault: String(EXTRACTOR_DEFAULTS.parallelPages),
      }),
      jobTimeoutMs: num({
        min: 100,
        max: DAY_MS,
        int: true,
        doc: 'a query job not done after this fails the run',
        shownDefault: String(EXTRACTOR_DEFAULTS.jobTimeoutMs),
      }),
      pollInitialMs: num({
        min: 1,
        max: 600_000,
        int: true,
        doc: 'first wait between job polls',
        shownDefault: String(EXTRACTOR_DEFAULTS.pollInitialMs),
      }),
      pollMaxMs: num({
        min: 1,
        max: 600_000,
        int: true,
        doc: 'longest wait between job polls',
        shownDefault: String(EXTRACTOR_DEFAULTS.pollMaxMs),
      }),
      requestTimeoutMs: num({
        min: 100,
        max: 3_600_000,
        int: true,
        doc: 'wait for a response or its next bytes',
        shownDefault: String(EXTRACTOR_DEFAULTS.requestTimeoutMs),
      }),
      retryAttempts: num({
        min: 1,
        max: 20,
        int: true,
        doc: 'attempts of a repeatable request',
        shownDefault: String(EXTRACTOR_DEFAULTS.retryAttempts),
      }),
      retryInitialMs: num({
        min: 1,
        max: 60_000,
        int: true,
        doc: 'first retry backoff (jitter, doubling)',
        shownDefault: String(EXTRACTOR_DEFAULTS.retryInitialMs),
      }),
      loginOverlapMs: num({
        min: 0,
        max: DAY_MS,
        int: true,
        doc: 'LoginHistory re-read window for late-visible rows',
        shownDefault: String(EXTRACTOR_DEFAULTS.loginOverlapMs),
      }),
    },
    { role: C, doc: "the extractor's tuning" },
  ),
};

const schedule = {
  repeats: oneOf(REPEATS, {
    role: C,
    default: 'daily',
    doc: 'the product\'s "Repeats": weekly needs weekday, monthly dayOfMonth, cron cron',
  }),
  startTime: str({
    role: C,
    default: '02:00',
    doc: 'the product\'s "Start time", in timeZone (hourly: its minute)',
    check: [
      {
        ok: (v) => parseStartTime(v) !== null,
        problem: 'is not a time of day',
        allowed: 'HH:MM on the 24-hour clock, e.g. 02:00',
      },
    ],
  }),
  timeZone: str({
    role: C,
    default: 'UTC',
    doc: 'IANA time zone of startTime (DST handled)',
    example: 'Europe/Berlin',
    check: [
      {
        ok: isValidTimeZone,
        problem: 'is not a known IANA time zone',
        allowed: 'e.g. UTC, Europe/Berlin, America/New_York',
      },
    ],
  }),
  weekday: oneOf(WEEKDAYS, { role: C, doc: 'repeats weekly: the day', example: 'sunday' }),
  dayOfMonth: num({
    role: C,
    min: 1,
    max: 31,
    int: true,
    doc: 'repeats monthly: the day (a day the month lacks means its last day)',
    example: '1',
  }),
  cron: str({ role: C, doc: 'repeats cron: a 5-field expression, in timeZone', example: '30 1 * * 1-5' }),
  active: bool({ role: C, default: true, doc: 'the product\'s "Active": false starts no run until it is true again' }),
};

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

const services = {
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
      compression: oneOf(['gzip', 'none'], {
        default: DEFAULT_PUBLISHER.compression as 'gzip',
        doc: 'record compression',
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
      onUserRemoved: oneOf(['delete-logins', 'keep'], {
        default: 'delete-logins',
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
  shutdownGraceSeconds: num({
    min: 0,
    max: 3600,
    default: 30,
    doc: 'SIGTERM: a run in progress may finish within this, then it is interrupted (no tombstones, no watermark move)',
  }),
};

export const CONFIG_SHAPE = {
  role: oneOf(['connector', 'sink'], {
    doc: "which process this file is for; absent: both. Each role's file holds only its own options and secrets",
  }),
  allowInsecureSecretFiles: bool({
    default: false,
    doc: 'accept secret files (and a config file with secrets in it) that the group or others can read',
  }),
  connectorName: str({
    required: true,
    pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
    allowed: '1-100 letters, digits, . _ - (it keys the run state and labels metrics)',
    doc: 'the product\'s "Connector name": keys the run state, labels metrics',
    example: 'acme-prod',
  }),
  connectorServerName: str({
    default: 'Cloud',
    doc: 'the product\'s "Connector server name": informational, this is a cloud connector',
  }),
  ...salesforce,
  ...schedule,
  ...services,
};

export const configSchema = z.strictObject(CONFIG_SHAPE);

/** The options of each section, as the reference groups them. */
export const SECTIONS: { title: string; keys: readonly string[] }[] = [
  {
    title: 'General',
    keys: ['role', 'allowInsecureSecretFiles', 'connectorName', 'connectorServerName', 'shutdownGraceSeconds'],
  },
  { title: 'Salesforce', keys: Object.keys(salesforce) },
  { title: 'Schedule', keys: [...Object.keys(schedule), 'runRetries'] },
  {
    title: 'Kafka, registry, topics',
    keys: ['kafka', 'registry', 'topics', 'topicSettings', 'publisher', 'deletionGuard'],
  },
  { title: 'Sink and metrics', keys: ['database', 'sink', 'metrics'] },
];

import { GENERIC_STREAMS } from '../../schemas/streams/generic';
import type { SASLOptions } from 'kafkajs';
import { DEFAULT_DELETION_GUARD, type DeletionGuardOptions } from '../guard';
import { DEFAULT_TOPICS, DEFAULT_TOPIC_SETTINGS, type TopicNames, type TopicSettings } from '../../schemas/topics';
import type { KafkaOptions } from '../../kafka/options';
import { DEFAULT_PUBLISHER, type PublisherOptions } from '../kafka/publisher';
import type { RegistryConfig } from '../../schemas/registry';
import type { LoadedConfig } from './types';
import type { Reader } from './reader';

const BROKER = /^[^\s:/]+:\d{1,5}$/;
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const SASL = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/** kafka: brokers, client id, TLS (true, or PEM files) and SASL. */
export function readKafka(r: Reader, connectorName: string | undefined): KafkaOptions | undefined {
  const brokers = r.list('brokers');
  if (!brokers || brokers.length === 0) r.issues.add(r.field('brokers'), 'is required', { allowed: 'a list of host:port' });
  for (const b of brokers ?? []) if (!BROKER.test(b)) r.issues.add(r.field('brokers'), 'has an entry that is not host:port', { value: b, allowed: 'e.g. kafka-1.example.com:9093' });
  const clientId = r.string('clientId', { default: `sf-neurons-${connectorName ?? 'connector'}` });
  let ssl: KafkaOptions['ssl'];
  const tlsRaw = r.raw('tls');
  if (typeof tlsRaw === 'boolean' || tlsRaw === 'true' || tlsRaw === 'false') ssl = tlsRaw === true || tlsRaw === 'true';
  else if (tlsRaw !== undefined) {
    const t = r.object('tls');
    const pem = (key: string) => {
      const path = t.string(key);
      if (path === undefined) return undefined;
      try {
        return t.readFile(path);
      } catch (err) {
        return t.issues.add(t.field(key), `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { value: path, allowed: 'a readable PEM file' });
      }
    };
    const ca = pem('caFile');
    const cert = pem('certFile');
    const key = t.secret('key', false, 'the client key (PEM)');
    const rejectUnauthorized = t.boolean('rejectUnauthorized', true);
    t.finish();
    ssl = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized };
  }
  let sasl: SASLOptions | undefined;
  if (r.has('sasl')) {
    const s = r.object('sasl');
    const mechanism = s.string('mechanism', { required: true, oneOf: SASL });
    const username = s.string('username', { required: true });
    const password = s.secret('password', true);
    s.finish();
    if (mechanism && username && password) sasl = { mechanism, username, password } as SASLOptions;
  } else r.allow('sasl');
  r.allow('tls');
  r.finish();
  if (!brokers?.length || !clientId) return undefined;
  return { brokers, clientId, ...(ssl !== undefined ? { ssl } : {}), ...(sasl ? { sasl } : {}) };
}

/** registry: the Confluent-compatible URL, and basic-auth credentials. */
export function readRegistry(r: Reader): RegistryConfig | undefined {
  const url = r.string('url', { required: true, pattern: /^https?:\/\/\S+$/, allowed: 'http(s)://host:port[/path], e.g. http://registry:8080/apis/ccompat/v7 for Apicurio' });
  const username = r.string('username');
  const password = r.secret('password', false);
  if ((username === undefined) !== (password === undefined) && !r.reported('password') && !r.reported('username')) r.issues.add(r.field(username === undefined ? 'username' : 'password'), 'is required when the other credential is given', { allowed: 'both username and password, or neither' });
  r.finish();
  if (!url) return undefined;
  return { url, ...(username && password ? { auth: { username, password } } : {}) };
}

export function readTopics(r: Reader): TopicNames {
  const rule = { pattern: TOPIC, allowed: '1-249 letters, digits, . _ -' };
  const names: TopicNames = {
    users: r.string('users', { ...rule, default: DEFAULT_TOPICS.users }) ?? DEFAULT_TOPICS.users,
    logins: r.string('loginHistory', { ...rule, default: DEFAULT_TOPICS.logins }) ?? DEFAULT_TOPICS.logins,
    state: r.string('state', { ...rule, default: DEFAULT_TOPICS.state }) ?? DEFAULT_TOPICS.state,
    deadLetter: r.string('deadLetter', { ...rule, default: DEFAULT_TOPICS.deadLetter }) ?? DEFAULT_TOPICS.deadLetter,
  };
  if (new Set(Object.values(names)).size !== 4) r.issues.add(r.path, 'must be four different topics', { value: names, allowed: 'distinct users, loginHistory, state and deadLetter topics' });
  // topics.streams: <declared stream name>: <topic> (docs/streams.md); a stream not named uses its
  // declaration's default topic
  const s = r.object('streams');
  const streams: Record<string, string> = {};
  for (const d of GENERIC_STREAMS) {
    const t = s.string(d.name, rule);
    if (t !== undefined) streams[d.name] = t;
  }
  s.finish();
  r.finish();
  return Object.keys(streams).length > 0 ? { ...names, streams } : names;
}

export function readTopicSettings(r: Reader): TopicSettings {
  const partitions = r.number('partitions', { default: DEFAULT_TOPIC_SETTINGS.partitions, min: 1, max: 1000, integer: true }) ?? DEFAULT_TOPIC_SETTINGS.partitions;
  const replicationFactor = r.number('replicationFactor', { min: 1, max: 32, integer: true });
  const days = r.number('loginHistoryRetentionDays', { default: DEFAULT_TOPIC_SETTINGS.loginRetentionMs / 86_400_000, min: 1, max: 36_500, integer: true }) ?? 30;
  const tombstoneDays = r.number('tombstoneRetentionDays', { default: 7, min: 1, max: 36_500, integer: true }) ?? 7;
  r.finish();
  return { partitions, loginRetentionMs: days * 86_400_000, tombstoneRetentionMs: tombstoneDays * 86_400_000, ...(replicationFactor ? { replicationFactor } : {}) };
}

export function readGuard(r: Reader): DeletionGuardOptions {
  const d = DEFAULT_DELETION_GUARD;
  const maxCount = r.number('maxCount', { min: 0, max: 100_000_000, integer: true });
  // An override in the config would let every run through, silently: it applies to one run only.
  if (r.boolean('override', false)) {
    r.issues.add(r.field('override'), 'cannot be true in the config file: it would let every run through the guard', { value: true, allowed: 'false; let one run through with connector sync --allow-mass-delete' });
  }
  const guard: DeletionGuardOptions = {
    maxShare: r.number('maxShare', { default: d.maxShare, min: 0, max: 1 }) ?? d.maxShare,
    alwaysAllowUpTo: r.number('alwaysAllowUpTo', { default: d.alwaysAllowUpTo, min: 0, max: 100_000_000, integer: true }) ?? d.alwaysAllowUpTo,
    override: false,
    ...(maxCount !== undefined ? { maxCount } : {}),
  };
  r.finish();
  return guard;
}

export function readPublisher(r: Reader): PublisherOptions {
  const d = DEFAULT_PUBLISHER;
  const p: PublisherOptions = {
    batchSize: r.number('batchSize', { default: d.batchSize, min: 1, max: 100_000, integer: true }) ?? d.batchSize,
    maxInFlight: r.number('maxInFlight', { default: d.maxInFlight, min: 1, max: 64, integer: true }) ?? d.maxInFlight,
    compression: (r.string('compression', { default: d.compression, oneOf: ['gzip', 'none'] }) ?? d.compression) as PublisherOptions['compression'],
    lingerMs: r.number('lingerMs', { default: d.lingerMs, min: 0, max: 60_000, integer: true }) ?? d.lingerMs,
  };
  r.finish();
  return p;
}

/** database (the sink's PostgreSQL; absent url = embedded) and sink (group and tables). */
export function readSink(db: Reader | null, sink: Reader): LoadedConfig['sink'] {
  // null: the connector's process, which never reads the database options (nor resolves their secret).
  const databaseUrl = db?.secret('url', false, 'postgres://user:password@host:port/database');
  if (db && databaseUrl !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(databaseUrl)) {
    const allowed = 'postgres://user:password@host:port/database, or leave it out for the embedded database';
    db.issues.add(db.field('url'), 'is not a PostgreSQL URL', { value: databaseUrl, secret: true, allowed });
  }
  const embeddedDataDir = db?.string('embeddedDataDir');
  db?.finish();
  const ident = { pattern: /^[a-z_][a-z0-9_]{0,62}$/, allowed: 'a lower-case SQL identifier: letters, digits, _' };
  const out: LoadedConfig['sink'] = {
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(embeddedDataDir ? { embeddedDataDir } : {}),
    groupId: sink.string('groupId'),
    tables: { schema: sink.string('tableSchema', ident), users: sink.string('usersTable', ident), logins: sink.string('loginHistoryTable', ident) },
    onUserRemoved: (sink.string('onUserRemoved', { default: 'delete-logins', oneOf: ['delete-logins', 'keep'] }) ?? 'delete-logins') as 'delete-logins' | 'keep',
    tuning: {
      synchronousCommit: sink.boolean('synchronousCommit', true),
      statementTimeoutMs: sink.number('statementTimeoutMs', { default: 60_000, min: 100, max: 3_600_000, integer: true }) ?? 60_000,
      breakerFailures: sink.number('breakerFailures', { default: 60, min: 1, max: 1_000_000, integer: true }) ?? 60,
      stallAfterMs: sink.number('stallAfterMs', { default: 120_000, min: 1000, max: 86_400_000, integer: true }) ?? 120_000,
    },
  };
  sink.finish();
  return out;
}

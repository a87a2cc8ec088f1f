import type { SASLOptions } from 'kafkajs';
import { parseExtractorConfig } from '../../connectors/salesforce/config';
import type { KafkaOptions } from '../../kafka/options';
import { ZSTD_AVAILABLE } from '../../kafka/zstd';
import type { Compression } from '../kafka/publisher';
import { GENERIC_STREAMS } from '../../schemas/streams/generic';
import { indexTopicOf } from '../kafka/live-index';
import { ConfigError, Issues } from './issues';
import { metaOf } from './options';
import { readObject, type ReadContext, type Values } from './read';
import { buildSalesforce, buildSchedule } from './salesforce';
import { CONFIG_SHAPE } from './schema';
import { insecureFileProblem, type SecretSources } from './secrets';
import { type ConfigRole, type ConnectorConfig, type LoadedConfig } from './types';

/**
 * What the loading process is. `connector` (sync, start): the Salesforce options are read, the
 * database is not (its URL never enters the process). `sink` (sink, replay): the database is
 * read, no Salesforce option is (their variables and files need not exist). `any` (check,
 * status): whatever the file's own `role` says. Absent: both, as one file always served both.
 */
export interface ParseOptions {
  role?: ConfigRole | 'any';
}

/** Top-level options of one role's file only, from the schema (a new option carries its role). */
export function roleOptions(role: ConfigRole): string[] {
  const out: string[] = [];
  for (const [key, schema] of Object.entries(CONFIG_SHAPE)) if (metaOf(schema)?.role === role) out.push(key);
  return out;
}

/**
 * Validates a parsed config file (one connector) against the schema (schema.ts) and fills in the
 * defaults. Every problem is found in one pass; throws a ConfigError listing each (field, masked
 * value, what is allowed) when there is any. Secrets are resolved from the environment or files
 * (secrets.ts) and never appear in a message. Pure apart from `sources`.
 */
export function parseConnectorConfig(
  raw: unknown,
  sources: SecretSources,
  source?: string,
  opts?: { role?: 'connector' },
): ConnectorConfig;
export function parseConnectorConfig(
  raw: unknown,
  sources: SecretSources,
  source: string,
  opts: ParseOptions,
): LoadedConfig;
export function parseConnectorConfig(
  raw: unknown,
  sources: SecretSources,
  source = 'config',
  opts: ParseOptions = {},
): LoadedConfig {
  const issues = new Issues();
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    issues.add('(file)', 'must be a mapping of options (YAML or JSON object)', { value: raw });
    throw new ConfigError(source, issues.list);
  }
  const file = raw as Record<string, unknown>;
  const ctx: ReadContext = { issues, sources, secrets: [], allowInsecureSecretFiles: false, literalSecrets: [] };

  // The role first: it decides what this process reads of the file at all.
  const { role: declared, allowInsecureSecretFiles } = readObject(
    { role: CONFIG_SHAPE.role, allowInsecureSecretFiles: CONFIG_SHAPE.allowInsecureSecretFiles },
    pick(file, ['role', 'allowInsecureSecretFiles']),
    '',
    ctx,
  ) as { role?: ConfigRole; allowInsecureSecretFiles: boolean };
  if (issues.list.some((i) => i.field === 'role')) throw new ConfigError(source, issues.list);
  ctx.allowInsecureSecretFiles = allowInsecureSecretFiles ?? false;
  // Without a wanted role the caller wants the whole config, Salesforce included.
  const wanted = opts.role === 'any' ? declared : (opts.role ?? (declared === 'sink' ? 'connector' : undefined));
  if (declared && wanted && declared !== wanted) {
    issues.add('role', `is ${declared}: this file is the ${declared}'s, and this command runs the ${wanted}`, {
      allowed: `the ${wanted}'s own file (role: ${wanted}), or a file without role that serves both`,
    });
    throw new ConfigError(source, issues.list);
  }
  const other: ConfigRole | undefined =
    declared === 'sink' ? 'connector' : declared === 'connector' ? 'sink' : undefined;
  if (other) {
    // roleOptions lists a secret's …Env and …File forms too.
    for (const k of roleOptions(other)) {
      if (file[k] !== undefined) {
        issues.add(k, `is a ${other} option, and this file is for the ${declared} (role: ${declared})`, {
          allowed: "remove it from this file; it belongs in the other role's file",
        });
      }
    }
  }
  const readsSalesforce = (wanted ?? 'both') !== 'sink';
  const readsDatabase = (wanted ?? declared ?? 'both') !== 'connector';
  const unread = new Set<string>(['role', 'allowInsecureSecretFiles']);
  const skip = (role: ConfigRole) => {
    for (const k of roleOptions(role)) unread.add(k);
  };
  if (!readsSalesforce || other === 'connector') skip('connector');
  if (!readsDatabase || other === 'sink') skip('sink');
  const v = readObject(CONFIG_SHAPE, file, '', ctx, unread);

  const salesforce = readsSalesforce && other !== 'connector' ? buildSalesforce(v, file, issues) : undefined;
  const schedule = readsSalesforce && other !== 'connector' ? buildSchedule(v, file, issues) : defaultSchedule(v);
  const kafka = buildKafka(v.kafka as Values, file.kafka, v.connectorName as string | undefined, issues, sources);
  const registry = buildRegistry(v.registry as Values, issues);
  const topics = buildTopics(v.topics as Values, issues);
  const rr = v.runRetries as Values;
  if ((rr.maxDelayMinutes as number) < (rr.initialDelayMinutes as number)) {
    issues.add('runRetries.maxDelayMinutes', 'is shorter than initialDelayMinutes', {
      value: rr.maxDelayMinutes,
      allowed: `at least ${rr.initialDelayMinutes as number}`,
    });
  }
  if ((v.publisher as Values).compression === 'zstd' && !ZSTD_AVAILABLE) {
    issues.add('publisher.compression', `is zstd, and this Node (${process.version}) has no zstd (Node 22.15+ has)`, {
      value: 'zstd',
      allowed: 'gzip or none on this Node, or Node 22.15 or later',
    });
  }
  const db = (readsDatabase && other !== 'sink' ? v.database : {}) as Values;
  const databaseUrl = db.url as string | undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(databaseUrl)) {
    issues.add('database.url', 'is not a PostgreSQL URL', {
      value: databaseUrl,
      secret: true,
      allowed: 'postgres://user:password@host:port/database, or leave it out for the embedded database',
    });
  }
  // A file holding secrets itself is a secret file: the same rule as for the *File options.
  const exposed =
    ctx.literalSecrets.length > 0 ? insecureFileProblem(source, sources, ctx.allowInsecureSecretFiles) : null;
  if (exposed) {
    issues.add('(file)', `holds ${ctx.literalSecrets.join(', ')} written in it and ${exposed.problem}`, {
      allowed: `${exposed.allowed}; or move them to …Env / …File options`,
    });
  }
  // The extractor's own check needs only the Salesforce options right, so it reports with the rest;
  // after a Salesforce option's own issue it would only repeat it.
  const sfOptions = new Set(roleOptions('connector'));
  const sfReported = issues.list.some((i) => sfOptions.has(i.field.split('.')[0]));
  const sf = salesforce;
  if (sf && !sfReported) {
    try {
      parseExtractorConfig(sf);
    } catch (err) {
      // The extractor names its own options (salesforce.<option>); each stays an issue of its own.
      if (err instanceof ConfigError) issues.list.push(...err.issues);
      else throw err;
    }
  }
  const salesforceReported = issues.list.some((i) => i.field === 'salesforceUrl');
  if (readsSalesforce && other !== 'connector' && v.salesforceUrl === undefined && !salesforceReported) {
    issues.add('salesforceUrl', 'is required', { allowed: 'the Salesforce options (docs/configuration.md)' });
  }
  if (issues.list.length > 0 || !v.connectorName || !schedule || !kafka || !registry)
    throw new ConfigError(source, issues.list);

  const ts = v.topicSettings as Values;
  const sink = v.sink as Values;
  const m = v.metrics as Values;
  const pub = v.publisher as Values;
  const guard = v.deletionGuard as Values;
  return {
    role: declared ?? 'both',
    source,
    connectorName: v.connectorName as string,
    connectorServerName: v.connectorServerName as string,
    salesforce,
    schedule,
    kafka,
    registry,
    topics,
    runRetries: {
      retries: rr.retries as number,
      initialDelayMs: Math.round((rr.initialDelayMinutes as number) * 60_000),
      maxDelayMs: Math.round((rr.maxDelayMinutes as number) * 60_000),
    },
    topicSettings: {
      partitions: ts.partitions as number,
      loginRetentionMs: (ts.loginHistoryRetentionDays as number) * 86_400_000,
      tombstoneRetentionMs: (ts.tombstoneRetentionDays as number) * 86_400_000,
      ...(ts.replicationFactor ? { replicationFactor: ts.replicationFactor as number } : {}),
    },
    guard: {
      maxShare: guard.maxShare as number,
      alwaysAllowUpTo: guard.alwaysAllowUpTo as number,
      override: false,
      ...(guard.maxCount !== undefined ? { maxCount: guard.maxCount as number } : {}),
    },
    publisher: {
      batchSize: pub.batchSize as number,
      maxInFlight: pub.maxInFlight as number,
      compression: pub.compression as Compression,
      lingerMs: pub.lingerMs as number,
    },
    sink: {
      ...(databaseUrl ? { databaseUrl } : {}),
      ...(db.embeddedDataDir ? { embeddedDataDir: db.embeddedDataDir as string } : {}),
      groupId: sink.groupId as string | undefined,
      tables: {
        schema: sink.tableSchema as string | undefined,
        users: sink.usersTable as string | undefined,
        logins: sink.loginHistoryTable as string | undefined,
      },
      onUserRemoved: sink.onUserRemoved as 'delete-logins' | 'keep',
      tuning: {
        synchronousCommit: sink.synchronousCommit as boolean,
        statementTimeoutMs: sink.statementTimeoutMs as number,
        breakerFailures: sink.breakerFailures as number,
        stallAfterMs: sink.stallAfterMs as number,
        fetchMinBytes: sink.fetchMinBytes as number,
        fetchMaxWaitMs: sink.fetchMaxWaitMs as number,
        liveLoadIdleMs: sink.liveLoadIdleMs as number,
        liveLoadMaxMs: sink.liveLoadMaxMs as number,
      },
    },
    metrics: { host: m.host as string, port: (m.port as number | undefined) ?? null },
    shutdownGraceMs: (v.shutdownGraceSeconds as number) * 1000,
    ...(v.indexCheckpointDir ? { indexCheckpointDir: v.indexCheckpointDir as string } : {}),
    secrets: [...new Set(ctx.secrets.filter((s) => s.length >= 4))],
  };
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
}

/** The sink's process reads no schedule; the run settings still carry the default one. */
function defaultSchedule(v: Values): LoadedConfig['schedule'] {
  return {
    repeats: 'daily',
    startTime: { hour: 2, minute: 0 },
    timeZone: (v.timeZone as string | undefined) ?? 'UTC',
    active: true,
  };
}

function buildKafka(
  k: Values,
  written: unknown,
  connectorName: string | undefined,
  issues: Issues,
  sources: SecretSources,
): KafkaOptions | undefined {
  const brokers = k.brokers as string[] | undefined;
  const w = (written ?? {}) as Record<string, unknown>;
  let sasl: SASLOptions | undefined;
  if (w.sasl !== undefined && w.sasl !== null) {
    const s = (k.sasl ?? {}) as Values;
    const reported = issues.list.some((i) => i.field.startsWith('kafka.sasl.password'));
    if (s.password === undefined && !reported)
      issues.add('kafka.sasl.password', 'is required', { allowed: metaOf(saslPassword())?.allowed });
    if (s.mechanism && s.username && s.password)
      sasl = { mechanism: s.mechanism, username: s.username, password: s.password } as SASLOptions;
  }
  let ssl: KafkaOptions['ssl'];
  if (typeof k.tls === 'boolean') ssl = k.tls;
  else if (k.tls && typeof k.tls === 'object') ssl = readTls(k.tls as Values, issues, sources);
  if (!brokers?.length) return undefined;
  const clientId = (k.clientId as string | undefined) ?? `sf-neurons-${connectorName ?? 'connector'}`;
  return { brokers, clientId, ...(ssl !== undefined ? { ssl } : {}), ...(sasl ? { sasl } : {}) };
}

function saslPassword() {
  return CONFIG_SHAPE.kafka.unwrap().shape.sasl.unwrap().shape.password;
}

/** kafka.tls as a mapping: PEM files read now, so a missing one is a config error. */
function readTls(t: Values, issues: Issues, sources: SecretSources): KafkaOptions['ssl'] {
  const pem = (key: 'caFile' | 'certFile') => {
    const path = t[key] as string | undefined;
    if (path === undefined) return undefined;
    try {
      return sources.readFile(path);
    } catch (err) {
      return issues.add(`kafka.tls.${key}`, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
        value: path,
        allowed: 'a readable PEM file',
      });
    }
  };
  const ca = pem('caFile');
  const cert = pem('certFile');
  const key = t.key as string | undefined;
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    rejectUnauthorized: t.rejectUnauthorized as boolean,
  };
}

function buildRegistry(r: Values, issues: Issues): LoadedConfig['registry'] | undefined {
  const { url, username, password } = r as { url?: string; username?: string; password?: string };
  const reported = issues.list.some(
    (i) => i.field.startsWith('registry.username') || i.field.startsWith('registry.password'),
  );
  if ((username === undefined) !== (password === undefined) && !reported) {
    issues.add(
      username === undefined ? 'registry.username' : 'registry.password',
      'is required when the other credential is given',
      { allowed: 'both username and password, or neither' },
    );
  }
  if (!url) return undefined;
  return { url, ...(username && password ? { auth: { username, password } } : {}) };
}

function buildTopics(t: Values, issues: Issues): LoadedConfig['topics'] {
  const names = {
    users: t.users as string,
    logins: t.loginHistory as string,
    state: t.state as string,
    deadLetter: t.deadLetter as string,
  };
  if (Object.values(names).every(Boolean) && new Set(Object.values(names)).size !== 4) {
    issues.add('topics', 'must be four different topics', {
      value: names,
      allowed: 'distinct users, loginHistory, state and deadLetter topics',
    });
  }
  // topics.streams: <declared stream name>: <topic>; a stream not named uses its declaration's default.
  const given = Object.entries((t.streams as Values | undefined) ?? {}).filter(([, v]) => typeof v === 'string');
  if (names.users) checkStreamTopics(names, Object.fromEntries(given) as Record<string, string>, issues);
  return given.length > 0 ? { ...names, streams: Object.fromEntries(given) as Record<string, string> } : names;
}

/**
 * Every declared stream's topic (given, or its declaration's default) must be a topic of its own:
 * not one of the four, not the users topic's live index, not another stream's; and a snapshot
 * stream's own live index (`<stream topic>.live-index`, pipeline/streams/stream-index.ts) must be
 * no other topic either. The field named is the stream's (the default one's too: giving the
 * stream a topic is the fix).
 */
function checkStreamTopics(
  names: { users: string; logins: string; state: string; deadLetter: string },
  given: Record<string, string>,
  issues: Issues,
): void {
  const taken = new Map<string, string>([
    [names.users, 'topics.users'],
    [names.logins, 'topics.loginHistory'],
    [names.state, 'topics.state'],
    [names.deadLetter, 'topics.deadLetter'],
    [indexTopicOf(names.users), 'the live index of topics.users'],
  ]);
  for (const d of GENERIC_STREAMS) {
    const topic = given[d.name] ?? d.topic.defaultName;
    const field = `topics.streams.${d.name}`;
    const own =
      d.mode.kind === 'snapshot'
        ? [[topic, field] as const, [indexTopicOf(topic), `the live index of ${field}`] as const]
        : [[topic, field] as const];
    const clash = own.find(([t]) => taken.has(t));
    if (clash) {
      const [t, what] = clash;
      const whose = what === field ? 'is' : `has its live index (${t}) on`;
      issues.add(field, `${whose} the topic of ${taken.get(t)}${d.name in given ? '' : ' (its default)'}`, {
        value: topic,
        allowed: 'a topic of its own, used by no other stream or topic of this connector (nor its live index)',
      });
    } else for (const [t, what] of own) taken.set(t, what);
  }
}

import { Kafka, logLevel } from 'kafkajs';
import type { Simulator, SimulatorOptions } from '../../simulator/api';
import { passwordAuth, startSimulator } from '../../simulator';
import { silentLogger, type Logger } from '../../kernel/logger';
import { startConnector, type Connector, type ConnectorDeps, type ConnectorSettings } from '../../pipeline/connector';
import { DEFAULT_DELETION_GUARD } from '../../pipeline/guard';
import { readToEnd } from '../../pipeline/kafka/read-to-end';
import { DEFAULT_PUBLISHER } from '../../pipeline/kafka/publisher';
import { decodeStringKey } from '../../schemas/keys';
import type { TopicCodec } from '../../schemas/codec';
import { services, uniqueName } from './services';
import { GENERIC_STREAMS } from '../../schemas/streams/generic';

/**
 * A simulated org wired to a connector on the real Kafka and registry, with topics of its own.
 * Used by the sync-run tests, the demo-like tests and the fault suite.
 */
export function realNow(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
}

export async function startOrg(opts: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ users: 300, logins: 3000, now: realNow(), ...opts });
}

export function settingsFor(
  sim: Simulator,
  over: Partial<ConnectorSettings> = {},
  statuses: string[] = ['active', 'inactive', 'frozen'],
): ConnectorSettings {
  const env = services();
  const p = uniqueName('sync');
  const c = sim.credentials;
  return {
    connectorName: over.connectorName ?? `${p}-conn`,
    salesforce: {
      loginUrl: sim.url,
      auth: passwordAuth(c),
      userStatuses: statuses,
      pageSize: 100,
      pollInitialMs: 20,
      pollMaxMs: 100,
      retryInitialMs: 5,
      retryAttempts: 3,
      jobTimeoutMs: 30_000,
    },
    kafka: { brokers: [env.KAFKA_BROKERS], clientId: p },
    registry: { url: env.SCHEMA_REGISTRY_URL },
    topics: {
      users: `${p}.users`,
      logins: `${p}.logins`,
      state: `${p}.state`,
      deadLetter: `${p}.dlq`,
      // every declared stream gets a topic of this test's own too
      streams: Object.fromEntries(GENERIC_STREAMS.map((s) => [s.name, `${p}.${s.name}`])),
    },
    topicSettings: { partitions: 3, loginRetentionMs: 7 * 24 * 3600 * 1000 },
    guard: { ...DEFAULT_DELETION_GUARD },
    publisher: { ...DEFAULT_PUBLISHER, lingerMs: 5 },
    ...over,
  };
}

export async function connectorFor(
  settings: ConnectorSettings,
  deps: Partial<ConnectorDeps> & { logger?: Logger } = {},
): Promise<Connector> {
  return startConnector(settings, { logger: silentLogger, ...deps });
}

export function kafkaClient(): Kafka {
  return new Kafka({ clientId: uniqueName('reader'), brokers: [services().KAFKA_BROKERS], logLevel: logLevel.NOTHING });
}

/** What a consumer reading the latest value per key sees: user Id → decoded record (tombstoned keys absent). */
export async function latestUsers(topic: string, codec: TopicCodec): Promise<Map<string, Record<string, unknown>>> {
  const raw = new Map<string, Buffer | null>();
  await readToEnd(kafkaClient(), topic, (m) => {
    if (m.key) raw.set(decodeStringKey(m.key), m.value);
  });
  const out = new Map<string, Record<string, unknown>>();
  for (const [k, v] of raw) if (v) out.set(k, await codec.decodeValue(v));
  return out;
}

/** Every record of a topic: keys decoded, values raw (null = tombstone). */
export async function allRecords(
  topic: string,
): Promise<{ key: string; value: Buffer | null; headers: Record<string, string> }[]> {
  const out: { key: string; value: Buffer | null; headers: Record<string, string> }[] = [];
  await readToEnd(kafkaClient(), topic, (m) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
    out.push({ key: m.key ? safeKey(m.key) : '', value: m.value, headers });
  });
  return out;
}

function safeKey(b: Buffer): string {
  try {
    return decodeStringKey(b);
  } catch {
    return b.toString('utf8');
  }
}

import type { Admin, Kafka, Producer } from 'kafkajs';
import { createExtractor, type ExtractorOptions, type SalesforceExtractor } from '../connectors/salesforce';
import { loadCatalog, type Catalog } from '../schemas/catalog';
import { createTopicCodec, writerSchemasFrom, type TopicCodec } from '../schemas/codec';
import { connectorTopicSchemas, registerTopicSchemas, registryFromConfig, type RegistryConfig } from '../schemas/registry';
import type { Logger } from './core/logger';
import type { DeletionGuardOptions } from './guard';
import { createKafka } from './kafka/client';
import type { KafkaOptions, TopicNames, TopicSettings } from './kafka/options';
import { createProducer, type PublisherOptions } from './kafka/publisher';
import type { LockOptions } from './kafka/state-store';
import { provisionTopics } from './kafka/topics';
import { runSync, type RunSummary, type SyncDeps, type SyncOptions } from './sync';

/** Everything one connector (one Salesforce org) needs to run a sync. */
export interface ConnectorSettings {
  connectorName: string;
  salesforce: ExtractorOptions;
  kafka: KafkaOptions;
  registry: RegistryConfig;
  topics: TopicNames;
  topicSettings: TopicSettings;
  guard: DeletionGuardOptions;
  publisher: PublisherOptions;
}

export interface RunRequest {
  dryRun?: boolean;
  fullRepublish?: boolean;
  /** Lets this run through the deletion guard. */
  allowMassDelete?: boolean;
  signal?: AbortSignal;
  /** Live counts of the run (see SyncDeps.onProgress). */
  onProgress?: SyncDeps['onProgress'];
  /** A scheduled run: its slot and attempt (recorded in the run state for `status`). */
  scheduled?: SyncOptions['scheduled'];
}

/**
 * A started connector: topics provisioned, schemas registered (an incompatible schema stops
 * start-up here), producer connected. `sync()` runs one complete run; `close()` releases it all.
 */
export interface Connector {
  readonly catalog: Catalog;
  readonly codecs: { users: TopicCodec; logins: TopicCodec; state: TopicCodec };
  readonly topicWarnings: string[];
  sync(req?: RunRequest): Promise<RunSummary>;
  close(): Promise<void>;
}

export interface ConnectorDeps {
  logger: Logger;
  /** Builds the extractor for each run (default: the real one from settings.salesforce). */
  extractor?: (settings: ConnectorSettings) => SalesforceExtractor;
  lock?: LockOptions;
}

export async function startConnector(settings: ConnectorSettings, deps: ConnectorDeps): Promise<Connector> {
  const logger = deps.logger.child({ connector: settings.connectorName });
  const catalog = loadCatalog(settings.salesforce.fields);
  const kafka: Kafka = createKafka(settings.kafka, logger);
  const admin: Admin = kafka.admin();
  const producer: Producer = createProducer(kafka);
  await admin.connect();
  try {
    const topicWarnings = await provisionTopics(admin, settings.topics, settings.topicSettings, logger);
    const clients = registryFromConfig(settings.registry);
    const sets = connectorTopicSchemas({ users: settings.topics.users, loginHistory: settings.topics.logins, state: settings.topics.state }, catalog.schemas);
    const registered = await registerTopicSchemas(clients, sets, { logger });
    const writers = writerSchemasFrom(clients.registry);
    const [users, logins, state] = registered.map((r, i) => createTopicCodec(r, sets[i], writers));
    const codecs = { users, logins, state };
    await producer.connect();
    const makeExtractor = deps.extractor ?? ((s: ConnectorSettings) => createExtractor(s.salesforce, { logger }));
    let running = false;
    return {
      catalog,
      codecs,
      topicWarnings,
      async sync(req = {}) {
        if (running) throw new Error('a run of this connector is already in progress in this process');
        running = true;
        const extractor = makeExtractor(settings);
        try {
          return await runSync(
            { kafka, producer, extractor, codecs, catalog, logger, signal: req.signal, lock: deps.lock, onProgress: req.onProgress },
            {
              connectorName: settings.connectorName,
              topics: settings.topics,
              guard: { ...settings.guard, override: settings.guard.override || req.allowMassDelete === true },
              publisher: settings.publisher,
              dryRun: req.dryRun === true,
              fullRepublish: req.fullRepublish === true,
              scheduled: req.scheduled,
            },
          );
        } finally {
          running = false;
          await extractor.close();
        }
      },
      async close() {
        await producer.disconnect();
        await admin.disconnect();
      },
    };
  } catch (err) {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    throw err;
  }
}

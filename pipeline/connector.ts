import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { createExtractor, type ExtractorOptions, type SalesforceExtractor } from '../connectors/salesforce';
import { loadCatalog, type Catalog } from '../schemas/catalog';
import { createTopicCodec, writerSchemasFrom, type TopicCodec } from '../schemas/codec';
import {
  connectorTopicSchemas,
  registerTopicSchemas,
  registryFromConfig,
  type RegistryConfig,
} from '../schemas/registry';
import type { Logger } from '../kernel/logger';
import type { DeletionGuardOptions } from './guard';
import { createKafka, useKafkaCodecs } from '../kafka/client';
import type { TopicNames, TopicSettings } from '../schemas/topics';
import type { KafkaOptions } from '../kafka/options';
import { createProducer, type PublisherOptions } from './kafka/publisher';
import { fenceId, openFence } from './kafka/fence';
import { StateStore, type LockOptions } from './kafka/state-store';
import { FatalError } from '../kernel/errors';
import { newRunState } from './run-state';
import { longId } from './login-ids';
import { stateCodec } from './state-codec';
import { provisionTopics } from '../kafka/topics';
import { runSync, type RunSummary, type SyncDeps, type SyncOptions } from './sync';
import { GENERIC_STREAMS } from '../schemas/streams/generic';
import { loadStream } from '../schemas/streams/load';
import type { StreamDeclaration } from '../schemas/streams/types';
import { streamTopic, streamTopicSchemas, type StreamRuntime } from './streams/runtime';

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
  /** Where checkpoints of the live indexes are kept (pipeline/kafka/index-checkpoint.ts); unset: none. */
  indexCheckpointDir?: string;
}

export interface RunRequest {
  dryRun?: boolean;
  fullRepublish?: boolean;
  /** Lets this run through the deletion guard. */
  allowMassDelete?: boolean;
  /** Lets this run go on although fields the last run read are no longer readable. */
  allowFieldLoss?: boolean;
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
  /** Binds the connector to another Salesforce org on purpose (see StateStore.rebind). */
  reset(orgId: string): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectorDeps {
  logger: Logger;
  /** Builds the extractor for each run (default: the real one from settings.salesforce). */
  extractor?: (settings: ConnectorSettings) => SalesforceExtractor;
  lock?: LockOptions;
  /** The declared streams beyond User and LoginHistory to run (default: every declared one). */
  streams?: readonly StreamDeclaration[];
  /** Builds the run's (non-transactional) producer (default: createProducer); tests wrap it to delay sends. */
  producer?: (kafka: Kafka) => Producer;
  /** The Kafka client of the connector's admin, producers and reads (default: createKafka(settings.kafka)). */
  kafka?: Kafka;
}

export async function startConnector(settings: ConnectorSettings, deps: ConnectorDeps): Promise<Connector> {
  const logger = deps.logger.child({ connector: settings.connectorName });
  const catalog = loadCatalog(settings.salesforce.fields);
  // every declared stream's files are read and checked now: a broken declaration stops start-up
  const declared = (deps.streams ?? GENERIC_STREAMS).map(loadStream);
  if (deps.kafka) useKafkaCodecs(logger);
  const kafka: Kafka = deps.kafka ?? createKafka(settings.kafka, logger);
  const admin: Admin = kafka.admin();
  const producer: Producer = (deps.producer ?? createProducer)(kafka);
  await admin.connect();
  try {
    const streamTopics = declared.map((s) => ({ name: streamTopic(s.decl, settings.topics), ...s.decl.topic }));
    const topicWarnings = await provisionTopics(admin, settings.topics, settings.topicSettings, logger, streamTopics);
    const clients = registryFromConfig(settings.registry);
    const sets = connectorTopicSchemas(
      { users: settings.topics.users, loginHistory: settings.topics.logins, state: settings.topics.state },
      catalog.schemas,
    );
    const registered = await registerTopicSchemas(clients, sets, { logger });
    const writers = writerSchemasFrom(clients.registry);
    const [users, logins, state] = registered.map((r, i) => createTopicCodec(r, sets[i], writers));
    const codecs = { users, logins, state };
    const streamSets = streamTopicSchemas(declared, settings.topics, catalog.schemas.key);
    const streamRegistered = await registerTopicSchemas(clients, streamSets, { logger });
    const streams: StreamRuntime[] = declared.map((loaded, i) => ({
      loaded,
      topic: streamSets[i].topic,
      codec: createTopicCodec(streamRegistered[i], streamSets[i], writers),
    }));
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
            {
              kafka,
              producer,
              extractor,
              codecs,
              catalog,
              logger,
              signal: req.signal,
              lock: deps.lock,
              onProgress: req.onProgress,
              streams,
            },
            {
              connectorName: settings.connectorName,
              topics: settings.topics,
              // the override is per run: only this request's flag, never the settings
              guard: { ...settings.guard, override: req.allowMassDelete === true },
              publisher: settings.publisher,
              dryRun: req.dryRun === true,
              fullRepublish: req.fullRepublish === true,
              allowFieldLoss: req.allowFieldLoss === true,
              scheduled: req.scheduled,
              replicationFactor: settings.topicSettings.replicationFactor,
              indexCheckpointDir: settings.indexCheckpointDir,
            },
          );
        } finally {
          running = false;
          await extractor.close();
        }
      },
      async reset(orgId) {
        if (!/^00D[0-9A-Za-z]{12}([0-9A-Za-z]{3})?$/.test(orgId)) {
          throw new FatalError(
            'CONFIG_INVALID',
            `--org ${JSON.stringify(orgId)} is not a Salesforce org Id (15 or 18 characters starting with 00D); ` +
              'copy it from the ORG_MISMATCH error',
          );
        }
        // Runs compare the bound org with the 18-character Id Salesforce answers; Setup shows the
        // 15-character one: bound as 15 characters, every run would refuse the same org.
        if (orgId.length === 15) orgId = longId(orgId);
        else if (longId(orgId.slice(0, 15)) !== orgId)
          throw new FatalError(
            'CONFIG_INVALID',
            `--org ${JSON.stringify(orgId)}: its last 3 characters are not the checksum of its first 15 ` +
              `(that org's 18-character Id is ${longId(orgId.slice(0, 15))}); copy it from the ORG_MISMATCH error`,
          );
        if (running) throw new Error('a run of this connector is in progress in this process');
        const store = new StateStore(
          kafka,
          producer,
          settings.topics.state,
          settings.connectorName,
          stateCodec(codecs.state),
          deps.lock,
        );
        const fence = () =>
          openFence(kafka, fenceId(settings.topics.state, settings.connectorName), settings.connectorName, {
            compression: settings.publisher.compression,
          });
        await store.rebind(newRunState(settings.connectorName, `reset-${randomUUID()}`, Date.now()), orgId, fence);
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

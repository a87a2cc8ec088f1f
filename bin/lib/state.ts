import { Partitioners, type Producer } from 'kafkajs';
import { createKafka } from '../../kafka/client';
import { StateStore, type StateSnapshot } from '../../pipeline/kafka/state-store';
import type { Logger } from '../../kernel/logger';
import { stateCodec } from '../../pipeline/state-codec';
import { loadConnectorSchemas } from '../../schemas/avro';
import { createTopicCodec, writerSchemasFrom } from '../../schemas/codec';
import { registryFromConfig } from '../../schemas/registry';
import type { LoadedConfig } from '../../pipeline/config';

/**
 * Reads a connector's run state from the state topic without registering anything: values are
 * decoded with the writer schema their id names (fetched from the registry) into the shipped
 * run-state schema. Read-only: nothing is produced.
 */
export async function readRunState(config: LoadedConfig, logger: Logger): Promise<StateSnapshot> {
  const kafka = createKafka(config.kafka, logger);
  const schemas = loadConnectorSchemas();
  const clients = registryFromConfig(config.registry);
  // No own ids (-1): every value's schema id is looked up, so any connector version's state decodes.
  const codec = createTopicCodec(
    {
      topic: config.topics.state,
      key: { subject: `${config.topics.state}-key`, id: -1, compatibility: 'BACKWARD' },
      value: { subject: `${config.topics.state}-value`, id: -1, compatibility: 'BACKWARD' },
    },
    { topic: config.topics.state, key: schemas.key, value: schemas.runStateValue },
    writerSchemasFrom(clients.registry),
  );
  // load() never produces; the store only needs a producer for writes.
  const unusedProducer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const store = new StateStore(kafka, unusedProducer, config.topics.state, config.connectorName, stateCodec(codec));
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(config.topics.state)) return { committed: null, lastRun: null, lock: null };
  } finally {
    await admin.disconnect();
  }
  const { committed, lastRun, lock } = await store.load();
  return { committed, lastRun, lock };
}

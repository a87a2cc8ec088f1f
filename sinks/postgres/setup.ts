import type { Admin } from 'kafkajs';
import type { Pool } from 'pg';
import type { AvroSchemaJson } from '../../schemas/avro';
import type { Logger } from '../../kernel/logger';
import { DEFAULT_TOPICS, DEFAULT_TOPIC_SETTINGS } from '../../schemas/topics';
import { topicSpecs } from '../../kafka/topics';
import { ensureTable } from './ddl';
import type { SchemaSource } from './schema-source';
import type { SinkTable } from './table';

/**
 * Start-up DDL for one table: its columns are the union of the schema this build ships and the
 * newest version registered for the topic (a newer connector may have registered fields this
 * build does not know yet). Creates or alters the table and its indexes. Idempotent.
 */
export async function prepareTable(pool: Pool, table: SinkTable, shipped: AvroSchemaJson, topic: string, schemas: SchemaSource, logger: Logger): Promise<void> {
  table.absorb(shipped);
  const latest = await schemas.latest(`${topic}-value`);
  if (latest) table.absorb(latest.schema);
  await ensureTable(pool, table, logger);
}

/** Creates the dead-letter topic when it is missing (delete policy, as provisionTopics would). */
export async function ensureDeadLetterTopic(admin: Admin, topic: string, logger: Logger): Promise<void> {
  if ((await admin.listTopics()).includes(topic)) return;
  const spec = topicSpecs({ ...DEFAULT_TOPICS, deadLetter: topic }, DEFAULT_TOPIC_SETTINGS).find((s) => s.topic === topic)!;
  await admin.createTopics({ topics: [spec], waitForLeaders: true }).catch((err: Error & { type?: string }) => {
    if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
  });
  logger.info('created the dead-letter topic', { topic });
}

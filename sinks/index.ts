/**
 * The PostgreSQL sink: Avro records from the users and login-history topics into PostgreSQL
 * tables. createPostgresSink takes every dependency ready-made; fromConfig builds the real ones
 * (including an embedded PostgreSQL when no database URL is configured).
 */
export { createPostgresSink, DEFAULT_TUNING, type PostgresSink, type PostgresSinkDeps, type SinkStats, type SinkTuning } from './postgres/sink';
export { fromConfig, replayFromConfig } from './postgres/from-config';
export { resolveSinkConfig, DEFAULT_SINK_GROUP, DEFAULT_TABLES, type PostgresSinkConfig, type ResolvedSinkConfig } from './postgres/config';
export { replay, type ReplayDeps, type ReplayProgress, type ReplayResult } from './postgres/replay';
export { startEmbeddedPostgres, defaultEmbeddedDataDir, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './postgres/embedded';
export type { SinkHooks } from './postgres/consumer';
export type { SinkHealthReport, PartitionHealth } from './postgres/health';
export { registrySchemaSource, type SchemaSource } from './postgres/schema-source';
export { DEAD_LETTER_HEADERS } from './postgres/dead-letter';
export { classifyDbError } from './postgres/classify';
export type { TableName } from './postgres/sql';

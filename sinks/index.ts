/**
 * The sinks: declared streams (schemas/streams) from Kafka into a store. The engine (engine/)
 * is generic: consumer group, decoding, collapsing, dead letters, offsets, health; a store is
 * one implementation of the sink port (port.ts): PostgreSQL (postgres/), in memory (memory/).
 * createPostgresSink takes every dependency ready-made; fromConfig builds the real ones
 * (including an embedded PostgreSQL when no database URL is configured).
 */
export type { Sink, SinkStream, BatchWrite, WriteOp, WriteOutcome, WriterSchema, SourceRecord } from './port';
export { sinkStreams, userRemovalCascades, type StreamOverrides, type DeleteCascade } from './streams';
export { createSinkEngine, type SinkRunner, type SinkEngineDeps, type EngineTuning } from './engine/engine';
export { createMemorySink, type MemorySink } from './memory/sink';
export { createPostgresStore } from './postgres/store';
export {
  createPostgresSink,
  DEFAULT_TUNING,
  type PostgresSink,
  type PostgresSinkDeps,
  type SinkStats,
  type SinkTuning,
} from './postgres/sink';
export { fromConfig, replayFromConfig } from './postgres/from-config';
export {
  resolveSinkConfig,
  DEFAULT_SINK_GROUP,
  DEFAULT_TABLES,
  type PostgresSinkConfig,
  type ResolvedSinkConfig,
} from './postgres/config';
export { replay, type ReplayDeps, type ReplayProgress, type ReplayResult } from './postgres/replay';
export {
  startEmbeddedPostgres,
  defaultEmbeddedDataDir,
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
} from './postgres/embedded';
export type { SinkHooks } from './engine/consumer';
export type { SinkHealthReport, PartitionHealth } from './engine/health';
export { registrySchemaSource, type SchemaSource } from './postgres/schema-source';
export { DEAD_LETTER_HEADERS } from './engine/dead-letter';
export { classifyDbError } from './postgres/classify';
export type { TableName } from './postgres/sql';

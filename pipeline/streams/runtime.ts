import type { TopicCodec } from '../../schemas/codec';
import type { TopicSchemaSet } from '../../schemas/registry';
import type { AvroSchemaJson } from '../../schemas/avro';
import type { LoadedStream } from '../../schemas/streams/load';
import type { StreamDeclaration } from '../../schemas/streams/types';
import type { TopicNames } from '../../schemas/topics';

/** A declared stream ready to run: its files loaded, its topic named, its schemas registered. */
export interface StreamRuntime {
  readonly loaded: LoadedStream;
  readonly topic: string;
  readonly codec: TopicCodec;
}

/** The topic a stream publishes to: the config's name for it (topics.streams), else its default. */
export function streamTopic(decl: StreamDeclaration, topics: TopicNames): string {
  return topics.streams?.[decl.name] ?? decl.topic.defaultName;
}

/** The key and value schema of each stream's topic (every key is an Avro string). */
export function streamTopicSchemas(
  streams: readonly LoadedStream[],
  topics: TopicNames,
  key: AvroSchemaJson,
): TopicSchemaSet[] {
  return streams.map((s) => ({ topic: streamTopic(s.decl, topics), key, value: s.valueSchema }));
}

import type avro from 'avsc';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { avroType } from './avro';
import type { RegisteredTopic, TopicSchemaSet } from './registry';
import { RecordError } from '../kernel/errors';
import { decodeFramed, encodeFramed, resolverFor, unframe, type DecodeFrom } from './wire';

/** Finds the Avro type of a schema id (the writer schema of a message). */
export interface WriterSchemas {
  /** Rejects when the registry does not know the id or cannot be reached. */
  typeOf(schemaId: number): Promise<avro.Type>;
}

/** Writer schemas from the registry library, which fetches each id once and caches it. */
export function writerSchemasFrom(registry: SchemaRegistry): WriterSchemas {
  // The library builds avsc Types (without logical types, like avroType) for Avro schemas.
  return { typeOf: async (id) => (await registry.getSchema(id)) as unknown as avro.Type };
}

/**
 * Serialisation for one topic, in Confluent wire format.
 * Encoding is synchronous and local (the ids come from start-up registration): no registry call
 * per record. It throws a RecordError when the value does not fit the schema.
 * Decoding reads the schema id in the message, fetches that writer schema when it is not the
 * one this process registered, and resolves it into this process's (reader) schema, so records
 * written by older or newer versions of the connector decode as long as the schemas are
 * compatible. A message that is not wire format or not decodable rejects with a RecordError.
 */
export interface TopicCodec {
  readonly topic: string;
  readonly keySchemaId: number;
  readonly valueSchemaId: number;
  encodeKey(key: string): Buffer;
  encodeValue(value: unknown): Buffer;
  decodeKey(message: Buffer): Promise<string>;
  decodeValue<T = Record<string, unknown>>(message: Buffer): Promise<T>;
}

export function createTopicCodec(
  registered: RegisteredTopic,
  schemas: TopicSchemaSet,
  writers: WriterSchemas,
): TopicCodec {
  const keyType = avroType(schemas.key);
  const valueType = avroType(schemas.value);
  const decoder = (reader: avro.Type, ownId: number) => {
    // How to read each writer schema id: its type, and its resolver (none: the same schema as the reader).
    const froms = new Map<number, DecodeFrom>([[ownId, { writer: reader }]]);
    return async (message: Buffer) => {
      const { schemaId } = unframe(message);
      let from = froms.get(schemaId);
      if (!from) {
        const writer = await writers.typeOf(schemaId);
        from = { writer, resolver: resolve(reader, writer, schemaId) };
        froms.set(schemaId, from);
      }
      return decodeFramed(reader, message, from).value;
    };
  };
  const decodeKey = decoder(keyType, registered.key.id);
  const decodeValue = decoder(valueType, registered.value.id);
  return {
    topic: registered.topic,
    keySchemaId: registered.key.id,
    valueSchemaId: registered.value.id,
    encodeKey: (key) => encodeFramed(keyType, registered.key.id, key),
    encodeValue: (value) => encodeFramed(valueType, registered.value.id, value),
    decodeKey: async (message) => (await decodeKey(message)) as string,
    decodeValue: async <T>(message: Buffer) => (await decodeValue(message)) as T,
  };
}

function resolve(reader: avro.Type, writer: avro.Type, schemaId: number): avro.Resolver | undefined {
  try {
    return resolverFor(reader, writer);
  } catch (err) {
    throw new RecordError(
      `schema id ${schemaId} cannot be read as ${reader.name ?? reader.typeName}: ${(err as Error).message}`,
      { code: 'RECORD_UNDECODABLE', cause: err },
    );
  }
}

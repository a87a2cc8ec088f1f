import type avro from 'avsc';
import type { KafkaMessage } from 'kafkajs';
import { avroType, type AvroSchemaJson } from '../../schemas/avro';
import { decodeFramed, unframe } from '../../schemas/wire';
import { RecordError } from '../../kernel/errors';
import type { WriterSchema } from '../port';
import type { SchemaSource } from '../postgres/schema-source';

export type { WriterSchema };

/** One Kafka record, decoded with its own writer schema. `value` null is a tombstone. */
export interface Decoded {
  readonly key: string;
  readonly value: Record<string, unknown> | null;
  /** The value's writer schema (undefined for a tombstone). */
  readonly writer?: WriterSchema;
}

/**
 * Decodes Confluent-wire-format keys and values by the schema id in each message. Records are
 * read with their own writer schema (no resolution into a fixed reader): a field a newer
 * connector added arrives as such, and the table gains a column for it.
 * Rejects with a RecordError (dead-letter the message) for a missing key, bytes that are not
 * wire format, an undecodable body, a key that is not an Avro string, or a value whose id
 * differs from the key; with a RetriableError when the registry is down, fails or does not know
 * the schema id (registry trouble: the partition waits, nothing is dead-lettered).
 */
export interface RecordDecoder {
  decode(message: Pick<KafkaMessage, 'key' | 'value'>): Promise<Decoded>;
  /** The parsed writer schema of an id (cached). Same rejections as decode. */
  writer(id: number): Promise<WriterSchema>;
}

export function createDecoder(source: SchemaSource, accept?: (json: AvroSchemaJson) => void): RecordDecoder {
  const cache = new Map<number, Promise<WriterSchema>>();

  const writer = (id: number): Promise<WriterSchema> => {
    let found = cache.get(id);
    if (!found) {
      found = source.byId(id).then((json) => parseWriter(id, json, accept));
      // A failed lookup is not cached: the registry may be back (or the id registered) later.
      found.catch(() => cache.delete(id));
      cache.set(id, found);
    }
    return found;
  };

  return {
    writer,
    async decode(message) {
      if (!message.key || message.key.length === 0)
        throw new RecordError('message has no key (every record is keyed by its Salesforce Id)', {
          code: 'KEY_MISSING',
        });
      const keyWriter = await writer(unframe(message.key).schemaId);
      if (keyWriter.type.typeName !== 'string')
        throw new RecordError(`key schema ${keyWriter.id} is ${keyWriter.type.typeName}, not an Avro string`, {
          code: 'KEY_NOT_STRING',
        });
      const key = decodeFramed(keyWriter.type, message.key).value as string;
      if (message.value === null || message.value === undefined) return { key, value: null };
      const valueWriter = await writer(unframe(message.value).schemaId);
      if (!valueWriter.fields)
        throw new RecordError(`value schema ${valueWriter.id} is not a record`, { code: 'RECORD_UNDECODABLE' });
      const value = decodeFramed(valueWriter.type, message.value).value as Record<string, unknown>;
      if (typeof value.id === 'string' && value.id !== key) {
        throw new RecordError(`value id ${value.id} differs from the record key ${key}`, {
          code: 'KEY_MISMATCH',
          field: 'id',
          value: String(value.id),
        });
      }
      return { key, value, writer: valueWriter };
    },
  };
}

function parseWriter(id: number, json: AvroSchemaJson, accept?: (json: AvroSchemaJson) => void): WriterSchema {
  let type: avro.Type;
  try {
    type = avroType(json);
  } catch (err) {
    throw new RecordError(`schema id ${id} is not a valid Avro schema: ${(err as Error).message}`, {
      code: 'RECORD_UNDECODABLE',
      cause: err,
    });
  }
  if (type.typeName !== 'record') return { id, json, type };
  try {
    accept?.(json);
  } catch (err) {
    throw new RecordError(`schema id ${id} cannot be stored: ${(err as Error).message}`, {
      code: 'RECORD_UNDECODABLE',
      cause: err,
    });
  }
  return { id, json, type, fields: new Set((type as avro.types.RecordType).fields.map((f) => f.name)) };
}

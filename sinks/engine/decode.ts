import type avro from 'avsc';
import type { KafkaMessage } from 'kafkajs';
import { avroType, type AvroSchemaJson } from '../../schemas/avro';
import { decodeFramed, MAGIC_BYTE, unframe, WIRE_HEADER_BYTES } from '../../schemas/wire';
import { RecordError } from '../../kernel/errors';
import type { WriterSchema } from '../port';
import type { SchemaSource } from '../postgres/schema-source';
import { compileCheck, type BodyCheck } from '../../schemas/avro-check';

export type { WriterSchema };

/** One Kafka record, decoded with its own writer schema. `value` null is a tombstone. */
export interface Decoded {
  readonly key: string;
  /** The record (built on first read when the decoder only checked the bytes: see avro-check.ts). */
  readonly value: Record<string, unknown> | null;
  /** The value's writer schema (undefined for a tombstone). */
  readonly writer?: WriterSchema;
  /** True for a tombstone; when absent, `value === null` says it. Read this, not `value`, to keep decoding lazy. */
  readonly tombstone?: boolean;
}

/** Whether a decoded record is a tombstone, without building its value. */
export const isTombstone = (d: Decoded): boolean => d.tombstone ?? d.value === null;

/** A record whose bytes were checked (avro-check.ts): its object is built only if someone reads `value`. */
class CheckedRecord implements Decoded {
  readonly tombstone = false;
  private built: Record<string, unknown> | undefined;
  constructor(
    readonly key: string,
    readonly writer: WriterSchema,
    private readonly message: Buffer,
  ) {}
  get value(): Record<string, unknown> {
    this.built ??= decodeFramed(this.writer.type, this.message, { checked: true }).value as Record<string, unknown>;
    return this.built;
  }
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
  /**
   * decode, synchronously, when both writer schemas are already known; undefined otherwise (call
   * decode). Throws what decode rejects with.
   */
  decodeCached?(message: Pick<KafkaMessage, 'key' | 'value'>): Decoded | undefined;
  /** The parsed writer schema of an id (cached). Same rejections as decode. */
  writer(id: number): Promise<WriterSchema>;
}

export function createDecoder(source: SchemaSource, accept?: (json: AvroSchemaJson) => void): RecordDecoder {
  const cache = new Map<number, Promise<WriterSchema>>();
  // Writer schemas already parsed: most records decode synchronously (decodeCached), with no
  // promise, retry wrapper or microtask per record.
  const resolved = new Map<number, WriterSchema>();
  const writer = (id: number): Promise<WriterSchema> => {
    let found = cache.get(id);
    if (!found) {
      found = source.byId(id).then((json) => {
        const parsed = parseWriter(id, json, accept);
        resolved.set(id, parsed);
        return parsed;
      });
      // A failed lookup is not cached: the registry may be back (or the id registered) later.
      found.catch(() => cache.delete(id));
      cache.set(id, found);
    }
    return found;
  };

  return {
    writer,
    async decode(message) {
      const keyWriter = await writer(unframe(keyOf(message)).schemaId);
      keyString(keyWriter);
      if (message.value === null || message.value === undefined) return finish(message, keyWriter, undefined);
      return finish(message, keyWriter, await writer(unframe(message.value).schemaId));
    },
    decodeCached(message) {
      if (!message.key) return undefined;
      const keyWriter = resolved.get(idOf(message.key));
      if (!keyWriter) return undefined;
      if (message.value === null || message.value === undefined) return finish(message, keyWriter, undefined);
      const valueWriter = resolved.get(idOf(message.value));
      return valueWriter && finish(message, keyWriter, valueWriter);
    },
  };
}

/** The schema id of a framed buffer, or -1 (no schema has it: the async path says what is wrong). */
const idOf = (b: Buffer) => (b.length >= WIRE_HEADER_BYTES && b[0] === MAGIC_BYTE ? b.readInt32BE(1) : -1);

function keyOf(message: Pick<KafkaMessage, 'key'>): Buffer {
  if (!message.key || message.key.length === 0)
    throw new RecordError('message has no key (every record is keyed by its Salesforce Id)', {
      code: 'KEY_MISSING',
    });
  return message.key;
}

function keyString(keyWriter: WriterSchema): void {
  if (keyWriter.type.typeName !== 'string')
    throw new RecordError(`key schema ${keyWriter.id} is ${keyWriter.type.typeName}, not an Avro string`, {
      code: 'KEY_NOT_STRING',
    });
}

/** The record, once its writer schemas are known (decode's checks after its lookups, in the same order). */
function finish(
  message: Pick<KafkaMessage, 'key' | 'value'>,
  keyWriter: WriterSchema,
  valueWriter: WriterSchema | undefined,
): Decoded {
  keyString(keyWriter);
  const key = asciiKey(message.key) ?? (decodeFramed(keyWriter.type, keyOf(message)).value as string);
  if (!valueWriter || !message.value) return { key, value: null };
  if (!valueWriter.fields)
    throw new RecordError(`value schema ${valueWriter.id} is not a record`, { code: 'RECORD_UNDECODABLE' });
  if (valueWriter.check) {
    const id = checkBody(valueWriter.check, message.value);
    if (id !== undefined && id !== key) throw keyMismatch(id, key);
    return new CheckedRecord(key, valueWriter, message.value);
  }
  const value = decodeFramed(valueWriter.type, message.value).value as Record<string, unknown>;
  if (typeof value.id === 'string' && value.id !== key) throw keyMismatch(value.id, key);
  return { key, value, writer: valueWriter };
}

const keyMismatch = (id: string, key: string) =>
  new RecordError(`value id ${id} differs from the record key ${key}`, {
    code: 'KEY_MISMATCH',
    field: 'id',
    value: id,
  });

/**
 * A framed Avro string key whose bytes are all ASCII, read in place; undefined for anything else
 * (decodeFramed then says what avsc says). avsc reads these bytes to the same string; this skips
 * its Tap, result object and views, per record (the sink's GC was ~19 % of its CPU, session 9).
 */
function asciiKey(key: Buffer | null | undefined): string | undefined {
  if (!key || key.length < WIRE_HEADER_BYTES + 1 || key[0] !== MAGIC_BYTE) return undefined;
  const zigzag = key[WIRE_HEADER_BYTES];
  if (zigzag & 0x81) return undefined; // a length of 64 bytes or more, or a negative one: avsc's path
  const end = WIRE_HEADER_BYTES + 1 + (zigzag >> 1);
  if (end !== key.length) return undefined;
  for (let i = WIRE_HEADER_BYTES + 1; i < end; i++) if (key[i] & 0x80) return undefined;
  return key.toString('latin1', WIRE_HEADER_BYTES + 1, end);
}

/** The checker's verdict on a framed value, with decodeFramed's errors (same codes). */
function checkBody(check: BodyCheck, message: Buffer): string | undefined {
  if (message.length < WIRE_HEADER_BYTES || message[0] !== MAGIC_BYTE) unframe(message); // throws its error
  const schemaId = message.readInt32BE(1);
  try {
    // checked in place: no view of the body per record
    return check(message, WIRE_HEADER_BYTES);
  } catch (err) {
    throw new RecordError(`cannot decode Avro body with schema id ${schemaId}: ${(err as Error).message}`, {
      code: 'RECORD_UNDECODABLE',
      cause: err,
    });
  }
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
  const fields = new Set((type as avro.types.RecordType).fields.map((f) => f.name));
  const check = compileCheck(type);
  return check ? { id, json, type, fields, check } : { id, json, type, fields };
}

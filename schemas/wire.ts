import avro from 'avsc';
import { RecordError } from '../kernel/errors';
import { useOwnStringWriter } from './avro-strings';
import { compileBound, type BodyBound } from './avro-check';

// avsc's string fields written by schemas/avro-strings.ts (same bytes, one pass for short strings)
useOwnStringWriter();

/**
 * Confluent wire format: byte 0 is the magic byte 0, bytes 1-4 the schema id (big-endian
 * signed 32-bit), then the Avro binary body. Every Confluent-compatible serializer and
 * deserializer (Java, Python confluent-kafka, @kafkajs/confluent-schema-registry) reads it.
 */
export const MAGIC_BYTE = 0;
export const WIRE_HEADER_BYTES = 5;

/** Frames an Avro body with the magic byte and schema id. */
export function frame(schemaId: number, body: Buffer): Buffer {
  checkSchemaId(schemaId);
  const header = Buffer.alloc(WIRE_HEADER_BYTES);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

/** Splits a framed message. A RecordError (bad data, dead-letter it) when it is not wire format. */
export function unframe(message: Buffer): { schemaId: number; body: Buffer } {
  if (message.length < WIRE_HEADER_BYTES || message[0] !== MAGIC_BYTE) {
    throw new RecordError(`not Confluent wire format (${message.length} bytes, first byte ${message[0] ?? 'none'})`, {
      code: 'WIRE_FORMAT_INVALID',
    });
  }
  return { schemaId: message.readInt32BE(1), body: message.subarray(WIRE_HEADER_BYTES) };
}

/** Reused by encodeFramed, which is synchronous: no two encodings ever share it at once. */
let scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * Encodes `value` with `type` and frames it. When the value does not fit the schema, throws a
 * RecordError whose `field` is the first offending path (e.g. "latitude") so the caller can
 * dead-letter the record.
 *
 * Hot path (one call per published user): the body is written once into a scratch buffer behind the
 * header and copied out once, instead of avsc's buffer, a header buffer and a concat (s4-cpu). For a
 * flat record schema (`writerChecks`) avsc's writer refuses every value its check refuses, with the
 * same tests, so the value is written without the check walking it first (~14 µs a user) and only a
 * value the writer refuses is checked, to name its fields; other schemas are checked first. Same
 * bytes and the same errors as check-then-encode (test/unit/schemas/encode-unchecked.sim.test.ts).
 */
export function encodeFramed(type: avro.Type, schemaId: number, value: unknown): Buffer {
  let end: number;
  if (value !== null && typeof value === 'object' && writerChecks(type)) {
    try {
      end = type.encode(value, scratch, WIRE_HEADER_BYTES);
    } catch (err) {
      throw refusal(type, value) ?? err;
    }
    checkSchemaId(schemaId);
  } else {
    const refused = refusal(type, value);
    if (refused) throw refused;
    checkSchemaId(schemaId);
    end = type.encode(value, scratch, WIRE_HEADER_BYTES);
  }
  if (end < 0) {
    // avsc returns minus the bytes missing: grow once to fit, and keep the larger buffer.
    scratch = Buffer.allocUnsafe(Math.max(2 * scratch.length, scratch.length - end));
    end = type.encode(value, scratch, WIRE_HEADER_BYTES);
    // never with the same value; a short record must not slip through if it ever did
    if (end < 0) throw new Error(`encodeFramed: ${-end} bytes still missing after growing the buffer`);
  }
  scratch.writeUInt8(MAGIC_BYTE, 0);
  scratch.writeInt32BE(schemaId, 1);
  return Buffer.from(scratch.subarray(0, end));
}

/**
 * The RecordError for a value that does not fit, or null when it fits. The check runs without an
 * error hook first (avsc then stops at the first bad field) and again with it only to name the fields.
 */
function refusal(type: avro.Type, value: unknown): RecordError | null {
  if (type.isValid(value)) return null;
  const paths: string[] = [];
  type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') });
  return new RecordError(`record does not fit schema ${type.name ?? type.typeName}: invalid at ${paths.join(', ')}`, {
    code: 'RECORD_SCHEMA_MISMATCH',
    field: paths[0],
  });
}

/**
 * The types whose avsc 5.7.9 writer throws for exactly the values its check refuses, with the same
 * test in `_write` as in `_check` (lib/types.js: null, boolean, int, long, float, double, string,
 * bytes, enum; a map's object test and its values; the unwrapped union's branch lookup). Not here:
 * nested records (the writer reads the fields of any value, the check wants an object), arrays,
 * fixed, logical types and wrapped unions: a schema with one of them is checked before it is written.
 */
const WRITE_CHECKED = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'string', 'bytes', 'enum']);
const flatRecords = new WeakMap<avro.Type, boolean>();

function writeChecked(t: avro.Type): boolean {
  if (t instanceof avro.types.UnwrappedUnionType) return t.types.every(writeChecked);
  if (t instanceof avro.types.MapType) return writeChecked(t.valuesType);
  return WRITE_CHECKED.has(t.typeName);
}

/** A record whose fields are all writeChecked (encodeFramed checks itself that the value is an object). */
function writerChecks(type: avro.Type): boolean {
  let flat = flatRecords.get(type);
  if (flat === undefined) {
    flat = type instanceof avro.types.RecordType && type.fields.every((f) => writeChecked(f.type));
    flatRecords.set(type, flat);
  }
  return flat;
}

function checkSchemaId(schemaId: number): void {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff)
    throw new RangeError(`schema id ${schemaId} is not a registry id`);
}

/**
 * The resolver that lets `readerType` read data written with `writerType` (undefined when they
 * are the same schema). A reader of schema version N then reads records written with version M
 * whenever the two are compatible; build it once per writer schema id, it is not cheap.
 * Throws when the schemas cannot be resolved (incompatible).
 */
export function resolverFor(readerType: avro.Type, writerType: avro.Type): avro.Resolver | undefined {
  return writerType === readerType || writerType.equals(readerType) ? undefined : readerType.createResolver(writerType);
}

/**
 * How decodeFramed reads a body: `writer` with `resolver` when the writer schema differs from the
 * reader (resolverFor); `checked` when the body was already checked with its writer schema
 * (schemas/avro-check.ts): it is not walked again.
 */
export type DecodeFrom = { writer: avro.Type; resolver?: avro.Resolver } | { checked: true };

/**
 * Decodes a framed message with `readerType` (through `from.resolver` when the writer schema differs).
 * The body is first walked with its writer schema (compileBound): avsc reads a corrupt block count
 * of ~2^50 as so many entries, past the end of the buffer, for ever and synchronously (no timeout
 * fires: a connector reading its state, a sink decoding a record, would hang); the walk refuses it
 * as avsc would refuse it in the end.
 */
export function decodeFramed(
  readerType: avro.Type,
  message: Buffer,
  from?: DecodeFrom,
): { schemaId: number; value: unknown } {
  const { schemaId, body } = unframe(message);
  try {
    const resolver = from && 'resolver' in from ? from.resolver : undefined;
    if (!from || !('checked' in from)) boundOf(from?.writer ?? readerType, resolver && readerType)?.(body);
    return { schemaId, value: readerType.fromBuffer(body, resolver) };
  } catch (err) {
    throw new RecordError(`cannot decode Avro body with schema id ${schemaId}: ${(err as Error).message}`, {
      code: 'RECORD_UNDECODABLE',
      cause: err,
    });
  }
}

/** The bound of a writer read as `reader` (the writer itself when no resolver: a plain walk), cached per pair. */
function boundOf(writer: avro.Type, reader: avro.Type = writer): BodyBound | undefined {
  let byWriter = bounds.get(reader);
  if (!byWriter) bounds.set(reader, (byWriter = new WeakMap()));
  let bound = byWriter.get(writer);
  if (bound === undefined) {
    bound = compileBound(writer, reader) ?? null;
    byWriter.set(writer, bound);
  }
  return bound ?? undefined;
}

const bounds = new WeakMap<avro.Type, WeakMap<avro.Type, BodyBound | null>>();

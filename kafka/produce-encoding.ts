/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's protocol modules have no types */
/**
 * The records of a produce request, encoded in one buffer per partition instead of kafkajs's
 * Encoder per record and per header. Same bytes on the wire (test/unit/kafka/produce-encoding.test.ts
 * compares whole requests with kafkajs's own, test/integration/pipeline/produce-encoding.test.ts reads
 * them back from Kafka); kafkajs keeps everything else (connections, idempotence, retries, batching).
 *
 * Why: kafkajs 2.2.4 gives every record and every header its own Encoder, each a zero-filled 512-byte
 * Buffer.alloc, writes every varint through a new array and Buffer, and the timestamp delta through
 * its BigInt-backed Long; a user record has six headers, so one user cost ~48 µs of encoding and much
 * of the garbage collector's time on a first full run (docs/performance-s7-cpu.md, -s8-cpu.md). A
 * patch of kafkajs (patch-package) was the other way, but the Dockerfile's `npm ci` runs with only
 * package.json and the lock file in its context: the patch would silently not be applied in the image.
 *
 * How: kafkajs's broker looks the Produce request up by version at every send
 * (`requests.Produce.protocol({ version })`); versions 3-7 (the record-batch format, all built on v3's
 * request) get v3's request with this module's `encode`. Messages the fast path does not take (a
 * timestamp, a header with several values, a key, value or header that is neither a string nor a
 * Buffer) leave the whole request to kafkajs's encode, which gives what it always gave (bytes or error).
 */
import type { Message } from 'kafkajs';

interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  size(): number;
  writeInt8(v: number): KafkajsEncoder;
  writeInt16(v: number): KafkajsEncoder;
  writeInt32(v: number): KafkajsEncoder;
  writeUInt32(v: number): KafkajsEncoder;
  writeInt64(v: unknown): KafkajsEncoder;
  writeString(v: string | null): KafkajsEncoder;
  writeBytes(v: Buffer): KafkajsEncoder;
  writeBuffer(v: Buffer): KafkajsEncoder;
  writeEncoder(v: KafkajsEncoder): KafkajsEncoder;
  writeArray(v: KafkajsEncoder[]): KafkajsEncoder;
}
type EncoderClass = (new () => KafkajsEncoder) & { prototype: KafkajsEncoder };

interface ProduceArgs {
  acks: number;
  timeout: number;
  compression?: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  topicData: TopicData[];
}
interface TopicData {
  topic: string;
  partitions: { partition: number; firstSequence?: number; messages: Message[] }[];
}
interface ProduceRequest {
  apiVersion: number;
  encode(): Promise<KafkajsEncoder>;
}
type MakeRequest = (args: ProduceArgs) => { request: ProduceRequest; response: unknown };
type Protocol = (p: { version: number }) => MakeRequest;

const Encoder = require('kafkajs/src/protocol/encoder') as EncoderClass;
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;
const { lookupCodec, Types } = require('kafkajs/src/protocol/message/compression') as {
  lookupCodec(type: number): { compress(encoder: KafkajsEncoder): Promise<Buffer> } | null;
  Types: { None: number };
};
const Long = require('kafkajs/src/utils/long') as { fromInt(n: number): unknown };
const produce = require('kafkajs/src/protocol/requests/produce') as { protocol: Protocol };

const kafkajsProtocol: Protocol = produce.protocol;

// v3's constants (kafkajs/src/protocol/recordBatch/v0/index.js)
const RECORD_BATCH_MAGIC = 2;
const TRANSACTIONAL_MASK = 16;
const COMPRESSION_CODEC_MASK = 0x07;

const ownProtocol: Protocol = ({ version }) => {
  const make = kafkajsProtocol({ version });
  if (version < 3 || version > 7) return make;
  return (args) => {
    const made = make(args);
    const theirs = made.request.encode.bind(made.request);
    made.request.encode = () => (args.topicData.every(fastPathTakes) ? encodeProduce(args) : theirs());
    return made;
  };
};

/** Produce requests from here on encode their records in this module (the default once a client exists). */
export function useOwnRecordEncoding(): void {
  produce.protocol = ownProtocol;
}

/** kafkajs's own encoding, for the equivalence tests and the side-by-side benchmark. */
export function useKafkajsRecordEncoding(): void {
  produce.protocol = kafkajsProtocol;
}

function fastPathTakes(data: TopicData): boolean {
  for (const { messages } of data.partitions) {
    for (const m of messages) {
      if (m.timestamp != null || !isBytes(m.key) || !isBytes(m.value)) return false;
      const headers: unknown = m.headers;
      if (headers === undefined) continue;
      if (headers === null || typeof headers !== 'object') return false;
      for (const k in headers) {
        if (!Object.hasOwn(headers, k)) return false;
        const v = (headers as Record<string, unknown>)[k];
        // null: Kafka's null header value (length -1), which a consumer hands back as null and a dead
        // letter copies from its source record; kafkajs's own encoder throws on it (Buffer.byteLength)
        if (v !== null && typeof v !== 'string' && !Buffer.isBuffer(v)) return false;
      }
    }
  }
  return true;
}

function isBytes(v: unknown): boolean {
  return v == null || typeof v === 'string' || Buffer.isBuffer(v);
}

/** v3's request encode (kafkajs/src/protocol/requests/produce/v3/request.js) with our records. */
async function encodeProduce(args: ProduceArgs): Promise<KafkajsEncoder> {
  // kafkajs's defaults for what the caller left out, taken from v3's request itself
  const { transactionalId = null, producerId = Long.fromInt(-1), producerEpoch = 0, compression = Types.None } = args;
  const topics: KafkajsEncoder[] = [];
  for (const { topic, partitions } of args.topicData) {
    const encoded: KafkajsEncoder[] = [];
    for (const { partition, messages, firstSequence = 0 } of partitions) {
      const batch = await recordBatch(messages, {
        compression,
        transactional: !!transactionalId,
        producerId,
        producerEpoch,
        firstSequence,
      });
      encoded.push(new Encoder().writeInt32(partition).writeInt32(batch.size()).writeEncoder(batch));
    }
    topics.push(new Encoder().writeString(topic).writeArray(encoded));
  }
  return new Encoder().writeString(transactionalId).writeInt16(args.acks).writeInt32(args.timeout).writeArray(topics);
}

interface BatchOptions {
  compression: number;
  transactional: boolean;
  producerId: unknown;
  producerEpoch: number;
  firstSequence: number;
}

/** kafkajs's RecordBatch (recordBatch/v0) for messages without timestamps: every record's delta is 0. */
async function recordBatch(messages: Message[], o: BatchOptions): Promise<KafkajsEncoder> {
  const now = Date.now();
  const codec = o.compression & COMPRESSION_CODEC_MASK;
  const body = new Encoder()
    .writeInt16(codec | (o.transactional ? TRANSACTIONAL_MASK : 0))
    .writeInt32(messages.length - 1)
    .writeInt64(now)
    .writeInt64(now)
    .writeInt64(o.producerId)
    .writeInt16(o.producerEpoch)
    .writeInt32(o.firstSequence)
    .writeInt32(messages.length);
  const records = encodeRecords(messages);
  if (o.compression === Types.None) body.writeBuffer(records);
  else body.writeBuffer(await compress(o.compression, records));
  const batch = new Encoder()
    .writeInt32(0) // partition leader epoch
    .writeInt8(RECORD_BATCH_MAGIC)
    .writeUInt32(crc32C(body.buffer))
    .writeEncoder(body);
  return new Encoder().writeInt64(Long.fromInt(0)).writeBytes(batch.buffer);
}

async function compress(type: number, records: Buffer): Promise<Buffer> {
  // as kafkajs's compressRecords: an unknown type fails on the null codec, with the same TypeError
  const codec = lookupCodec(type) as { compress(encoder: KafkajsEncoder): Promise<Buffer> };
  return codec.compress(encoderOver(records));
}

/** A kafkajs Encoder over `buf` without the constructor's zero-filled allocation. */
function encoderOver(buf: Buffer): KafkajsEncoder {
  const e = Object.create(Encoder.prototype) as KafkajsEncoder;
  e.buf = buf;
  e.offset = buf.length;
  return e;
}

/**
 * Record (recordBatch/record/v0), for each message, into one buffer:
 * Length varint | Attributes int8 (0) | TimestampDelta varlong (0) | OffsetDelta varint |
 * Key varint length + bytes (-1 for null) | Value the same | Headers varint count, then per header
 * Key varint length + UTF-8 | Value varint length + bytes.
 */
export function encodeRecords(messages: readonly Message[]): Buffer {
  const bodies = new Array<number>(messages.length);
  const counts = new Array<number>(messages.length);
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Message;
    let body = 2 + varIntSize(i) + bytesSize(m.key) + bytesSize(m.value);
    let count = 0;
    const headers = m.headers as Record<string, string | Buffer | null> | undefined;
    for (const k in headers) {
      count++;
      body += bytesSize(k) + bytesSize(headers[k]);
    }
    body += varIntSize(count);
    bodies[i] = body;
    counts[i] = count;
    total += varIntSize(body) + body;
  }
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Message;
    at = writeVarInt(buf, at, bodies[i] as number);
    buf[at++] = 0; // attributes
    buf[at++] = 0; // timestamp delta: no message has a timestamp
    at = writeVarInt(buf, at, i);
    at = writeBytes(buf, at, m.key);
    at = writeBytes(buf, at, m.value);
    const headers = m.headers as Record<string, string | Buffer | null> | undefined;
    at = writeVarInt(buf, at, counts[i] as number);
    for (const k in headers) {
      at = writeBytes(buf, at, k);
      at = writeBytes(buf, at, headers[k]);
    }
  }
  if (at !== total) throw new Error(`encodeRecords: wrote ${at} bytes of ${total}`); // never: sizes and writes agree
  return buf;
}

function byteLength(v: string | Buffer): number {
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}

function bytesSize(v: string | Buffer | null | undefined): number {
  if (v == null) return 1; // varint -1
  const n = byteLength(v);
  return varIntSize(n) + n;
}

function writeBytes(buf: Buffer, at: number, v: string | Buffer | null | undefined): number {
  if (v == null) {
    buf[at] = 1; // zigzag(-1)
    return at + 1;
  }
  const n = byteLength(v);
  at = writeVarInt(buf, at, n);
  if (typeof v === 'string') return at + buf.write(v, at, n, 'utf8');
  v.copy(buf, at);
  return at + n;
}

/** Zigzag varint of a non-negative 31-bit integer (lengths, counts, offset deltas), as kafkajs's. */
function varIntSize(n: number): number {
  let z = (n << 1) ^ (n >> 31);
  let bytes = 1;
  while ((z & 0xffffff80) !== 0) {
    bytes++;
    z >>>= 7;
  }
  return bytes;
}

function writeVarInt(buf: Buffer, at: number, n: number): number {
  let z = (n << 1) ^ (n >> 31);
  while ((z & 0xffffff80) !== 0) {
    buf[at++] = (z & 0x7f) | 0x80;
    z >>>= 7;
  }
  buf[at++] = z & 0x7f;
  return at;
}

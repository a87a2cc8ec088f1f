/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's protocol modules have no types */
/**
 * kafkajs's Record decoder (kafkajs/src/protocol/recordBatch/record/v0/decoder.js, 2.2.4) with
 * the same records in the same objects, built without its per-record Longs and header copies.
 *
 * Why: in the sink's allocation sample (docs/performance-s15-sink.md) kafkajs's decodeRecord was
 * ~52 % of the bytes the sink allocates, its BigInt-backed Longs ~35 %: a record parses the
 * batch's first timestamp and first offset from strings (two BigInts), reads its timestamp delta a
 * Long a byte (a user record: ~6 Longs), adds and prints through Long, and builds its headers by
 * spreading the object once per header (six headers: six objects, 21 property copies). Here the
 * batch's first timestamp and offset are parsed once a batch, the deltas read as numbers, and the
 * headers object built in place, with a header key's string reused when its bytes equal the key
 * at that position of the last headers built. Figures (bench/sink-hot-path.ts, kafkajs's decoder
 * against this one on the same gzip'd batches, one process): docs/performance-s16-sink.md.
 *
 * What it keeps: the objects kafkajs gives, as their readers see them (test/unit/kafka/fetch-records-s16.test.ts,
 * random records including damaged ones, kafkajs's decoder as the oracle, FETCH_RECORDS_S16_SEED):
 * the same own keys in the same order and the same values, except that `headers` is built when
 * first read (FetchedRecord below; fetch-records-lazy-s24.test.ts, FETCH_RECORDS_LAZY_SEED). Any
 * record outside the plain case (a LOG_APPEND_TIME batch, a varint longer than 4 bytes or a varlong
 * longer than 7, a length running past the record, a sum beyond 2^53, a first offset or timestamp
 * that is not a plain decimal) is handed to kafkajs's own decoder from its first byte: the same
 * result, or the same error, by construction.
 *
 * How it is installed: kafkajs's RecordBatch decoder requires the Record decoder when it is first
 * loaded, which is at the first Fetch request (the Fetch protocol loads its response modules
 * lazily). `useFetchRecordDecoder()` puts this decoder in Node's module cache as that module's
 * exports before then (createKafka calls it). Too late (a fetch already made in this process) it
 * changes nothing and says so (returns false): kafkajs's decoder then goes on decoding.
 */

interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
}

interface BatchContext {
  firstOffset?: unknown;
  firstTimestamp?: unknown;
  magicByte?: unknown;
  isControlBatch?: boolean;
  timestampType?: unknown;
  maxTimestamp?: unknown;
}

type RecordDecoder = (decoder: KafkajsDecoder, batchContext?: BatchContext) => unknown;

const RECORD_DECODER = 'kafkajs/src/protocol/recordBatch/record/v0/decoder';
const BATCH_DECODER = 'kafkajs/src/protocol/recordBatch/v0/decoder';
const LOG_APPEND_TIME = (require('kafkajs/src/protocol/timestampTypes') as { LOG_APPEND_TIME: number }).LOG_APPEND_TIME;

/** kafkajs's own decoder: the oracle of the tests, and where every record outside the plain case goes. */
export const kafkajsRecordDecoder = require(RECORD_DECODER) as RecordDecoder;

/** Returned by the readers below when the record leaves the plain case: kafkajs decodes it instead. */
const OUT = -0x80000000;

/** A plain decimal int64 string (what kafkajs's readInt64().toString() prints) that is exact as a double. */
const PLAIN = /^-?(0|[1-9][0-9]{0,15})$/;

function plainNumber(s: unknown): number {
  if (typeof s !== 'string' || !PLAIN.test(s)) return NaN;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : NaN;
}

// The batch context of the last record decoded: a batch's records share it, so its first offset and
// timestamp are parsed once a batch.
let lastContext: BatchContext | undefined;
let lastOffset: unknown;
let lastTime: unknown;
let offset0 = NaN;
let time0 = NaN;

// The header keys of the previous record, by position (a topic's records repeat them).
const keyBytes: Buffer[] = [];
const keyStrings: string[] = [];

let buf: Buffer = Buffer.alloc(0);
let at = 0;
let end = 0;

/** kafkajs's readVarInt for at most 4 bytes (28 bits, where its 32-bit arithmetic is exact), else OUT. */
function varInt(): number {
  let result = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (at >= end) return OUT;
    const byte = buf[at++];
    result += (byte & 0x7f) << shift;
    if (byte < 0x80) return (result >>> 1) ^ -(result & 1);
  }
  return OUT;
}

/** kafkajs's readVarLong (zigzag) for at most 7 bytes (49 bits: exact as a double), else NaN. */
function varLong(): number {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    if (at >= end) return NaN;
    const byte = buf[at++];
    n += (byte & 0x7f) * scale;
    if (byte < 0x80) return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
    scale *= 128;
  }
  return NaN;
}

/** kafkajs's readVarIntBytes (a view; -1 is null) when the length fits the record, else undefined. */
function bytes(): Buffer | null | undefined {
  const n = varInt();
  if (n === -1) return null;
  if (n < 0 || n > end - at) return undefined;
  const out = buf.subarray(at, at + n);
  at += n;
  return out;
}

/**
 * Header keys are cached by position, for the first positions only: a record with 150,000 distinct
 * headers left ~27 MB of cached keys for the process's life (the s17 review); the product's records
 * carry six.
 */
const CACHED_KEY_POSITIONS = 64;

/** kafkajs's readVarIntString of header `h`'s key (null as kafkajs's computed key makes it: "null"), else undefined. */
function headerKey(h: number): string | undefined {
  const n = varInt();
  if (n === -1) return 'null';
  if (n < 0 || n > end - at) return undefined;
  const from = at;
  at += n;
  const last = keyBytes[h];
  if (last !== undefined && last.length === n) {
    let i = 0;
    while (i < n && buf[from + i] === last[i]) i++;
    if (i === n) return keyStrings[h];
  }
  const key = buf.toString('utf8', from, from + n);
  if (h < CACHED_KEY_POSITIONS) {
    // a copy, not a view: a kept view would keep the whole decompressed batch alive
    keyBytes[h] = Buffer.from(buf.subarray(from, from + n));
    keyStrings[h] = key;
  }
  return key;
}

/**
 * kafkajs's headers object: its reduce `({...obj, [key]: obj[key] === undefined ? value :
 * Array.isArray(obj[key]) ? obj[key].concat([value]) : [obj[key], value]})` without the copies.
 * The read goes through the prototype as its does (`toString` is not undefined), and "__proto__"
 * is defined as an own property as its spread defines it. undefined when the record leaves the plain case.
 */
function headers(): Record<string, unknown> | undefined {
  const count = varInt();
  if (count === -1) return {};
  if (count < 0) return undefined;
  const out: Record<string, unknown> = {};
  for (let h = 0; h < count; h++) {
    const key = headerKey(h);
    if (key === undefined) return undefined;
    const value = bytes();
    if (value === undefined) return undefined;
    const prev = out[key];
    const next = prev === undefined ? value : Array.isArray(prev) ? prev.concat([value]) : [prev, value];
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: next, writable: true, enumerable: true, configurable: true });
    else out[key] = next;
  }
  return out;
}

/** The Record decoder kafkajs's RecordBatch decoder calls, record by record (its signature). */
export function decodeRecord(decoder: KafkajsDecoder, batchContext: BatchContext = {}): unknown {
  const ctx = batchContext;
  if (ctx !== lastContext || ctx.firstOffset !== lastOffset || ctx.firstTimestamp !== lastTime) {
    lastContext = ctx;
    lastOffset = ctx.firstOffset;
    lastTime = ctx.firstTimestamp;
    offset0 = plainNumber(lastOffset);
    time0 = plainNumber(lastTime);
  }
  const start = decoder.offset;
  if (ctx.timestampType === LOG_APPEND_TIME || offset0 !== offset0 || time0 !== time0) {
    return kafkajsRecordDecoder(decoder, batchContext);
  }
  buf = decoder.buffer;
  if (!Buffer.isBuffer(buf)) {
    // a record length of -1 in its batch gives kafkajs's decoder a null buffer: its own error
    buf = EMPTY;
    return kafkajsRecordDecoder(decoder, batchContext);
  }
  at = start;
  end = buf.length;
  const record = plain(ctx);
  buf = EMPTY; // no batch kept alive by this module between calls
  if (record === undefined) {
    decoder.offset = start;
    return kafkajsRecordDecoder(decoder, batchContext);
  }
  decoder.offset = at;
  return record;
}

const EMPTY = Buffer.alloc(0);

function plain(ctx: BatchContext): unknown {
  if (at >= end) return undefined; // kafkajs's readInt8 throws
  const attributes = buf.readInt8(at++);
  const delta = varLong();
  if (delta !== delta) return undefined;
  const time = time0 + delta;
  const offsetDelta = varInt();
  if (offsetDelta === OUT) return undefined;
  const offset = offset0 + offsetDelta;
  if (!Number.isSafeInteger(time) || !Number.isSafeInteger(offset)) return undefined;
  const key = bytes();
  if (key === undefined) return undefined;
  const value = bytes();
  if (value === undefined) return undefined;
  const from = at;
  const count = skipHeaders();
  if (count === OUT) return undefined;
  // no header (a count of 0 or -1): no range kept, nothing of the batch held for them
  const memory = count > 0 ? buf.buffer : undefined;
  const base = buf.byteOffset;
  return new FetchedRecord(ctx, attributes, String(time), String(offset), key, value, memory, base + from, base + at);
}

/**
 * Walks the headers as headers() reads them, building nothing: their count, or OUT where headers()
 * would return undefined (the record leaves the plain case), so a record is refused or taken at
 * decode time exactly as when its headers were built then.
 */
function skipHeaders(): number {
  const count = varInt();
  if (count === -1) return count;
  if (count < 0) return OUT;
  for (let h = 0; h < count; h++) {
    const k = varInt();
    if (k !== -1 && (k < 0 || k > end - at)) return OUT;
    if (k > 0) at += k;
    const v = varInt();
    if (v !== -1 && (v < 0 || v > end - at)) return OUT;
    if (v > 0) at += v;
  }
  return count;
}

/** A FetchedRecord's headers before their first read or assignment. */
const UNBUILT = Symbol('headers not built');
/** The accessor of every FetchedRecord's own `headers` property (one pair, shared: see FetchedRecord). */
let HEADERS_ACCESSOR: PropertyDescriptor;

/**
 * The record kafkajs's decoder returns, field for field and in its order, with one difference:
 * `headers` is an own enumerable accessor that builds kafkajs's headers object when first read
 * (then returns that same object; an assignment replaces it). Spread, Object.keys, JSON and
 * property reads see what they saw; the prototype is this class's. Why: the sink reads no header
 * on its way to the table (a dead letter copies them), and building them was ~26 % of the bytes the
 * sink allocated on the V8 heap, ~500 B a row (a heap sample at 100k + 100k). bench/sink.ts at 400k
 * users + 400k logins, image flags, before/after alternating twice: CPU 18.3 / 16.7 → 16.8 / 15.0 s,
 * peak RSS 218 / 257 → 207 / 208 MB (docs/performance.md, session 24). A record with headers keeps
 * their range in the memory of the decompressed batch, which its key and value keep alive already
 * (a record whose key and value are both null holds the batch until its headers are read: none such
 * on the product's topics); the accessor pair is defined on each record (own and
 * enumerable, so a spread copies the headers; read through a Proxy or a copied descriptor, the
 * getter throws, its receiver not being a FetchedRecord). A user record with the connector's six
 * headers, decoded and not read: 2.55–2.85 → 1.35–1.55 µs (bench/sink-hot-path.ts, two runs, both
 * orders).
 */
class FetchedRecord {
  declare magicByte: unknown;
  declare attributes: number;
  declare timestamp: string;
  declare offset: string;
  declare key: Buffer | null;
  declare value: Buffer | null;
  declare headers: Record<string, unknown>;
  declare isControlRecord: boolean;
  declare batchContext: BatchContext;
  /** The memory of the record's buffer and the headers' range in it (absolute): not the record's own
   *  view, which would live (and be promoted) with the record; its key and value hold this memory. */
  #memory: ArrayBufferLike | undefined;
  #from: number;
  #to: number;
  /** UNBUILT until the first read or an assignment; then what a read returns (an assigned undefined too). */
  #headers: unknown = UNBUILT;

  static {
    HEADERS_ACCESSOR = {
      get(this: FetchedRecord) {
        return this.#read();
      },
      set(this: FetchedRecord, v: unknown) {
        this.#headers = v;
        this.#memory = undefined;
      },
      enumerable: true,
      configurable: true,
    };
  }

  constructor(
    ctx: BatchContext,
    attributes: number,
    timestamp: string,
    offset: string,
    key: Buffer | null,
    value: Buffer | null,
    memory: ArrayBufferLike | undefined,
    from: number,
    to: number,
  ) {
    this.magicByte = ctx.magicByte;
    this.attributes = attributes; // Record level attributes are presently unused (as kafkajs)
    this.timestamp = timestamp;
    this.offset = offset;
    this.key = key;
    this.value = value;
    Object.defineProperty(this, 'headers', HEADERS_ACCESSOR);
    this.isControlRecord = ctx.isControlBatch === undefined ? false : ctx.isControlBatch; // kafkajs's default
    this.batchContext = ctx;
    this.#memory = memory;
    this.#from = from;
    this.#to = to;
  }

  #read(): unknown {
    if (this.#headers !== UNBUILT) return this.#headers;
    if (this.#memory === undefined) return (this.#headers = {});
    const savedBuf = buf;
    const savedAt = at;
    const savedEnd = end;
    buf = Buffer.from(this.#memory, this.#from, this.#to - this.#from);
    at = 0;
    end = buf.length;
    try {
      // skipHeaders() walked these bytes at decode time: they read as the plain case
      this.#headers = headers()!;
    } finally {
      buf = savedBuf;
      at = savedAt;
      end = savedEnd;
    }
    this.#memory = undefined;
    return this.#headers;
  }
}

/**
 * kafkajs's RecordBatch decoder, from its first load on, decodes records with `decodeRecord`.
 * Returns whether it does: false when that decoder was loaded already (it holds kafkajs's Record
 * decoder then) or this runtime has no module cache to put it in. Under jest, require.cache is a view
 * of jest's module registry: installed there too (fetch-records-review-s17.test.ts).
 */
export function useFetchRecordDecoder(): boolean {
  const cache = require.cache;
  const recordFile = require.resolve(RECORD_DECODER);
  const entry = cache?.[recordFile];
  if (!entry) return false;
  if (entry.exports === decodeRecord) return true;
  if (cache[require.resolve(BATCH_DECODER)]) return false;
  entry.exports = decodeRecord;
  return true;
}

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's protocol modules have no types */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { decodeRecord, kafkajsRecordDecoder } from '../../../kafka/fetch-records';
import { mulberry32 } from '../../../simulator/prng';
import { asRead } from '../../support/fetched-record';
import { varNum } from '../../support/kafka-varint';

/**
 * kafka/fetch-records.ts's Record decoder against kafkajs's own (the oracle, the very module
 * it replaces): for random records, plain and damaged, in random batch contexts, the same object
 * (own keys in order, prototypes, Buffers as views of the same bytes, the batch context itself) and
 * the same decoder offset after it, or the same error. Our record is compared as read (asRead: its
 * lazy `headers` accessor read; its prototype a bare class). FETCH_RECORDS_S16_SEED=n replays.
 */
const SEED = Number(process.env.FETCH_RECORDS_S16_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Decoder = { buffer: Buffer; offset: number };
const KafkajsDecoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => Decoder;

/** Where a and b differ (undefined when they are the same), read as a test of kafkajs's objects. */
function differ(a: unknown, b: unknown, at = '$'): string | undefined {
  a = asRead(a); // ours: headers an accessor (kafka/fetch-records.ts FetchedRecord)
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    if (!Buffer.isBuffer(a) || !Buffer.isBuffer(b)) return `${at}: a Buffer and not`;
    if (a.buffer !== b.buffer || a.byteOffset !== b.byteOffset || a.length !== b.length)
      return `${at}: other bytes (${a.byteOffset}+${a.length} vs ${b.byteOffset}+${b.length})`;
    return undefined;
  }
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null)
    return Object.is(a, b) ? undefined : `${at}: ${String(a)} vs ${String(b)}`;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${at}: other prototypes`;
  if (at.endsWith('.batchContext')) return a === b ? undefined : `${at}: another batch context`;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i]))
    return `${at}: keys ${ka.map(String).join(',')} vs ${kb.map(String).join(',')}`;
  for (const k of ka) {
    const da = Object.getOwnPropertyDescriptor(a, k)!;
    const db = Object.getOwnPropertyDescriptor(b, k)!;
    if (da.enumerable !== db.enumerable || da.writable !== db.writable) return `${at}.${String(k)}: descriptor`;
    const d = differ(da.value, db.value, `${at}.${String(k)}`);
    if (d) return d;
  }
  return undefined;
}

/**
 * Whether kafkajs would read a header count over 10,000 from these bytes (a damaged varint): it
 * then loops that many times past the record's end (reading zeros), which only costs the test time.
 */
function hugeHeaderCount(bytes: Buffer): boolean {
  const d = new KafkajsDecoder(bytes) as Decoder & Record<string, () => unknown>;
  try {
    d.readInt8();
    d.readVarLong();
    d.readVarInt();
    d.readVarIntBytes();
    d.readVarIntBytes();
    return (d.readVarInt() as number) > 10000;
  } catch {
    return false;
  }
}

function run(decode: typeof decodeRecord, bytes: Buffer, ctx: object | undefined) {
  const d = new KafkajsDecoder(bytes);
  try {
    const record = decode(d, ctx);
    return { record, offset: d.offset };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

it(`decodes every record as kafkajs's Record decoder does (FETCH_RECORDS_S16_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (k: number) => Math.floor(rnd() * k);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

  const smallLen = () => pick([0, 0, 1, 2, 3, 4, 5, 8]);
  const varInt = (n: number) => varNum(BigInt(n), rnd() < 0.05 ? smallLen() : 0);
  const bytesField = (b: Buffer | null): number[] => (b === null ? varInt(-1) : [...varInt(b.length), ...b]);
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const KEYS = ['schema', 'op', 'source', 'ts', 'x', '__proto__', 'toString', 'constructor', 'null', '1', 'ü', ''];
  const keyPool = Array.from({ length: 8 }, () => pick(KEYS));

  const record = (): Buffer => {
    const parts: number[] = [int(256)];
    const delta = pick([0n, 1n, -1n, BigInt(int(100000)), 2n ** 47n, -(2n ** 48n), 2n ** 50n, 2n ** 62n, -(2n ** 63n)]);
    parts.push(...varNum(delta, rnd() < 0.05 ? smallLen() : 0));
    parts.push(...varInt(pick([0, 1, int(500), 2 ** 27, -1, 2 ** 30, -(2 ** 31)])));
    parts.push(...bytesField(rnd() < 0.2 ? null : randomBytes(pick([0, 1, 18, int(100)]))));
    parts.push(...bytesField(rnd() < 0.1 ? null : randomBytes(pick([0, 5, int(2000)]))));
    const count = pick([0, 0, 1, 2, 6, 6, 6, int(10), -1]);
    parts.push(...varInt(count));
    for (let h = 0; h < Math.max(count, 0); h++) {
      const key = rnd() < 0.05 ? null : rnd() < 0.8 ? keyPool[h % keyPool.length] : pick(KEYS);
      parts.push(...bytesField(key === null ? null : Buffer.from(key, 'utf8')));
      parts.push(...bytesField(rnd() < 0.1 ? null : randomBytes(pick([0, 3, 40]))));
    }
    let out = Buffer.from(parts);
    const damage = int(12);
    if (damage === 0)
      out = out.subarray(0, int(out.length + 1)); // cut anywhere
    else if (damage === 1)
      out[int(out.length)] = int(256); // a byte changed
    else if (damage === 2)
      out = Buffer.concat([out, randomBytes(1 + int(5))]); // trailing bytes
    else if (damage === 3)
      out = randomBytes(int(40)); // noise
    else if (damage === 4 && out.length > 3) out[1 + int(3)] |= 0x80; // a varint that runs on
    return out;
  };
  const stamp = () =>
    pick([
      '0',
      '1700000000000',
      String(int(2 ** 31)),
      '-5',
      '9007199254740991',
      '9007199254740993',
      '-9223372036854775808',
      '9223372036854775807',
      '-0',
      '0x10',
      '007',
      ' 5',
      '',
      '1e3',
      'NaN',
    ]);
  const context = (): object | undefined => {
    if (rnd() < 0.03) return undefined;
    const ctx: Record<string, unknown> = {
      firstOffset: rnd() < 0.9 ? pick(['0', String(int(10 ** 6)), String(2 ** 53 - 10)]) : stamp(),
      firstTimestamp: rnd() < 0.9 ? pick(['1700000000000', '0', String(int(10 ** 12))]) : stamp(),
      partitionLeaderEpoch: 0,
      inTransaction: rnd() < 0.2,
      isControlBatch: pick([false, false, true, undefined, null]),
      lastOffsetDelta: int(100),
      producerId: '-1',
      producerEpoch: 0,
      firstSequence: 0,
      maxTimestamp: pick(['1700000000999', '', '0']),
      timestampType: pick([0, 0, 0, 1, -1]),
      magicByte: pick([2, 2, 0, undefined]),
    };
    if (rnd() < 0.05) delete ctx.firstOffset;
    if (rnd() < 0.05) delete ctx.firstTimestamp;
    return ctx;
  };

  let plain = 0;
  let refused = 0;
  let ctx = context();
  for (let i = 0; i < 6000; i++) {
    if (rnd() < 0.05) ctx = context(); // a new batch: its records share one context
    if (ctx && rnd() < 0.01) (ctx as Record<string, unknown>).firstOffset = String(int(1000)); // changed in place
    const bytes = record();
    if (hugeHeaderCount(bytes)) continue;
    const expected = run(kafkajsRecordDecoder, bytes, ctx);
    const actual = run(decodeRecord, bytes, ctx);
    if ('error' in expected) {
      refused++;
      expect({ i, ...actual }).toEqual({ i, ...expected });
      continue;
    }
    plain++;
    if ('error' in actual) throw new Error(`record ${i}: ${actual.error} where kafkajs decodes it`);
    expect({ i, offset: actual.offset }).toEqual({ i, offset: expected.offset });
    const d = differ(actual.record, expected.record);
    if (d) throw new Error(`record ${i} (${bytes.toString('hex')}): ${d}`);
  }
  // both kinds occur (the generator's own check)
  expect(plain).toBeGreaterThan(3000);
  expect(refused).toBeGreaterThan(10);
});

it('createKafka installs it for the RecordBatch decoder (child process)', () => {
  const root = path.resolve(__dirname, '../../..');
  const script = `
    const { createKafka } = require('./kafka/client');
    const { decodeRecord } = require('./kafka/fetch-records');
    createKafka({ clientId: 't', brokers: ['127.0.0.1:1'] }, { debug() {}, info() {}, warn() {}, error() {} });
    const used = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') === decodeRecord;
    (async () => {
      const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
      const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
      const BatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder');
      const Decoder = require('kafkajs/src/protocol/decoder');
      const { Types } = require('kafkajs/src/protocol/message/compression');
      const records = Array.from({ length: 300 }, (_, i) => Record({
        offsetDelta: i, timestampDelta: i, key: Buffer.from('k' + i), value: Buffer.alloc(200, i),
        headers: { schema: 'a', op: String(i % 3), ts: 'x' },
      }));
      const encoded = await RecordBatch({
        compression: Types.GZIP, firstOffset: '4000', firstTimestamp: 1700000000000,
        maxTimestamp: 1700000000299, lastOffsetDelta: 299, records,
      });
      const bytes = encoded.buffer;
      const ours = await BatchDecoder(new Decoder(bytes));
      const r = ours.records;
      console.log(JSON.stringify({
        used, n: r.length, first: r[0].offset, last: r[299].offset, ts: r[299].timestamp, op: String(r[299].headers.op),
      }));
    })().catch((e) => { console.log(JSON.stringify({ error: String(e) })); });
  `;
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({
    used: true,
    n: 300,
    first: '4000',
    last: '4299',
    ts: '1700000000299',
    op: '2',
  });
});

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's protocol modules have no types */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { decodeRecord, kafkajsRecordDecoder } from '../../../kafka/fetch-records';
import { mulberry32 } from '../../../simulator/prng';
import { asRead } from '../../support/fetched-record';
import { varNum } from '../../support/kafka-varint';

/**
 * Adversarial review (session 17) of kafka/fetch-records.ts against kafkajs 2.2.4's own Record
 * decoder, the oracle: (1) edge-case records one by one, (2) whole fetched record sets through
 * kafkajs's Fetch v4+ decodeMessages and RecordBatch decoder, once with kafkajs's Record decoder and
 * once with ours in its place (random batches: none/gzip/zstd, LOG_APPEND_TIME, control and
 * transactional flags, records counts that disagree with the bytes, cut tails, offsets past 2^53;
 * FETCH_RECORDS_S17_SEED=n replays), (3) installation in a plain Node process (child).
 */
const SEED = Number(process.env.FETCH_RECORDS_S17_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Decoder = { buffer: Buffer; offset: number };
const KafkajsDecoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer | null) => Decoder;

/**
 * Where a and b differ. Buffers: the same bytes at the same place of their memory (`sameMemory`:
 * of the same ArrayBuffer too); batch contexts compared as values unless `sameContext`.
 */
function differ(a: unknown, b: unknown, opts: { sameMemory: boolean }, at = '$'): string | undefined {
  a = asRead(a); // ours: headers an accessor (kafka/fetch-records.ts FetchedRecord)
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    if (!Buffer.isBuffer(a) || !Buffer.isBuffer(b)) return `${at}: a Buffer and not`;
    if (opts.sameMemory && a.buffer !== b.buffer) return `${at}: another ArrayBuffer`;
    if (a.byteOffset !== b.byteOffset || a.length !== b.length || !a.equals(b))
      return `${at}: other bytes (${a.byteOffset}+${a.length} vs ${b.byteOffset}+${b.length})`;
    return undefined;
  }
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null)
    return Object.is(a, b) ? undefined : `${at}: ${String(a)} vs ${String(b)}`;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${at}: other prototypes`;
  if (a === b) return undefined;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i]))
    return `${at}: keys ${ka.map(String).join(',')} vs ${kb.map(String).join(',')}`;
  for (const k of ka) {
    const da = Object.getOwnPropertyDescriptor(a, k)!;
    const db = Object.getOwnPropertyDescriptor(b, k)!;
    if (da.enumerable !== db.enumerable || da.writable !== db.writable || da.configurable !== db.configurable)
      return `${at}.${String(k)}: descriptor`;
    const d = differ(da.value, db.value, opts, `${at}.${String(k)}`);
    if (d) return d;
  }
  return undefined;
}

type Outcome = { record?: unknown; offset?: number; error?: string };
function run(
  decode: (d: Decoder, ctx?: object) => unknown,
  bytes: Buffer | null,
  ctx: object | undefined,
  start = 0,
): Outcome {
  const d = new KafkajsDecoder(bytes);
  d.offset = start;
  try {
    const record = decode(d, ctx);
    return { record, offset: d.offset };
  } catch (err) {
    return { error: `${(err as Error).constructor.name}/${(err as Error).name}: ${(err as Error).message}` };
  }
}

/** ours against kafkajs's for one record: '' when the same */
function compareRecord(bytes: Buffer | null, ctx: object | undefined, start = 0): string {
  const expected = run(kafkajsRecordDecoder, bytes, ctx, start);
  const actual = run(decodeRecord, bytes, ctx, start);
  if (expected.error !== undefined || actual.error !== undefined)
    return expected.error === actual.error ? '' : `error: kafkajs ${expected.error} / ours ${actual.error}`;
  if (expected.offset !== actual.offset) return `offset after: kafkajs ${expected.offset} / ours ${actual.offset}`;
  return differ(actual.record, expected.record, { sameMemory: true }) ?? '';
}

const vi = (n: number, pad = 0) => varNum(BigInt(n), pad);
const field = (b: Buffer | null, pad = 0): number[] => (b === null ? vi(-1, pad) : [...vi(b.length, pad), ...b]);

interface RecordSpec {
  attributes?: number;
  delta?: bigint;
  deltaPad?: number;
  offsetDelta?: number;
  offsetPad?: number;
  key?: Buffer | null;
  value?: Buffer | null;
  /** raw header count (defaults to headers.length) */
  count?: number;
  headers?: [Buffer | null, Buffer | null][];
  lenPad?: number;
}
function recordBytes(r: RecordSpec): Buffer {
  const headers = r.headers ?? [];
  const out: number[] = [r.attributes ?? 0];
  out.push(...varNum(r.delta ?? 0n, r.deltaPad ?? 0));
  out.push(...vi(r.offsetDelta ?? 0, r.offsetPad ?? 0));
  out.push(...field(r.key === undefined ? Buffer.from('k') : r.key, r.lenPad ?? 0));
  out.push(...field(r.value === undefined ? Buffer.from('v') : r.value, r.lenPad ?? 0));
  out.push(...vi(r.count ?? headers.length));
  for (const [k, v] of headers) out.push(...field(k, r.lenPad ?? 0), ...field(v, r.lenPad ?? 0));
  return Buffer.from(out);
}

const ctx0 = () => ({
  firstOffset: '1000',
  firstTimestamp: '1700000000000',
  partitionLeaderEpoch: 0,
  inTransaction: false,
  isControlBatch: false,
  lastOffsetDelta: 0,
  producerId: '-1',
  producerEpoch: 0,
  firstSequence: 0,
  maxTimestamp: '1700000000999',
  timestampType: 0,
  magicByte: 2,
});

describe('one record at a time, kafkajs as the oracle', () => {
  it('varint and varlong widths around the fast path limits (4 / 7 bytes), padded or not', () => {
    const fails: string[] = [];
    const ctx = ctx0();
    for (let pad = 0; pad <= 10; pad++) {
      for (const delta of [
        0n,
        1n,
        -1n,
        2n ** 20n,
        2n ** 27n,
        2n ** 41n,
        -(2n ** 41n),
        2n ** 48n - 1n,
        -(2n ** 48n),
        2n ** 48n,
        2n ** 55n,
        2n ** 62n,
        2n ** 63n - 1n,
        -(2n ** 63n),
      ]) {
        const b = recordBytes({ delta, deltaPad: pad });
        const d = compareRecord(b, ctx);
        if (d) fails.push(`delta ${delta} pad ${pad}: ${d}`);
      }
      for (const offsetDelta of [
        0,
        1,
        -1,
        2 ** 27 - 1,
        -(2 ** 27),
        2 ** 27,
        -(2 ** 27) - 1,
        2 ** 30,
        2 ** 31 - 1,
        -(2 ** 31),
      ]) {
        const d = compareRecord(recordBytes({ offsetDelta, offsetPad: pad }), ctx);
        if (d) fails.push(`offsetDelta ${offsetDelta} pad ${pad}: ${d}`);
      }
      const d = compareRecord(
        recordBytes({
          lenPad: pad,
          key: null,
          value: Buffer.alloc(300, 7),
          headers: [
            [Buffer.from('a'), null],
            [null, Buffer.from('x')],
          ],
        }),
        ctx,
      );
      if (d) fails.push(`lengths pad ${pad}: ${d}`);
    }
    expect(fails).toEqual([]);
  });

  it('negative lengths and header counts (-1 null, -2, -2^31), empty and null header keys', () => {
    const fails: string[] = [];
    const ctx = ctx0();
    const raw = (parts: number[][]) => Buffer.from(parts.flat());
    const head = [[0], vi(0), vi(0)];
    const cases: Record<string, Buffer> = {
      'key -1': raw([...head, vi(-1), vi(1), [9], vi(0)]),
      'key -2': raw([...head, vi(-2), vi(1), [9], vi(0)]),
      'key -2^27': raw([...head, vi(-(2 ** 27)), vi(0), vi(0)]),
      'value -2': raw([...head, vi(0), vi(-2), vi(0)]),
      'count -1': raw([...head, vi(0), vi(0), vi(-1)]),
      'count -1 + trailing': raw([...head, vi(0), vi(0), vi(-1), [1, 2, 3]]),
      'count 0': raw([...head, vi(0), vi(0), vi(0)]),
      'count -2': raw([...head, vi(0), vi(0), vi(-2)]),
      'count 2 one given': raw([...head, vi(0), vi(0), vi(2), vi(1), [97], vi(0)]),
      'header key -1': raw([...head, vi(0), vi(0), vi(1), vi(-1), vi(1), [5]]),
      'header key -2': raw([...head, vi(0), vi(0), vi(1), vi(-2), vi(1), [5]]),
      'header key "" twice': raw([...head, vi(0), vi(0), vi(2), vi(0), vi(0), vi(0), vi(-1)]),
      'header key null and "null"': raw([
        ...head,
        vi(0),
        vi(0),
        vi(2),
        vi(-1),
        vi(0),
        vi(4),
        [...Buffer.from('null')],
        vi(-1),
      ]),
      'header value -2': raw([...head, vi(0), vi(0), vi(1), vi(1), [97], vi(-2)]),
      'empty record': Buffer.alloc(0),
      'attributes only': Buffer.from([5]),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const d = compareRecord(bytes, ctx);
      if (d) fails.push(`${name}: ${d}`);
    }
    expect(fails).toEqual([]);
  });

  it('a record length of -1 in its batch (a null record buffer): the same error', () => {
    // kafkajs's RecordBatch decoder: `RecordDecoder(new Decoder(decoder.readVarIntBytes()), ctx)`, and
    // readVarIntBytes gives null for a length of -1 (one damaged byte: 0x01)
    expect(compareRecord(null, ctx0())).toBe('');
  });

  it('header keys named like Object.prototype members, once, twice, three times, among others', () => {
    const names = [
      ...Reflect.ownKeys(Object.prototype).filter((k): k is string => typeof k === 'string'),
      '__proto__',
      'null',
      'undefined',
      '0',
      '1',
      'length',
    ];
    const fails: string[] = [];
    const ctx = ctx0();
    for (const name of names) {
      for (const times of [1, 2, 3]) {
        const headers: [Buffer | null, Buffer | null][] = [[Buffer.from('schema'), Buffer.from('s')]];
        for (let i = 0; i < times; i++) headers.push([Buffer.from(name), i === 1 ? null : Buffer.from([i])]);
        headers.push([Buffer.from('b'), Buffer.from('x')], [Buffer.from('1'), Buffer.from('y')]);
        const d = compareRecord(recordBytes({ headers }), ctx);
        if (d) fails.push(`${name} x${times}: ${d}`);
      }
    }
    expect(fails).toEqual([]);
  });

  it('header key cache: same length other bytes, invalid UTF-8 to one string, keys moving', () => {
    const ctx = ctx0();
    const seq: [Buffer | null, Buffer | null][][] = [
      [
        [Buffer.from('abc'), null],
        [Buffer.from('xyz'), null],
      ],
      [
        [Buffer.from('abd'), null],
        [Buffer.from('xyz'), null],
      ],
      [
        [Buffer.from([0xff]), null],
        [Buffer.from([0xfe]), null],
      ], // both decode to U+FFFD: one key, an array
      [
        [Buffer.from([0xfe]), null],
        [Buffer.from([0xff]), null],
      ],
      [
        [Buffer.from('xyz'), null],
        [Buffer.from('abc'), null],
      ],
      [
        [null, null],
        [Buffer.from('null'), null],
      ],
      [
        [Buffer.from('null'), null],
        [null, null],
      ],
      [[Buffer.from(''), null]],
      [
        [Buffer.from('é'), null],
        [Buffer.from('e\u0301'), null],
      ],
    ];
    const fails: string[] = [];
    for (let round = 0; round < 3; round++)
      for (const [i, headers] of seq.entries()) {
        const d = compareRecord(recordBytes({ headers }), ctx);
        if (d) fails.push(`${round}/${i}: ${d}`);
      }
    expect(fails).toEqual([]);
  });

  it('offsets and timestamps at 2^53 and odd first offsets / timestamps', () => {
    const fails: string[] = [];
    const firsts = [
      '0',
      '-0',
      '-1',
      '9007199254740991',
      '9007199254740990',
      '-9007199254740991',
      '9007199254740992',
      '9223372036854775807',
      '-9223372036854775808',
      '1e3',
      ' 7',
      '07',
      '+7',
      '0x1f',
      '',
      'NaN',
      'Infinity',
    ];
    for (const fo of firsts)
      for (const ft of ['1700000000000', fo])
        for (const [offsetDelta, delta] of [
          [0, 0n],
          [1, 1n],
          [-1, -1n],
          [2, 2n ** 47n],
        ] as [number, bigint][]) {
          const ctx = { ...ctx0(), firstOffset: fo, firstTimestamp: ft };
          const d = compareRecord(recordBytes({ offsetDelta, delta }), ctx);
          if (d) fails.push(`${fo}/${ft} +${offsetDelta}/${delta}: ${d}`);
        }
    // sums that a double holds inexactly on the way (a varlong of 8+ bytes: 2^53 + odd)
    for (const ft of ['-9007199254740991', '-4503599627370497', '9007199254740991'])
      for (const delta of [
        2n ** 53n + 1n,
        2n ** 53n - 1n,
        2n ** 54n + 3n,
        -(2n ** 53n) - 1n,
        2n ** 49n + 1n,
        -(2n ** 49n) - 1n,
      ])
        for (const pad of [0, 1]) {
          const d = compareRecord(recordBytes({ delta, deltaPad: pad }), { ...ctx0(), firstTimestamp: ft });
          if (d) fails.push(`${ft} + ${delta}: ${d}`);
        }
    // not strings (kafkajs's Long.fromValue takes numbers, bigints, Longs)
    for (const fo of [5, 5n, -0, 2 ** 53, NaN, null, undefined, { value: 5n }])
      for (const d of [compareRecord(recordBytes({ offsetDelta: 1 }), { ...ctx0(), firstOffset: fo })])
        if (d) fails.push(`${String(fo)}: ${d}`);
    expect(fails).toEqual([]);
  });

  it('batch contexts: LOG_APPEND_TIME, control, absent fields, none, one changed in place', () => {
    const fails: string[] = [];
    const bytes = recordBytes({ offsetDelta: 3, delta: 5n, headers: [[Buffer.from('a'), Buffer.from('b')]] });
    const variants: (object | undefined)[] = [
      undefined,
      {},
      { ...ctx0(), timestampType: 1 },
      { ...ctx0(), timestampType: 1, maxTimestamp: '' },
      { ...ctx0(), timestampType: 1, maxTimestamp: undefined },
      { ...ctx0(), timestampType: '1' },
      { ...ctx0(), timestampType: -1 },
      { ...ctx0(), isControlBatch: true },
      { ...ctx0(), isControlBatch: undefined },
      { ...ctx0(), isControlBatch: null },
      { ...ctx0(), magicByte: undefined },
      Object.assign(Object.create(null), ctx0()),
      Object.assign(Object.create({ firstOffset: '7' }), { firstTimestamp: '0' }),
    ];
    for (const [i, v] of variants.entries()) {
      const d = compareRecord(bytes, v);
      if (d) fails.push(`variant ${i}: ${d}`);
    }
    const shared = ctx0() as Record<string, unknown>;
    for (const change of [
      () => (shared.firstOffset = '2000'),
      () => (shared.firstTimestamp = '5'),
      () => (shared.timestampType = 1),
      () => (shared.timestampType = 0),
      () => (shared.isControlBatch = true),
      () => (shared.magicByte = 1),
      () => (shared.firstOffset = 2000),
      () => (shared.firstOffset = '2000'),
    ]) {
      const before = compareRecord(bytes, shared);
      change();
      const after = compareRecord(bytes, shared);
      if (before || after) fails.push(`in place: ${before} / ${after}`);
    }
    expect(fails).toEqual([]);
  });

  it('a record that does not start at the decoder offset 0, trailing bytes after it', () => {
    const ctx = ctx0();
    const rec = recordBytes({ headers: [[Buffer.from('h'), Buffer.from('v')]] });
    const bytes = Buffer.concat([Buffer.from([1, 2, 3]), rec, Buffer.from([0xff, 0xff])]);
    expect(compareRecord(bytes, ctx, 3)).toBe('');
    expect(compareRecord(bytes.subarray(0, 3 + rec.length - 1), ctx, 3)).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------
// whole fetched record sets: kafkajs's decodeMessages with either Record decoder

let oursCalls = 0;
type DecodeMessages = (decoder: Decoder) => Promise<unknown[]>;
interface Registry {
  decodeMessages: DecodeMessages;
  Decoder: new (b: Buffer) => Decoder;
}

/** kafkajs's Fetch v4 decodeMessages in a module registry of its own, with our Record decoder or kafkajs's. */
function registry(ours: boolean): Registry {
  let out!: Registry;
  jest.isolateModules(() => {
    if (ours)
      jest.doMock('kafkajs/src/protocol/recordBatch/record/v0/decoder', () => (d: Decoder, c?: object) => {
        oursCalls++;
        return decodeRecord(d, c);
      });
    // the project's codecs as createKafka installs them (kafkajs 2.2.4 has no zstd), in this registry's codec table
    if (ours) (require('../../../kafka/fetch-gunzip') as { useFetchGunzip(): void }).useFetchGunzip();
    (require('../../../kafka/zstd') as { useZstdCodec(): void }).useZstdCodec();
    out = {
      decodeMessages: require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages') as DecodeMessages,
      Decoder: require('kafkajs/src/protocol/decoder'),
    };
  });
  if (ours) jest.dontMock('kafkajs/src/protocol/recordBatch/record/v0/decoder');
  return out;
}

function int64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt.asIntN(64, n));
  return b;
}

it(`decodes whole fetched record sets as kafkajs does (FETCH_RECORDS_S17_SEED=${SEED})`, async () => {
  const oracle = registry(false);
  const ours = registry(true);
  const rnd = mulberry32(SEED);
  const int = (k: number) => Math.floor(rnd() * k);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const KEYS = ['schema', 'op', 'ts', '__proto__', 'toString', 'constructor', 'hasOwnProperty', 'null', '1', '', 'ü'];

  const record = (i: number): Buffer => {
    const nh = pick([0, 0, 1, 3, 6, 6]);
    const headers: [Buffer | null, Buffer | null][] = [];
    for (let h = 0; h < nh; h++)
      headers.push([
        rnd() < 0.05 ? null : Buffer.from(pick(KEYS)),
        rnd() < 0.1 ? null : Buffer.from(String(int(1000))),
      ]);
    return recordBytes({
      attributes: rnd() < 0.95 ? 0 : int(256),
      delta: pick([0n, BigInt(i), BigInt(int(100000)), -1n, 2n ** 50n]),
      offsetDelta: rnd() < 0.95 ? i : pick([0, -1, 2 ** 28]),
      key: rnd() < 0.2 ? null : Buffer.from(`k${int(100)}`),
      value: rnd() < 0.1 ? null : Buffer.alloc(int(300), int(256)),
      headers,
      lenPad: rnd() < 0.03 ? 2 : 0,
    });
  };

  const batch = (firstOffset: bigint): { bytes: Buffer; n: number } => {
    const n = pick([1, 2, 5, 40]);
    const recs = Array.from({ length: n }, (_, i) => record(i));
    const framed = Buffer.concat(recs.map((r) => Buffer.concat([Buffer.from(vi(r.length)), r])));
    const codec = pick([0, 0, 1, 4]); // none, gzip, zstd
    let attributes = codec;
    if (rnd() < 0.15) attributes |= 0x08; // LOG_APPEND_TIME
    if (rnd() < 0.2) attributes |= 0x10; // transactional
    if (rnd() < 0.1) attributes |= 0x20; // control
    let count = n;
    if (rnd() < 0.05) count = pick([0, -1, n - 1, n + 1]);
    const body =
      codec === 0
        ? framed
        : codec === 1
          ? zlib.gzipSync(framed)
          : (zlib as unknown as { zstdCompressSync(b: Buffer): Buffer }).zstdCompressSync(framed);
    const countBuf = Buffer.alloc(4);
    countBuf.writeInt32BE(count);
    const firstTs = pick([1700000000000n, 0n, -5n, 2n ** 53n - 3n]);
    const header = Buffer.concat([
      Buffer.from([0, 0, 0, 0]), // partition leader epoch
      Buffer.from([2]), // magic
      Buffer.from([0, 0, 0, 0]), // crc (kafkajs does not check it)
      Buffer.from([attributes >> 8, attributes & 0xff]),
      Buffer.from([0, 0, 0, n - 1]),
      int64(firstTs),
      int64(firstTs + 999n),
      int64(rnd() < 0.5 ? -1n : 4242n),
      Buffer.from([0, 0]),
      Buffer.from([0, 0, 0, 0]),
      countBuf,
      body,
    ]);
    const len = Buffer.alloc(4);
    len.writeInt32BE(header.length);
    return { bytes: Buffer.concat([int64(firstOffset), len, header]), n };
  };

  let compared = 0;
  let records = 0;
  let errors = 0;
  for (let i = 0; i < 300; i++) {
    let offset = pick([0n, 1000n, 2n ** 53n - 20n, 2n ** 53n + 5n, 2n ** 63n - 10n]);
    const batches: Buffer[] = [];
    for (let b = pick([1, 1, 2, 4]); b > 0; b--) {
      const { bytes, n } = batch(offset);
      batches.push(bytes);
      offset += BigInt(n);
    }
    let set = Buffer.concat(batches);
    if (rnd() < 0.25) set = set.subarray(0, set.length - 1 - int(Math.min(set.length - 62, 200))); // a cut tail
    const size = Buffer.alloc(4);
    size.writeInt32BE(set.length);
    const input = Buffer.concat([size, set]);
    const decode = async (r: Registry) => {
      try {
        return { records: await r.decodeMessages(new r.Decoder(input)) };
      } catch (err) {
        return { error: `${(err as Error).name}: ${(err as Error).message}` };
      }
    };
    const expected = await decode(oracle);
    const actual = await decode(ours);
    compared++;
    if ('error' in expected) {
      errors++;
      expect({ i, ...actual }).toEqual({ i, ...expected });
      continue;
    }
    if ('error' in actual) throw new Error(`set ${i}: ${actual.error} where kafkajs decodes it`);
    records += expected.records!.length;
    const d = differ(actual.records, expected.records, { sameMemory: false });
    if (d) throw new Error(`set ${i} (seed ${SEED}): ${d}`);
  }
  expect(compared).toBe(300);
  expect(oursCalls).toBeGreaterThanOrEqual(records); // the registries differ: ours decoded with decodeRecord
  expect(records).toBeGreaterThan(1000);
  expect(errors).toBeLessThan(150);
});

it('a batch with a record length of -1 fails as kafkajs fails it (decodeMessages)', async () => {
  const oracle = registry(false);
  const ours = registry(true);
  const rec = recordBytes({});
  const records = Buffer.concat([Buffer.from(vi(rec.length)), rec, Buffer.from(vi(-1))]);
  const head = Buffer.alloc(49);
  head.writeInt8(2, 4); // magic
  head.writeInt32BE(1, 11); // last offset delta
  head.writeBigInt64BE(1700000000000n, 15);
  head.writeBigInt64BE(-1n, 31);
  head.writeInt32BE(2, 45); // records count
  const body = Buffer.concat([head, records]);
  const batch = Buffer.concat([int64(10n), Buffer.from([0, 0, 0, body.length]), body]);
  const input = Buffer.concat([Buffer.from([0, 0, 0, batch.length]), batch]);
  const outcome = async (r: Registry) =>
    r.decodeMessages(new r.Decoder(input)).then(
      (x) => `${x.length} records`,
      (e: Error) => `${e.constructor.name}: ${e.message}`,
    );
  const expected = await outcome(oracle);
  expect(expected).toMatch(/^TypeError/);
  expect(await outcome(ours)).toBe(expected);
});

// ---------------------------------------------------------------------------------------------
// installation, in a plain Node process (jest's module registry has no require.cache)

function child(script: string): unknown {
  const root = path.resolve(__dirname, '../../..');
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** Records what kafkajs's RecordBatch decoder gets when it requires its Record decoder. */
const SPY = `
  const Module = require('module');
  const orig = Module.prototype.require;
  let captured = 'not loaded';
  Module.prototype.require = function (id) {
    const r = orig.apply(this, arguments);
    if (id === '../record/v0/decoder' && /recordBatch[\\\\/]v0[\\\\/]decoder\\.js$/.test(this.filename)) captured = r;
    return r;
  };
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
`;

it('the RecordBatch decoder of Fetch v4-v11 captures ours (consumer, partition reader, createKafka x2)', () => {
  const script = `${SPY}
    const { createKafka } = require('./kafka/client');
    const { readCluster } = require('./kafka/read-cluster');
    require('./kafka/partition-reader');
    const fr = require('./kafka/fetch-records');
    const k1 = createKafka({ clientId: 'a', brokers: ['127.0.0.1:1'] }, silent);
    k1.consumer({ groupId: 'g' });
    readCluster(k1);
    const k2 = createKafka({ clientId: 'b', brokers: ['127.0.0.1:1'] }, silent);
    const again = fr.useFetchRecordDecoder();
    // what a Fetch request of version 4+ loads, lazily, at the first fetch
    for (let v = 4; v <= 11; v++) require('kafkajs/src/protocol/requests/fetch/v' + v + '/response');
    console.log(JSON.stringify({ again, ours: captured === fr.decodeRecord, k2: typeof k2.consumer }));
  `;
  expect(child(script)).toEqual({ again: true, ours: true, k2: 'function' });
});

it("installation: in jest's registry too; after a fetch nothing, and createKafka says so once", () => {
  // jest's require.cache is a proxy of its module registry: the entry is there and its exports are replaced
  const fr = require('../../../kafka/fetch-records') as typeof import('../../../kafka/fetch-records');
  let batchRecordDecoder: unknown;
  jest.isolateModules(() => {
    const own = require('../../../kafka/fetch-records') as typeof import('../../../kafka/fetch-records');
    expect(own.useFetchRecordDecoder()).toBe(true);
    expect(require('kafkajs/src/protocol/recordBatch/record/v0/decoder')).toBe(own.decodeRecord);
    batchRecordDecoder = own.decodeRecord;
  });
  expect(batchRecordDecoder).not.toBe(fr.decodeRecord); // another registry, another module
  // a plain process where a Fetch response module was loaded first (another client fetched): false,
  // and the first createKafka says so (the review found it silent)
  const script = `${SPY}
    require('kafkajs/src/protocol/requests/fetch/v11/response');
    const logged = [];
    const log = (m) => logged.push(m);
    const logger = { debug: log, info: log, warn: log, error: log };
    const { createKafka } = require('./kafka/client');
    const fr = require('./kafka/fetch-records');
    createKafka({ clientId: 'a', brokers: ['127.0.0.1:1'] }, logger);
    createKafka({ clientId: 'b', brokers: ['127.0.0.1:1'] }, logger);
    console.log(JSON.stringify({ installed: fr.useFetchRecordDecoder(), ours: captured === fr.decodeRecord, logged }));
  `;
  expect(child(script)).toEqual({
    installed: false,
    ours: false,
    logged: [expect.stringMatching(/^kafka: fetched records are decoded by kafkajs's own decoder/)],
  });
});

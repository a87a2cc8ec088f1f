import { CompressionTypes } from 'kafkajs';
import { useKafkajsRecordEncoding, useOwnRecordEncoding } from '../../../kafka/produce-encoding';
import { mulberry32 } from '../../../simulator/prng';

/**
 * The connector encodes the records of a produce request itself (kafka/produce-encoding.ts) instead of
 * kafkajs's Encoder per record and per header: the request must carry the same bytes. The oracle is
 * kafkajs's own produce request (versions 3-7, the record-batch format) built from the same arguments
 * at the same clock: random topics, partitions, keys and values (Buffers, strings with multi-byte
 * UTF-8, null), 0-9 headers of random text or bytes, gzip or none, transactional or not, random
 * producer ids, epochs and sequences; and the messages the fast path hands back to kafkajs
 * (timestamps, header arrays, values of other types): the same bytes or the same error.
 * Seeded: PRODUCE_SEED=n replays.
 */
const SEED = Number(process.env.PRODUCE_SEED ?? Math.floor(Math.random() * 2 ** 31));

interface Message {
  key?: unknown;
  value?: unknown;
  headers?: unknown;
  timestamp?: string;
}
interface ProduceArgs {
  acks: number;
  timeout: number;
  compression: number;
  transactionalId?: string | null;
  producerId?: number;
  producerEpoch?: number;
  topicData: { topic: string; partitions: { partition: number; firstSequence?: number; messages: Message[] }[] }[];
}
type Protocol = (p: {
  version: number;
}) => (args: ProduceArgs) => { request: { encode(): Promise<{ buffer: Buffer }> } };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const produce = require('kafkajs/src/protocol/requests/produce') as { protocol: Protocol };

async function encodeWith(use: () => void, version: number, args: ProduceArgs): Promise<Buffer | Error> {
  use();
  try {
    // the request object is built as kafkajs's broker builds it, at send time
    const { request } = produce.protocol({ version })(args);
    return Buffer.from((await request.encode()).buffer);
  } catch (err) {
    return err as Error;
  }
}

/** Buffers compared whole (jest's toEqual walks them byte by byte as objects); the first difference named. */
function expectSameBytes(ours: Buffer | Error, theirs: Buffer | Error): void {
  if (!(ours instanceof Buffer) || !(theirs instanceof Buffer)) return expect(ours).toEqual(theirs);
  if (ours.equals(theirs)) return;
  let i = 0;
  while (i < ours.length && ours[i] === theirs[i]) i++;
  throw new Error(`bytes differ at ${i}: ours ${ours.length} bytes, kafkajs's ${theirs.length}`);
}

function generator(seed: number) {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const chars = [
    ...'abcXYZ019_-:. \u0000\u007f\u0080\u00e9\u00fc\u07ff\u0800\u4e2d\uffff\u{1f600}\u{10ffff}\ud800\udfff',
  ];
  const text = (max: number) => Array.from({ length: int(max + 1) }, () => chars[int(chars.length)]).join('');
  const bytes = (max: number) => Buffer.from(Array.from({ length: int(max + 1) }, () => int(256)));
  // lengths around the varint steps (63/64 zigzag, 8191/8192) as well as small ones
  const size = () => (int(20) === 0 ? [8191, 8192, 20_000][int(3)] : [0, 1, 63, 64, 65, 200][int(6)]) ?? 0;
  const blob = (): unknown => {
    const k = int(10);
    if (k === 0) return null;
    if (k === 1) return undefined;
    if (k < 5) return text(k === 2 ? size() : 40);
    return k === 5 ? bytes(size()) : bytes(300);
  };
  const headers = (): unknown => {
    if (int(8) === 0) return undefined;
    const h: Record<string, string | Buffer> = {};
    for (let i = int(10); i > 0; i--) h[`${text(12)}${i}`] = int(3) === 0 ? bytes(int(2) ? 30 : size()) : text(40);
    return h;
  };
  const message = (): Message => ({ key: blob(), value: blob(), headers: headers() });
  const args = (): ProduceArgs => ({
    acks: [-1, 0, 1][int(3)] ?? -1,
    timeout: int(60_000),
    compression: int(2) ? CompressionTypes.GZIP : CompressionTypes.None,
    transactionalId: int(3) === 0 ? `tx-${text(10)}` : int(2) ? null : undefined,
    producerId: int(2) ? int(2 ** 31) : undefined,
    producerEpoch: int(2) ? int(32_000) : undefined,
    topicData: Array.from({ length: 1 + int(3) }, (_, t) => ({
      topic: `topic-${t}-${text(8)}`,
      partitions: Array.from({ length: 1 + int(4) }, (_, p) => ({
        partition: p * (1 + int(3)),
        firstSequence: int(2) ? int(2 ** 31) : undefined,
        // every step of the offset delta's varint and of the record count
        messages: Array.from({ length: [0, 1, 2, 20, 63, 64, 65][int(7)] ?? 1 }, message),
      })),
    })),
  });
  return { rnd, int, text, bytes, args, message };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Encoder = require('kafkajs/src/protocol/encoder') as { prototype: { writeVarIntArray(): unknown } };
let perRecordEncoders: jest.SpyInstance;
let now = 0;
beforeEach(() => {
  perRecordEncoders = jest.spyOn(Encoder.prototype, 'writeVarIntArray');
  now = 1_700_000_000_000 + Math.floor(Math.random() * 1e9);
  jest.spyOn(Date, 'now').mockImplementation(() => now);
});
afterEach(() => {
  jest.restoreAllMocks();
  useOwnRecordEncoding();
});

test(`a produce request: the same bytes as kafkajs's, versions 3-7 (PRODUCE_SEED=${SEED})`, async () => {
  const g = generator(SEED);
  for (let i = 0; i < 60; i++) {
    const args = g.args();
    const version = 3 + g.int(5);
    const theirs = await encodeWith(useKafkajsRecordEncoding, version, args);
    perRecordEncoders.mockClear();
    const ours = await encodeWith(useOwnRecordEncoding, version, args);
    // ours took the request: kafkajs's Record (the only caller of writeVarIntArray) never ran
    expect(perRecordEncoders).not.toHaveBeenCalled();
    expect(theirs).toBeInstanceOf(Buffer);
    expectSameBytes(ours, theirs);
  }
});

test(`messages the fast path leaves to kafkajs: the same bytes or the same error (PRODUCE_SEED=${SEED})`, async () => {
  const g = generator(SEED + 1);
  const odd: (() => Partial<Message>)[] = [
    () => ({ timestamp: String(now - g.int(5000)) }),
    () => ({ headers: { multi: [g.text(5), g.bytes(4)], one: g.text(3) } }),
    () => ({ headers: { n: 12 } }),
    () => ({ headers: null }),
    () => ({ key: 42 }),
    () => ({ value: { toString: () => 'object' } }),
    () => ({ value: new Uint8Array([1, 2, 3]) }),
  ];
  for (const make of odd) {
    for (let i = 0; i < 4; i++) {
      const args = g.args();
      const partitions = args.topicData[0]?.partitions[0];
      partitions?.messages.push({ ...g.message(), ...make() });
      const version = 3 + g.int(5);
      const theirs = await encodeWith(useKafkajsRecordEncoding, version, args);
      const ours = await encodeWith(useOwnRecordEncoding, version, args);
      if (theirs instanceof Error) expect(String(ours)).toBe(String(theirs));
      else expectSameBytes(ours, theirs);
    }
  }
});

test('versions before 3 (the old message-set format) are kafkajs’s own', async () => {
  const g = generator(SEED + 2);
  for (const version of [0, 1, 2]) {
    const args = { ...g.args(), compression: CompressionTypes.None };
    for (const t of args.topicData)
      for (const p of t.partitions) p.messages = p.messages.map((m) => ({ ...m, headers: undefined }));
    expectSameBytes(
      await encodeWith(useOwnRecordEncoding, version, args),
      await encodeWith(useKafkajsRecordEncoding, version, args),
    );
  }
});

test('a compression kafkajs has no codec for (Snappy, an unknown type): the same error', async () => {
  const g = generator(SEED + 3);
  for (const compression of [CompressionTypes.Snappy, 7]) {
    const args = { ...g.args(), compression };
    args.topicData[0]?.partitions[0]?.messages.push(g.message());
    const theirs = await encodeWith(useKafkajsRecordEncoding, 7, args);
    const ours = await encodeWith(useOwnRecordEncoding, 7, args);
    expect(theirs).toBeInstanceOf(Error);
    expect(String(ours)).toBe(String(theirs));
  }
});

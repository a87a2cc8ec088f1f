import { CompressionTypes } from 'kafkajs';
import { useKafkajsRecordEncoding, useOwnRecordEncoding } from '../../../kafka/produce-encoding';
import { mulberry32 } from '../../../simulator/prng';

/**
 * Review of kafka/produce-encoding.ts: shapes the author's generator does not make. Buffer views into
 * a larger pool (byteOffset != 0), empty Buffers and strings, "__proto__" and numeric header keys
 * (own properties, as JSON.parse makes them), headers with a null prototype, producer ids as kafkajs's
 * Long and as a decimal string (what InitProducerId's decoder may hand on), explicit timestamp: undefined
 * and null, a 1.5 MB value. Oracle: kafkajs's own request. Seeded: REVIEW_PRODUCE_SEED=n replays.
 */
const SEED = Number(process.env.REVIEW_PRODUCE_SEED ?? Math.floor(Math.random() * 2 ** 31));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const produce = require('kafkajs/src/protocol/requests/produce') as {
  protocol: (p: { version: number }) => (a: unknown) => { request: { encode(): Promise<{ buffer: Buffer }> } };
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Long = require('kafkajs/src/utils/long') as { fromString(s: string): unknown; fromInt(n: number): unknown };

async function encodeWith(use: () => void, version: number, args: unknown): Promise<string> {
  use();
  try {
    return Buffer.from((await produce.protocol({ version })(args).request.encode()).buffer).toString('hex');
  } catch (err) {
    return `error ${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
}

afterEach(() => {
  jest.restoreAllMocks();
  useOwnRecordEncoding();
});

test(`odd record shapes: the same bytes as kafkajs's (REVIEW_PRODUCE_SEED=${SEED})`, async () => {
  const rnd = mulberry32(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  const pool = Buffer.from(Array.from({ length: 4096 }, () => int(256)));
  const view = () => {
    const at = int(2000);
    return pool.subarray(at, at + int(300));
  };
  const blob = (): unknown =>
    [null, undefined, '', Buffer.alloc(0), view(), 'é\u0000😀\ud800', Buffer.alloc(1_500_000, 7)][
      int(rnd() < 0.02 ? 7 : 6)
    ];
  const headers = (): unknown => {
    const k = int(4);
    if (k === 0) return JSON.parse('{"__proto__":"p","2":"two","1":"one","":"e"}');
    const h = k === 1 ? Object.create(null) : {};
    for (let i = int(6); i > 0; i--) h[`h${i}é`] = int(2) ? view() : '';
    return h;
  };
  const message = () => {
    const m: Record<string, unknown> = { key: blob(), value: blob(), headers: headers() };
    const t = int(4);
    if (t === 0) m.timestamp = undefined;
    if (t === 1) m.timestamp = null;
    return m;
  };
  let now = 1_700_000_000_000;
  jest.spyOn(Date, 'now').mockImplementation(() => now);
  for (let i = 0; i < 40; i++) {
    const pid = [undefined, 12345, Long.fromInt(777), Long.fromString('9007199254740993'), '4242'][int(5)];
    const args = {
      acks: -1,
      timeout: 30_000,
      compression: int(2) ? CompressionTypes.GZIP : CompressionTypes.None,
      transactionalId: int(2) ? 'tx' : null,
      producerId: pid,
      producerEpoch: int(3),
      topicData: [
        {
          topic: 't',
          partitions: Array.from({ length: 1 + int(40) }, (_, p) => ({
            partition: p,
            firstSequence: int(2 ** 31),
            messages: Array.from({ length: int(5) }, message),
          })),
        },
      ],
    };
    const version = 3 + int(5);
    now += 1;
    const ours = await encodeWith(useOwnRecordEncoding, version, args);
    const theirs = await encodeWith(useKafkajsRecordEncoding, version, args);
    if (ours !== theirs)
      throw new Error(`request ${i} (v${version}) differs: ours ${ours.length}, kafkajs ${theirs.length}`);
  }
});

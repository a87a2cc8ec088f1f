import * as zlib from 'node:zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { createKafka } from '../../../kafka/client';
import { silentLogger } from '../../../kernel/logger';
import { mulberry32 } from '../../../simulator/prng';

/**
 * Review (s9-rev-cpu) of kafka/zstd.ts, the ZSTD codec createKafka registers for every consumer of the
 * process (the sink, the index and state reads). Node's zstdDecompress, as the codec calls it:
 *  - stops after the first frame of a batch made of several (RFC 8878 §3.1: zstd data is "one or
 *    more frames"; `zstd -d`, zstd-jni's ZstdInputStream (the Java consumer) and librdkafka's
 *    ZSTD_decompress read them all) and drops the rest without an error;
 *  - resolves a truncated frame with the output of its complete blocks (0, 128 KiB, 256 KiB …), no
 *    error, where kafkajs's GZIP codec rejects a truncated member ('unexpected end of file').
 * kafkajs does not check a batch's CRC, so the codec is the only thing that can tell a damaged batch:
 * with the truncated frame below, kafkajs's batch decoder returns every record, the last one's value cut
 * short and its headers gone, and the sink would take a damaged batch for a bad record (or worse) instead
 * of failing clearly. Seeded: ZSTD_FRAMES_SEED=n replays.
 */
const SEED = Number(process.env.ZSTD_FRAMES_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Codec = { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> };
const node = zlib as unknown as { zstdCompressSync(b: Buffer): Buffer };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { lookupCodec } = require('kafkajs/src/protocol/message/compression') as { lookupCodec(t: number): Codec };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch(o: { compression: number; records: unknown[] }): Promise<{ buffer: Buffer }>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (o: {
  offsetDelta: number;
  key: Buffer;
  value: Buffer;
  headers: Record<string, string>;
}) => unknown;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{
  records: { key: Buffer; value: Buffer; headers: Record<string, Buffer> }[];
}>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;

/** Compressible random bytes (a small alphabet), as Avro values of text fields. */
function bytes(rnd: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = 97 + Math.floor(rnd() * 16);
  return b;
}

/** A zstd record batch as kafkajs reads it from a fetch response, its records compressed by `frame`. */
async function zstdBatch(
  messages: { key: Buffer; value: Buffer; headers: Record<string, string> }[],
  frame: (records: Buffer) => Buffer,
): Promise<Buffer> {
  const table = CompressionCodecs as unknown as Record<number, () => Codec>;
  const registered = table[CompressionTypes.ZSTD];
  table[CompressionTypes.ZSTD] = () => ({
    compress: async (e) => frame(e.buffer),
    decompress: () => Promise.reject(new Error('unused')),
  });
  try {
    const records = messages.map((m, i) => Record({ offsetDelta: i, ...m }));
    return (await RecordBatch({ compression: CompressionTypes.ZSTD, records })).buffer;
  } finally {
    table[CompressionTypes.ZSTD] = registered;
  }
}

beforeAll(() => createKafka({ brokers: ['127.0.0.1:1'], clientId: 'zstd-frames-review' }, silentLogger));

it(`the ZSTD codec reads every frame of a batch, not the first only (ZSTD_FRAMES_SEED=${SEED})`, async () => {
  const rnd = mulberry32(SEED);
  const codec = lookupCodec(CompressionTypes.ZSTD);
  const a = bytes(rnd, 1 + Math.floor(rnd() * 50_000));
  const b = bytes(rnd, 1 + Math.floor(rnd() * 50_000));
  const twoFrames = Buffer.concat([node.zstdCompressSync(a), node.zstdCompressSync(b)]);
  const out = await codec.decompress(twoFrames);
  expect(out.length).toBe(a.length + b.length); // got a.length: the second frame dropped, no error
  expect(out.equals(Buffer.concat([a, b]))).toBe(true);
});

it(`a batch written as two zstd frames is read whole (ZSTD_FRAMES_SEED=${SEED})`, async () => {
  const rnd = mulberry32(SEED + 1);
  const messages = Array.from({ length: 4 + Math.floor(rnd() * 20) }, (_, i) => ({
    key: Buffer.from(`005Hn00000${String(i).padStart(8, '0')}`),
    value: bytes(rnd, 200 + Math.floor(rnd() * 2000)),
    headers: { 'content-hash': `h${i}` },
  }));
  // a producer that ends a frame mid-batch (any split point: frames need not follow records)
  const batch = await zstdBatch(messages, (records) => {
    const cut = 1 + Math.floor(rnd() * (records.length - 1));
    return Buffer.concat([
      node.zstdCompressSync(records.subarray(0, cut)),
      node.zstdCompressSync(records.subarray(cut)),
    ]);
  });
  const { records } = await decodeBatch(new Decoder(batch)); // RangeError: the records past frame 1 are missing
  expect(records.map((r) => r.value.toString())).toEqual(messages.map((m) => m.value.toString()));
});

it('the ZSTD codec rejects a truncated frame, as the GZIP codec rejects a truncated member', async () => {
  const rnd = mulberry32(SEED + 2);
  const data = bytes(rnd, 300_000);
  const gzip = zlib.gzipSync(data);
  await expect(lookupCodec(CompressionTypes.GZIP).decompress(gzip.subarray(0, gzip.length - 100))).rejects.toThrow(
    /unexpected end of file/,
  );
  const frame = node.zstdCompressSync(data);
  // resolves with the complete blocks' output (128 KiB each), the rest lost without an error
  await expect(lookupCodec(CompressionTypes.ZSTD).decompress(frame.subarray(0, frame.length - 20))).rejects.toThrow();
});

it('a zstd batch whose frame is cut short fails to decode, not read as a record cut short', async () => {
  const rnd = mulberry32(SEED + 3);
  // three records of 100 KB: the third crosses the frame's 256 KiB block boundary
  const messages = [0, 1, 2].map((i) => ({
    key: Buffer.from(`005Hn0000000000${i}AA`),
    value: bytes(rnd, 100_000),
    headers: { 'content-hash': `hash-${i}` },
  }));
  // the frame without its last block (bytes lost on the way or on a disk; kafkajs does not check the CRC)
  const batch = await zstdBatch(messages, (records) => {
    const frame = node.zstdCompressSync(records);
    for (let n = frame.length - 1; n > 0; n--) {
      const part = frame.subarray(0, n);
      let out: Buffer;
      try {
        out = (zlib as unknown as { zstdDecompressSync(b: Buffer): Buffer }).zstdDecompressSync(part);
      } catch {
        continue;
      }
      if (out.length === 262_144) return part;
    }
    throw new Error('no cut gives 256 KiB (test set-up)');
  });
  let decoded: Awaited<ReturnType<typeof decodeBatch>> | Error;
  try {
    decoded = await decodeBatch(new Decoder(batch));
  } catch (err) {
    decoded = err as Error;
  }
  // today: 3 records, the third's value 100,000 -> ~62,000 bytes, its content-hash header gone
  const read =
    decoded instanceof Error ? decoded : decoded.records.map((r) => [r.value.length, Object.keys(r.headers)]);
  expect(read).toBeInstanceOf(Error);
});

/**
 * kafkajs does not check a batch's CRC32C; the sink's only integrity check on what it fetches was gzip's
 * own CRC32 (RFC 1952 trailer), which fails a damaged member ('incorrect data check'). The zstd frames
 * the connector writes (Node's zstdCompress at its defaults) carry no content checksum (RFC 8878
 * §3.1.1.1.1, Content_Checksum_flag), so a flipped bit in a stored batch mostly decodes to other bytes
 * without an error (~2 flips in 3 on user-like text): the sink writes or dead-letters damaged values.
 */
it(`a damaged byte of a zstd batch fails to decode, as in a gzip one (ZSTD_FRAMES_SEED=${SEED})`, async () => {
  const rnd = mulberry32(SEED + 4);
  const words = Array.from({ length: 300 }, () => bytes(rnd, 3 + Math.floor(rnd() * 12)));
  const batch = Buffer.concat(Array.from({ length: 20_000 }, () => words[Math.floor(rnd() * words.length)]!));
  const outcomes = async (codec: Codec) => {
    const compressed = await codec.compress({ buffer: batch });
    const seen = { failed: 0, silentlyOther: 0, same: 0 };
    for (let i = 0; i < 100; i++) {
      const damaged = Buffer.from(compressed);
      // a byte of the compressed data (past a zstd frame header's 18 bytes at most, a gzip header's 10)
      damaged[18 + Math.floor(rnd() * (damaged.length - 18))]! ^= 1 << Math.floor(rnd() * 8);
      try {
        if ((await codec.decompress(damaged)).equals(batch)) seen.same++;
        else seen.silentlyOther++;
      } catch {
        seen.failed++;
      }
    }
    return { compressed, seen };
  };
  const gzip = await outcomes(lookupCodec(CompressionTypes.GZIP));
  expect(gzip.seen.silentlyOther).toBe(0);
  const zstd = await outcomes(lookupCodec(CompressionTypes.ZSTD));
  // frame header descriptor bit 2: Content_Checksum_flag
  expect({ checksum: (zstd.compressed[4]! & 0x04) !== 0, ...zstd.seen }).toMatchObject({
    checksum: true,
    silentlyOther: 0,
  });
});

import * as zlib from 'node:zlib';
import { CompressionTypes } from 'kafkajs';
import { createKafka } from '../../../kafka/client';
import { zstdFrames } from '../../../kafka/zstd-frames';
import { ConnectorError } from '../../../kernel/errors';
import { silentLogger } from '../../../kernel/logger';
import { mulberry32 } from '../../../simulator/prng';

/**
 * kafka/zstd-frames.ts, the zstd frame walker, against frames libzstd writes (zlib.zstdCompressSync): with
 * and without the content checksum and the content size, raw, RLE and compressed blocks, frames of one and
 * several blocks, several frames and skippable frames in a row; every cut of a frame fails, and so does
 * the codec (kafka/zstd.ts) reading it. Seeded: ZSTD_WALK_SEED=n replays.
 */
const SEED = Number(process.env.ZSTD_WALK_SEED ?? Math.floor(Math.random() * 2 ** 31));

// Node 22.15's zstd (the pinned @types/node predates it)
const zstd = zlib as unknown as {
  zstdCompressSync(b: Buffer, o?: { params: Record<number, number> }): Buffer;
  zstdDecompressSync(b: Buffer): Buffer;
};
const CHECKSUM = 201; // ZSTD_c_checksumFlag
const CONTENT_SIZE = 200; // ZSTD_c_contentSizeFlag
const LEVEL = 100; // ZSTD_c_compressionLevel

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { lookupCodec } = require('kafkajs/src/protocol/message/compression') as {
  lookupCodec(t: number): { decompress(b: Buffer): Promise<Buffer> };
};

/** Random content: random bytes (raw blocks), one byte repeated (RLE blocks), or text-like (compressed). */
function content(rnd: () => number, max: number): Buffer {
  const n = Math.floor(rnd() * max);
  const kind = Math.floor(rnd() * 3);
  const b = Buffer.alloc(n);
  const byte = Math.floor(rnd() * 256);
  for (let i = 0; i < n; i++)
    b[i] = kind === 0 ? Math.floor(rnd() * 256) : kind === 1 ? byte : 97 + Math.floor(rnd() * 8);
  return b;
}

/** One frame as some producer may write it: checksum or not, content size or not, levels 1..9. */
function frame(rnd: () => number, data: Buffer): Buffer {
  const params = {
    [CHECKSUM]: rnd() < 0.5 ? 1 : 0,
    [CONTENT_SIZE]: rnd() < 0.5 ? 1 : 0,
    [LEVEL]: 1 + Math.floor(rnd() * 9),
  };
  return zstd.zstdCompressSync(data, { params });
}

function skippable(rnd: () => number): Buffer {
  const payload = Buffer.from(Array.from({ length: Math.floor(rnd() * 20) }, () => Math.floor(rnd() * 256)));
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184d2a50 + Math.floor(rnd() * 16), 0);
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

const corrupt = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err instanceof ConnectorError && err.code === 'ZSTD_BATCH_CORRUPT' && !err.retriable;
  }
  return false;
};

it(`splits runs of frames into the frames libzstd wrote, skippable frames left out (ZSTD_WALK_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  for (let round = 0; round < 60; round++) {
    const datas = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () =>
      content(rnd, round % 6 === 0 ? 400_000 : 3000),
    );
    const frames = datas.map((d) => frame(rnd, d));
    const parts = frames.flatMap((f) => (rnd() < 0.2 ? [skippable(rnd), f] : [f]));
    const walked = zstdFrames(Buffer.concat(parts));
    expect(walked.map((w) => w.data.toString('hex'))).toEqual(frames.map((f) => f.toString('hex')));
    walked.forEach((w, i) => {
      expect(zstd.zstdDecompressSync(w.data).equals(datas[i]!)).toBe(true);
      // the content size, where the header declares it (bits 7-6 of the descriptor, or a single segment)
      const declared = (w.data[4]! & 0xc0) !== 0 || (w.data[4]! & 0x20) !== 0;
      expect(w.contentSize).toBe(declared ? datas[i]!.length : null);
    });
  }
});

it(`every cut of a frame, and stray bytes after one, fail as a corrupt batch (ZSTD_WALK_SEED=${SEED})`, async () => {
  createKafka({ brokers: ['127.0.0.1:1'], clientId: 'zstd-frames-test' }, silentLogger);
  const codec = lookupCodec(CompressionTypes.ZSTD);
  const rnd = mulberry32(SEED + 1);
  for (let round = 0; round < 12; round++) {
    const before = rnd() < 0.5 ? frame(rnd, content(rnd, 2000)) : Buffer.alloc(0);
    const whole = frame(rnd, content(rnd, 2000));
    for (let n = 0; n < whole.length; n++) {
      const cut = Buffer.concat([before, whole.subarray(0, n)]);
      if (n === 0 && before.length > 0) continue; // `before` alone is whole
      expect([n, corrupt(() => zstdFrames(cut))]).toEqual([n, true]);
      await expect(codec.decompress(cut)).rejects.toMatchObject({ code: 'ZSTD_BATCH_CORRUPT', retriable: false });
    }
    const stray = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => Math.floor(rnd() * 256)));
    expect(corrupt(() => zstdFrames(Buffer.concat([before, whole, stray])))).toBe(true);
  }
});

it('a frame whose declared content size was altered fails in the codec', async () => {
  createKafka({ brokers: ['127.0.0.1:1'], clientId: 'zstd-frames-test' }, silentLogger);
  const codec = lookupCodec(CompressionTypes.ZSTD);
  const data = Buffer.from('abcdefgh'.repeat(100));
  const f = zstd.zstdCompressSync(data); // single segment, a 2-byte content size (800 - 256)
  expect(f[4]! & 0xe0).toBe(0x60);
  const altered = Buffer.from(f);
  altered.writeUInt16LE(f.readUInt16LE(5) + 1, 5);
  await expect(codec.decompress(altered)).rejects.toMatchObject({ code: 'ZSTD_BATCH_CORRUPT' });
  expect((await codec.decompress(f)).equals(data)).toBe(true);
});

import * as zlib from 'node:zlib';
import { CompressionTypes, type Producer } from 'kafkajs';
import { createKafka } from '../../../kafka/client';
import { silentLogger } from '../../../kernel/logger';
import { kafkaWriter } from '../../../pipeline/kafka/publisher';
import { parseConnectorConfig } from '../../../pipeline/config';
import { mulberry32 } from '../../../simulator/prng';
import { goodConfig, sources } from '../config/helpers';

/**
 * zstd record compression (publisher.compression: zstd): kafkajs ships no zstd codec, so the connector
 * registers Node's own (zlib.zstdCompress / zstdDecompress) as kafkajs's ZSTD codec whenever it builds
 * a client (createKafka): its producers compress with it, and its consumers (the sink, the index and
 * state reads) decode topics a zstd producer wrote, whoever that producer was. Random batches (sizes,
 * repetitive and random bytes), seeded: ZSTD_SEED=n replays.
 */
// Node 22.15's zstd (the pinned @types/node predates it)
const zstdSync = zlib as unknown as {
  zstdCompressSync(b: Buffer, o?: { params: Record<number, number> }): Buffer;
  zstdDecompressSync(b: Buffer): Buffer;
};
const SEED = Number(process.env.ZSTD_SEED ?? Math.floor(Math.random() * 2 ** 31));

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { lookupCodec } = require('kafkajs/src/protocol/message/compression') as {
  lookupCodec(type: number): {
    compress(e: { buffer: Buffer }): Promise<Buffer>;
    decompress(b: Buffer): Promise<Buffer>;
  };
};

it(`a client's ZSTD codec round-trips random batches as plain zstd frames (ZSTD_SEED=${SEED})`, async () => {
  createKafka({ brokers: ['127.0.0.1:1'], clientId: 'zstd-test' }, silentLogger);
  const codec = lookupCodec(CompressionTypes.ZSTD);
  const rnd = mulberry32(SEED);
  const int = (k: number) => Math.floor(rnd() * k);
  for (let i = 0; i < 50; i++) {
    const words = Array.from({ length: 1 + int(20) }, () =>
      Buffer.from(Array.from({ length: 1 + int(30) }, () => int(256))),
    );
    const batch = Buffer.concat(Array.from({ length: int(3000) }, () => words[int(words.length)]));
    const compressed = await codec.compress({ buffer: batch });
    expect(zstdSync.zstdDecompressSync(compressed).equals(batch)).toBe(true); // a plain zstd frame
    expect((await codec.decompress(compressed)).equals(batch)).toBe(true);
    // a frame another producer wrote (here zlib's own, at another level) is read too
    const theirs = zstdSync.zstdCompressSync(batch, { params: { [100]: 9 } }); // 100: ZSTD_c_compressionLevel;
    expect((await codec.decompress(theirs)).equals(batch)).toBe(true);
  }
});

it('publisher.compression zstd: parsed from the config, and the writer sends with kafkajs ZSTD', async () => {
  const parsed = parseConnectorConfig(goodConfig({ publisher: { compression: 'zstd' } }), sources(), 'test.yaml');
  expect(parsed.publisher.compression).toBe('zstd');
  const sent: unknown[] = [];
  const producer = {
    sendBatch: async (b: { compression: unknown }) => void sent.push(b.compression),
  } as unknown as Producer;
  await kafkaWriter(producer, { compression: 'zstd' }).write([
    { topic: 't', key: Buffer.from('k'), value: Buffer.from('v'), headers: {} },
  ]);
  await kafkaWriter(producer, { compression: 'gzip' }).write([
    { topic: 't', key: Buffer.from('k'), value: Buffer.from('v'), headers: {} },
  ]);
  expect(sent).toEqual([CompressionTypes.ZSTD, CompressionTypes.GZIP]);
});

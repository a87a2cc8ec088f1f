import * as zlib from 'node:zlib';
import { CompressionTypes } from 'kafkajs';
import { createKafka } from '../../../kafka/client';
import { silentLogger } from '../../../kernel/logger';
import { mulberry32 } from '../../../simulator/prng';

/**
 * The gzip the connector's producers write (publisher.compression: gzip, the default): zlib's fastest
 * level, registered by createKafka as kafkajs's GZIP codec (kafkajs's own compresses at zlib's default,
 * 6: ~8x the CPU for ~20 % fewer bytes on the users topic, docs/performance-s9-cpu.md). Any gzip reader
 * decodes it (level is the writer's choice alone), and the connector's readers decode a gzip batch
 * another producer wrote at any level. Random batches, seeded: GZIP_SEED=n replays.
 */
const SEED = Number(process.env.GZIP_SEED ?? Math.floor(Math.random() * 2 ** 31));

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { lookupCodec } = require('kafkajs/src/protocol/message/compression') as {
  lookupCodec(type: number): {
    compress(e: { buffer: Buffer }): Promise<Buffer>;
    decompress(b: Buffer): Promise<Buffer>;
  };
};

it(`a client's GZIP codec writes zlib's fastest level and reads any level (GZIP_SEED=${SEED})`, async () => {
  createKafka({ brokers: ['127.0.0.1:1'], clientId: 'gzip-test' }, silentLogger);
  const codec = lookupCodec(CompressionTypes.GZIP);
  const rnd = mulberry32(SEED);
  const int = (k: number) => Math.floor(rnd() * k);
  for (let i = 0; i < 40; i++) {
    const words = Array.from({ length: 1 + int(20) }, () =>
      Buffer.from(Array.from({ length: 1 + int(30) }, () => int(256))),
    );
    const batch = Buffer.concat(Array.from({ length: int(3000) }, () => words[int(words.length)]));
    const compressed = await codec.compress({ buffer: batch });
    // RFC 1952: byte 8 (XFL) is 4 when the compressor used its fastest algorithm, 0 at zlib's default
    expect(compressed[8]).toBe(4);
    expect(zlib.gunzipSync(compressed).equals(batch)).toBe(true); // a plain gzip member, any reader
    expect((await codec.decompress(compressed)).equals(batch)).toBe(true);
    for (const level of [1, 6, 9]) {
      const theirs = zlib.gzipSync(batch, { level });
      expect((await codec.decompress(theirs)).equals(batch)).toBe(true);
    }
  }
});

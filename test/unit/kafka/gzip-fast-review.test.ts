import * as zlib from 'node:zlib';
import { CompressionTypes } from 'kafkajs';
import { createKafka } from '../../../kafka/client';
import { silentLogger } from '../../../kernel/logger';
import { mulberry32 } from '../../../simulator/prng';

/**
 * Review (s9-rev-cpu) of kafka/gzip-fast.ts: createKafka replaces kafkajs's GZIP codec for every client of
 * the process, readers included. Its doc says "Decompression is zlib's gunzip as kafkajs's"; kafkajs's own
 * codec (kafkajs/src/protocol/message/compression/gzip.js) decompresses with zlib.unzip, which reads a
 * gzip member or a zlib (RFC 1950) stream, and the new codec with zlib.gunzip, which reads gzip only.
 * A GZIP batch whose payload is a zlib stream, read by the sink before the change, now fails the fetch
 * ('incorrect header check'). Seeded: GZIP_REVIEW_SEED=n replays.
 */
const SEED = Number(process.env.GZIP_REVIEW_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Codec = { decompress(b: Buffer): Promise<Buffer> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { lookupCodec } = require('kafkajs/src/protocol/message/compression') as { lookupCodec(t: number): Codec };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsGzip = require('kafkajs/src/protocol/message/compression/gzip') as Codec;

it(`the GZIP codec reads what kafkajs's own GZIP codec read (GZIP_REVIEW_SEED=${SEED})`, async () => {
  createKafka({ brokers: ['127.0.0.1:1'], clientId: 'gzip-fast-review' }, silentLogger);
  const codec = lookupCodec(CompressionTypes.GZIP);
  expect(codec).not.toBe(kafkajsGzip);
  const rnd = mulberry32(SEED);
  const data = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 20_000) }, () => 97 + Math.floor(rnd() * 8)));
  const zlibStream = zlib.deflateSync(data, { level: 1 + Math.floor(rnd() * 9) });
  expect((await kafkajsGzip.decompress(zlibStream)).equals(data)).toBe(true); // before the change
  expect((await codec.decompress(zlibStream)).equals(data)).toBe(true); // now: 'incorrect header check'
});

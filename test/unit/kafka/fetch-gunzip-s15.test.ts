import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { CompressionTypes } from 'kafkajs';
import { createKafka } from '../../../kafka/client';
import { gunzipSized } from '../../../kafka/fetch-gunzip';
import { silentLogger } from '../../../kernel/logger';
import { mulberry32 } from '../../../simulator/prng';

/**
 * The GZIP codec's decompress (kafka/fetch-gunzip.ts) against zlib's unzip as kafkajs calls it (the
 * oracle: 16 KiB output chunks): the same bytes for any input, or a rejection where unzip rejects,
 * with the same message. Random batches, seeded: FETCH_GUNZIP_S15_SEED=n replays.
 */
const SEED = Number(process.env.FETCH_GUNZIP_S15_SEED ?? Math.floor(Math.random() * 2 ** 31));
const unzip = promisify(zlib.unzip);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { lookupCodec } = require('kafkajs/src/protocol/message/compression') as {
  lookupCodec(type: number): {
    compress(e: { buffer: Buffer }): Promise<Buffer>;
    decompress(b: Buffer): Promise<Buffer>;
  };
};

const outcome = (p: Promise<Buffer>): Promise<{ ok: Buffer } | { error: string }> =>
  p.then(
    (ok) => ({ ok }),
    (err: Error) => ({ error: `${(err as NodeJS.ErrnoException).code} ${err.message}` }),
  );

it(`gunzipSized gives zlib.unzip's bytes or its error (FETCH_GUNZIP_S15_SEED=${SEED})`, async () => {
  const rnd = mulberry32(SEED);
  const int = (k: number) => Math.floor(rnd() * k);
  const batch = () => {
    const words = Array.from({ length: 1 + int(20) }, () =>
      Buffer.from(Array.from({ length: 1 + int(30) }, () => int(256))),
    );
    const n = [0, 1, int(50), int(3000), int(40000)][int(5)];
    return Buffer.concat(Array.from({ length: n }, () => words[int(words.length)]));
  };
  let kinds = 0;
  for (let i = 0; i < 300; i++) {
    const raw = batch();
    let input: Buffer;
    const kind = int(9);
    if (kind === 0)
      input = zlib.deflateSync(raw); // a zlib stream: no size in a trailer
    else if (kind === 1)
      input = Buffer.concat([zlib.gzipSync(raw), zlib.gzipSync(batch())]); // two members
    else if (kind === 2) {
      // the trailer's size lies (smaller, larger, huge): zlib refuses, or the size only sizes a buffer
      input = zlib.gzipSync(raw);
      input.writeUInt32LE([0, 1, int(2 ** 32), 0xffffffff, raw.length + 1][int(5)], input.length - 4);
    } else if (kind === 3)
      input = zlib.gzipSync(raw).subarray(0, int(zlib.gzipSync(raw).length + 1)); // cut
    else if (kind === 4) {
      input = Buffer.from(zlib.gzipSync(raw)); // a byte changed
      input[int(input.length)] ^= 1 + int(255);
    } else if (kind === 5) input = Buffer.concat([zlib.gzipSync(raw), Buffer.from([int(256), int(256)])]);
    else if (kind === 6) input = Buffer.from(Array.from({ length: int(40) }, () => int(256)));
    else input = zlib.gzipSync(raw, { level: int(10) });
    kinds |= 1 << kind;
    const theirs = await outcome(unzip(input));
    const ours = await outcome(gunzipSized(input));
    if ('ok' in theirs) {
      expect('ok' in ours && ours.ok.equals(theirs.ok)).toBe(true);
    } else expect(ours).toEqual(theirs);
  }
  expect(kinds).toBe(0x1ff);
});

it('a client built by createKafka decompresses GZIP batches with gunzipSized and still writes level 1', async () => {
  createKafka({ brokers: ['127.0.0.1:1'], clientId: 'gunzip-test' }, silentLogger);
  const codec = lookupCodec(CompressionTypes.GZIP);
  expect(codec.decompress).toBe(gunzipSized);
  const compressed = await codec.compress({ buffer: Buffer.from('a'.repeat(1000)) });
  expect(compressed[8]).toBe(4); // RFC 1952 XFL: the fastest level
  expect((await codec.decompress(compressed)).toString()).toBe('a'.repeat(1000));
});

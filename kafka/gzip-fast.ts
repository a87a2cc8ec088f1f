import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { CompressionTypes } from 'kafkajs';
import { registerCodec, type Codec } from './codec-table';

/**
 * Kafka's gzip record compression (codec 1, publisher.compression: gzip, the default) at zlib's fastest
 * level, registered as kafkajs's GZIP codec in place of kafkajs's own, which compresses at zlib's
 * default level 6. On the connector's user batches (500 Avro values, ~1.2 KB each; bench/hot-path.ts,
 * docs/performance-s9-cpu.md): level 6 costs 61.6 µs a user for 213 B, level 1 7.5 µs for 264 B; the
 * first full run spent more CPU on gzip than on any stage of ours. Any gzip reader decodes either (the
 * level is the writer's choice alone); zstd (zstd.ts) has level 1's speed and level 6's bytes for readers
 * that know it. Decompression is zlib's unzip, as kafkajs's own codec, whatever level a batch was written at.
 */
const gzip = promisify(zlib.gzip);
const unzip = promisify(zlib.unzip);
// runs on libuv's thread pool, as kafkajs's gzip codec does
const codec: Codec = {
  compress: (encoder) => gzip(encoder.buffer, { level: zlib.constants.Z_BEST_SPEED }),
  // unzip as kafkajs's own codec: a gzip member or a zlib (RFC 1950) stream, as other producers may write
  decompress: (buffer) => unzip(buffer),
};

/** kafkajs's codec table is one per process: every client of this process writes gzip at level 1 from now on. */
export function useFastGzipCodec(): void {
  registerCodec(CompressionTypes.GZIP, codec);
}

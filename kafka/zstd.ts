import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';

/**
 * Kafka's zstd record compression (codec 4) through Node's own zstd (zlib.zstdCompress, Node 22.15+),
 * registered as kafkajs's ZSTD codec, which kafkajs 2.2.4 leaves unimplemented. No extra package: Node
 * links libzstd. Why zstd: on the connector's user batches (500 Avro values, ~1.2 KB each) it compresses
 * at the default level 3 to 209 B a user against gzip-6's 213 B, in 7 µs a user against 47 µs, and
 * decompresses in 5 µs as gzip does (bench/hot-path.ts; docs/performance-s9-cpu.md).
 */
type Callback = (error: Error | null, result: Buffer) => void;
/** Node 22.15's zstd functions (the pinned @types/node predates them). */
const node = zlib as unknown as {
  zstdCompress?: (buffer: Buffer, callback: Callback) => void;
  zstdDecompress?: (buffer: Buffer, callback: Callback) => void;
};
export const ZSTD_AVAILABLE = typeof node.zstdCompress === 'function' && typeof node.zstdDecompress === 'function';

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

function zstdCodec(): Codec {
  // runs on libuv's thread pool, as kafkajs's gzip (zlib.gzip) does
  const compress = promisify(node.zstdCompress as (buffer: Buffer, callback: Callback) => void);
  const decompress = promisify(node.zstdDecompress as (buffer: Buffer, callback: Callback) => void);
  return {
    compress: (encoder) => compress(encoder.buffer),
    decompress: (buffer) => decompress(buffer),
  };
}

let registered: Codec | null = null;

/**
 * kafkajs's codec table is one per process: once registered, every client of this process (producers,
 * consumers) compresses and decodes zstd record batches. Without Node's zstd it stays unregistered
 * (the config refuses `compression: zstd`; reading a zstd batch fails as kafkajs always failed).
 */
export function useZstdCodec(): void {
  if (!ZSTD_AVAILABLE) return;
  registered ??= zstdCodec();
  const codec = registered;
  (CompressionCodecs as Record<number, () => Codec>)[CompressionTypes.ZSTD] = () => codec;
}

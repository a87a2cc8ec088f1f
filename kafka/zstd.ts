import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { CompressionTypes } from 'kafkajs';
import { registerCodec, type Codec } from './codec-table';
import { corruptZstd, zstdFrames } from './zstd-frames';

/**
 * Kafka's zstd record compression (codec 4) through Node's own zstd (zlib.zstdCompress, Node 22.15+),
 * registered as kafkajs's ZSTD codec, which kafkajs 2.2.4 leaves unimplemented. No extra package: Node
 * links libzstd. Why zstd: on the connector's user batches (500 Avro values, ~1.2 KB each) it compresses
 * at the default level 3 to 209 B a user against gzip-6's 213 B, in 7 µs a user against 47 µs, and
 * decompresses in 5 µs as gzip does (bench/hot-path.ts; docs/performance-s9-cpu.md).
 *
 * Kafkajs does not check a batch's CRC32C, so the codec is the batch's integrity check, as gzip's CRC32 is
 * for GZIP batches: frames are written with zstd's content checksum (a damaged byte fails decoding), and
 * read frame by frame (kafka/zstd-frames.ts), so that a batch of several frames is read whole and a frame
 * cut short fails (ZSTD_BATCH_CORRUPT) instead of yielding its complete blocks only.
 * Cost: none measurable. Side by side in one process, the codec before / after on batches of 500 records of
 * ~1.2 KB: compress 10.1 / 8.9 and 8.5 / 7.2 µs a record, decompress 6.2 / 6.1 and 5.0 / 4.8 (two runs of a
 * one-off A/B script, 9 interleaved rounds); bench/hot-path.ts 5000 (its zstd rows, synchronous) 4.4 / 3.5,
 * 5.1 / 4.4, 3.7 / 3.3 to compress and 2.6 / 2.7, 3.9 / 3.8, 2.9 / 2.3 to decompress: noise either way
 * (XXH64 runs at memory speed; the walk reads a 3-byte header per 128 KiB block). Same bytes: 209 B a user.
 */
type Callback = (error: Error | null, result: Buffer) => void;
/** Node 22.15's zstd functions (the pinned @types/node predates them). */
const node = zlib as unknown as {
  zstdCompress?: (buffer: Buffer, options: { params: Record<number, number> }, callback: Callback) => void;
  zstdDecompress?: (buffer: Buffer, callback: Callback) => void;
};
/** zlib.constants.ZSTD_c_checksumFlag (ZSTD_cParameter 201), absent from the pinned @types/node. */
const ZSTD_C_CHECKSUM_FLAG = (zlib.constants as unknown as Record<string, number>).ZSTD_c_checksumFlag ?? 201;
export const ZSTD_AVAILABLE = typeof node.zstdCompress === 'function' && typeof node.zstdDecompress === 'function';

function zstdCodec(): Codec {
  // runs on libuv's thread pool, as kafkajs's gzip (zlib.gzip) does
  const compress = promisify(
    node.zstdCompress as (buffer: Buffer, options: { params: Record<number, number> }, callback: Callback) => void,
  );
  const decompress = promisify(node.zstdDecompress as (buffer: Buffer, callback: Callback) => void);
  // the content checksum (XXH64's low 4 bytes after the last block); the content size is written by default
  const options = { params: { [ZSTD_C_CHECKSUM_FLAG]: 1 } };
  const decompressFrame = async ({ data, contentSize }: { data: Buffer; contentSize: number | null }) => {
    let out: Buffer;
    try {
      out = await decompress(data);
    } catch (err) {
      throw corruptZstd((err as Error).message);
    }
    if (contentSize !== null && out.length !== contentSize) {
      throw corruptZstd(`a frame declares ${contentSize} bytes and holds ${out.length}`);
    }
    return out;
  };
  return {
    compress: (encoder) => compress(encoder.buffer, options),
    decompress: async (buffer) => {
      const frames = zstdFrames(buffer);
      if (frames.length === 1) return decompressFrame(frames[0]!);
      return Buffer.concat(await Promise.all(frames.map(decompressFrame)));
    },
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
  registerCodec(CompressionTypes.ZSTD, codec);
}

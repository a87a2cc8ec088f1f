import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { registerCodec, type Codec } from './codec-table';

const unzip = promisify(zlib.unzip);

/** zlib's own output chunk (kafkajs's codec and gzip-fast.ts use it): the least we ask for. */
const DEFAULT_CHUNK = 16 * 1024;
/** The most one output chunk may be, whatever a trailer claims (a batch is a few MB at most). */
const MAX_CHUNK = 32 * 1024 * 1024;
/** The most one output chunk may be against the compressed bytes; a batch that inflates more takes more chunks. */
const MAX_RATIO = 16;

/**
 * A GZIP batch's records, decompressed as zlib's unzip does (the same bytes, the same errors:
 * test/unit/kafka/fetch-gunzip-s15.test.ts), in one output chunk sized by the gzip trailer's
 * ISIZE (the member's length mod 2^32) instead of 16 KiB chunks joined at the end. unzip runs on
 * libuv's thread pool a chunk at a time, and each chunk costs the sink's one thread a callback and
 * a new buffer: a 500-user batch (~700 KB) took ~43 trips, 1.2-1.5 ms of the main thread and
 * ~3 ms of CPU in all; in one chunk 0.17-0.26 ms and ~0.8 ms (docs/performance-s15-sink.md). The
 * trailer only sizes the buffer: a wrong one (a lie, several members, a zlib stream without a
 * trailer) costs more chunks or a larger buffer, never other bytes; zlib checks the length itself.
 * One more byte than ISIZE: an exactly full chunk makes zlib allocate another before it ends.
 */
export async function gunzipSized(buffer: Buffer): Promise<Buffer> {
  if (buffer.length < 18 || buffer[0] !== 0x1f || buffer[1] !== 0x8b) return unzip(buffer);
  const size = buffer.readUInt32LE(buffer.length - 4);
  // at most 16x the compressed bytes (a user batch gzips ~3x): a trailer that lies costs no more
  const most = Math.min(MAX_CHUNK, Math.max(DEFAULT_CHUNK, MAX_RATIO * buffer.length));
  const out = await unzip(buffer, { chunkSize: Math.min(Math.max(size + 1, DEFAULT_CHUNK), most) });
  // The last four bytes were not the member's length (zlib ignores bytes after a member that start
  // with 0x00): the records would be slices of a chunk far larger than themselves and keep it alive
  // (32 MiB a batch: fetch-gunzip-memory-s15-rev.test.ts). Copied into a buffer of their own size; an
  // honest trailer never comes here (its chunk is the records' size + 1 or 16 KiB; a batch inflating
  // beyond 16x its compressed bytes takes several chunks, joined into a buffer of its size). Compared with
  // that chunk, not with the records' size + 16 KiB: a small batch with a lying trailer kept a chunk
  // of 16x its compressed bytes, over both (17,504 bytes for ~1.5 KB; FETCH_GUNZIP_MEM_SEED=42652427,
  // a trial CI of session 24).
  if (out.buffer.byteLength > Math.max(DEFAULT_CHUNK, out.length + 1)) {
    const own = Buffer.allocUnsafeSlow(out.length);
    out.copy(own);
    return own;
  }
  return out;
}

/**
 * From now on every client of this process (kafkajs's codec table is one per process) decompresses
 * GZIP batches with gunzipSized; compression stays the registered codec's (gzip-fast.ts: level 1).
 */
export function useFetchGunzip(): void {
  const table = CompressionCodecs as Record<number, () => Codec>;
  const current = table[CompressionTypes.GZIP]();
  if (current.decompress === gunzipSized) return;
  registerCodec(CompressionTypes.GZIP, { compress: (e) => current.compress(e), decompress: gunzipSized });
}

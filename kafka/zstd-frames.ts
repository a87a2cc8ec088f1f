import { FatalError } from '../kernel/errors';

/**
 * A walker over zstd data (RFC 8878 §3.1: "one or more frames"), reading headers and block headers only,
 * never decoding: it splits a Kafka record batch's compressed records into its complete frames, so the
 * codec (kafka/zstd.ts) can decompress every frame, not only the first as Node's zstdDecompress does, and
 * fail a frame cut short, which Node's zstdDecompress resolves with its complete blocks' output instead.
 * Throws a FatalError (ZSTD_BATCH_CORRUPT, not retriable: the same bytes fail again) on a cut or malformed
 * frame. No library does this in Node (libzstd's ZSTD_findFrameCompressedSize is not exposed by zlib).
 */

/** One zstd frame of the input: its bytes, and the content size its header declares (null if none). */
export interface ZstdFrame {
  data: Buffer;
  contentSize: number | null;
}

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50..0x184D2A5F, a 4-byte size, that many bytes of user data. */
const SKIPPABLE_MAGIC = 0x184d2a50;
/** Block_Maximum_Size is at most 128 KiB (§3.1.1.2.4); a larger Block_Size is a damaged header. */
const BLOCK_MAX = 128 * 1024;

export function corruptZstd(reason: string): FatalError {
  return new FatalError('ZSTD_BATCH_CORRUPT', `corrupt zstd record batch: ${reason}`);
}

/** The input's zstd frames in order (skippable frames left out); throws unless it is whole frames only. */
export function zstdFrames(input: Buffer): ZstdFrame[] {
  const frames: ZstdFrame[] = [];
  let at = 0;
  const need = (n: number, what: string) => {
    if (at + n > input.length) throw corruptZstd(`cut short in ${what} at byte ${at} of ${input.length}`);
  };
  while (at < input.length) {
    const start = at;
    need(4, 'a frame magic number');
    const magic = input.readUInt32LE(at);
    at += 4;
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      need(4, 'a skippable frame size');
      const size = input.readUInt32LE(at);
      at += 4;
      need(size, 'a skippable frame');
      at += size;
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw corruptZstd(`no zstd frame at byte ${start} (magic 0x${magic.toString(16)})`);
    // Frame_Header_Descriptor (§3.1.1.1.1)
    need(1, 'a frame header');
    const fhd = input[at++]!;
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    if ((fhd & 0x08) !== 0) throw corruptZstd(`reserved bit set in the frame header at byte ${start}`);
    const checksum = (fhd & 0x04) !== 0;
    const dictionaryIdBytes = [0, 1, 2, 4][fhd & 0x03]!;
    const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
    // Window_Descriptor (absent in a single-segment frame), Dictionary_ID, Frame_Content_Size
    need((singleSegment ? 0 : 1) + dictionaryIdBytes + contentSizeBytes, 'a frame header');
    at += (singleSegment ? 0 : 1) + dictionaryIdBytes;
    let contentSize: number | null = null;
    if (contentSizeBytes === 1) contentSize = input[at]!;
    else if (contentSizeBytes === 2) contentSize = input.readUInt16LE(at) + 256;
    else if (contentSizeBytes === 4) contentSize = input.readUInt32LE(at);
    else if (contentSizeBytes === 8) contentSize = Number(input.readBigUInt64LE(at));
    at += contentSizeBytes;
    // Blocks (§3.1.1.2): a 3-byte little-endian header (Last_Block, Block_Type, Block_Size), then the block
    for (let last = false; !last;) {
      need(3, 'a block header');
      const header = input[at]! | (input[at + 1]! << 8) | (input[at + 2]! << 16);
      at += 3;
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw corruptZstd(`reserved block type at byte ${at - 3}`);
      if (size > BLOCK_MAX) throw corruptZstd(`block of ${size} bytes at byte ${at - 3}`);
      const stored = type === 1 ? 1 : size; // RLE: one byte, repeated Block_Size times
      need(stored, 'a block');
      at += stored;
    }
    if (checksum) {
      need(4, 'a content checksum');
      at += 4;
    }
    frames.push({ data: input.subarray(start, at), contentSize });
  }
  if (frames.length === 0) throw corruptZstd('no zstd frame');
  return frames;
}

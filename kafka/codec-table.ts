import { CompressionCodecs } from 'kafkajs';

/** A kafkajs compression codec: what its codec table holds for a batch's compression type. */
export interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/**
 * Puts a codec in kafkajs's codec table, which is one per process: every client of this process
 * (producers and consumers) compresses and decodes that type with it from now on.
 */
export function registerCodec(type: number, codec: Codec): void {
  (CompressionCodecs as Record<number, () => Codec>)[type] = () => codec;
}

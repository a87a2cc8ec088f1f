import { arenaChunks } from '../../kernel/compact-map';

/**
 * Index entries waiting to be written, in the order they were kept, as bytes off the V8 heap:
 * `[u16 key length][key][u32 value length, 0xffffffff = null][value]` packed into 1 MiB chunks.
 * About 4 bytes of framing an entry, against ~400 bytes for an OutRecord of two Buffers and a
 * headers object (and the garbage collector never scans it). A key kept twice is written twice,
 * in order: the index topic is compacted and read in order, so the later one wins, as it did
 * when a Map replaced it.
 */
const CHUNK = 1 << 20;
if (arenaChunks.chunkBytes !== CHUNK) throw new Error('the EntryLog shares the arena chunks: 1 MiB');
const NULL_VALUE = 0xffffffff;

export interface LoggedEntry {
  key: Buffer;
  value: Buffer | null;
}

export class EntryLog {
  private chunks: Buffer[] = [];
  /** Where each full chunk's entries end (its unused tail follows). */
  private ends: number[] = [];
  private used = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Bytes held (chunks allocated). */
  get byteLength(): number {
    return this.chunks.length * CHUNK;
  }

  append(key: string | Buffer, value: string | Buffer | null): void {
    const keyBytes = Buffer.byteLength(key);
    const valueBytes = value === null ? 0 : Buffer.byteLength(value);
    if (keyBytes > 0xffff) throw new RangeError(`index entry key of ${keyBytes} bytes (at most 65,535)`);
    const need = 6 + keyBytes + valueBytes;
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || this.used + need > chunk.length) {
      if (chunk) this.ends.push(this.used);
      chunk = need <= CHUNK ? arenaChunks.take() : Buffer.allocUnsafe(need);
      this.chunks.push(chunk);
      this.used = 0;
    }
    let at = chunk.writeUInt16LE(keyBytes, this.used);
    at += typeof key === 'string' ? chunk.write(key, at, 'utf8') : key.copy(chunk, at);
    at = chunk.writeUInt32LE(value === null ? NULL_VALUE : valueBytes, at);
    if (typeof value === 'string') at += chunk.write(value, at, 'utf8');
    else if (value !== null) at += value.copy(chunk, at);
    this.used = at;
    this.count++;
  }

  /** The entries in the order kept; key and value are views into the log (valid while it lives). */
  *entries(): IterableIterator<LoggedEntry> {
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c];
      // a full chunk ends where the entry that did not fit would have started
      const end = c === this.chunks.length - 1 ? this.used : this.ends[c];
      let at = 0;
      while (at < end) {
        const keyBytes = chunk.readUInt16LE(at);
        const key = chunk.subarray(at + 2, at + 2 + keyBytes);
        at += 2 + keyBytes;
        const len = chunk.readUInt32LE(at);
        at += 4;
        if (len === NULL_VALUE) yield { key, value: null };
        else {
          yield { key, value: chunk.subarray(at, at + len) };
          at += len;
        }
      }
    }
  }

  /**
   * Gives the chunks to the next log or map that needs one (kernel/chunk-pool.ts) and empties this
   * one: only once nothing reads the entries any more (their views into the chunks would change).
   * A flush calls it when its transaction is written (kafkajs copied the records into its requests).
   */
  release(): void {
    arenaChunks.give(this.chunks);
    this.chunks = [];
    this.ends = [];
    this.used = 0;
    this.count = 0;
  }

  /** Takes every entry out: returns a log holding them and leaves this one empty. */
  drain(): EntryLog {
    const out = new EntryLog();
    out.chunks = this.chunks;
    out.used = this.used;
    out.count = this.count;
    out.ends = this.ends;
    this.chunks = [];
    this.ends = [];
    this.used = 0;
    this.count = 0;
    return out;
  }
}

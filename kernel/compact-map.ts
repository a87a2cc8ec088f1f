import { ChunkPool } from './chunk-pool';

/**
 * A Map<string, string> for millions of short ASCII keys and values (Salesforce Ids and content
 * hashes), kept off the V8 heap: one Buffer of fixed-width slots, open addressing with linear
 * probing and backward-shift deletion. About 42 bytes per slot at a load of 0.35 to 0.7, against
 * roughly 150 bytes per entry (plus the garbage collector's headroom) for a Map of strings; and
 * the collector never scans it.
 *
 * Keys and values that do not fit a slot (longer than the widths, or not ASCII) go to an
 * ordinary Map beside it, so every string works; only the common case is compact. Iteration
 * order is unspecified (unlike Map's insertion order).
 */
const EMPTY = 0xff;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const MAX_LOAD = 0.7;

export class CompactStringMap implements Iterable<[string, string]> {
  private readonly slotBytes: number;
  private slots: Buffer;
  private mask: number;
  private used = 0;
  private readonly overflow = new Map<string, string>();

  /** `keyWidth` and `valueWidth`: the longest key and value kept compact, in characters (at most 254). */
  constructor(
    private readonly keyWidth = 18,
    private readonly valueWidth = 22,
    initialCapacity = 1024,
  ) {
    if (keyWidth < 1 || keyWidth > 254 || valueWidth < 0 || valueWidth > 254)
      throw new RangeError('key and value widths must be 1..254 and 0..254');
    this.slotBytes = 2 + keyWidth + valueWidth;
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(16, initialCapacity)));
    this.slots = Buffer.alloc(capacity * this.slotBytes, EMPTY);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.used + this.overflow.size;
  }

  /** Bytes held by the slots (the overflow Map not included). */
  get byteLength(): number {
    return this.slots.length;
  }

  get(key: string): string | undefined {
    if (!fits(key, this.keyWidth)) return this.overflow.get(key);
    const slot = this.find(key);
    // A fitting key whose value did not fit is in the overflow.
    return slot < 0 ? this.overflow.get(key) : this.valueAt(slot);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: string): this {
    const compact = fits(key, this.keyWidth) && fits(value, this.valueWidth, true);
    if (!compact) {
      if (fits(key, this.keyWidth)) this.delete(key); // a compact entry for this key would shadow the new value
      this.overflow.set(key, value);
      return this;
    }
    this.overflow.delete(key);
    let slot = this.find(key);
    if (slot < 0) {
      if ((this.used + 1) / (this.mask + 1) > MAX_LOAD) this.grow();
      slot = this.home(key);
      while (this.slots[slot * this.slotBytes] !== EMPTY) slot = (slot + 1) & this.mask;
      this.used++;
      const at = slot * this.slotBytes;
      this.slots[at] = key.length;
      this.slots.write(key, at + 1, 'latin1');
    }
    const v = slot * this.slotBytes + 1 + this.keyWidth;
    this.slots[v] = value.length;
    this.slots.write(value, v + 1, 'latin1');
    return this;
  }

  delete(key: string): boolean {
    if (!fits(key, this.keyWidth)) return this.overflow.delete(key);
    let hole = this.find(key);
    if (hole < 0) return this.overflow.delete(key);
    // Backward shift: pull later entries of the probe run into the hole, so no tombstones pile up.
    for (let j = (hole + 1) & this.mask; this.slots[j * this.slotBytes] !== EMPTY; j = (j + 1) & this.mask) {
      const home = this.homeOfStored(this.slots, j * this.slotBytes);
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
      if (movable) {
        this.slots.copy(this.slots, hole * this.slotBytes, j * this.slotBytes, (j + 1) * this.slotBytes);
        hole = j;
      }
    }
    this.slots.fill(EMPTY, hole * this.slotBytes, (hole + 1) * this.slotBytes);
    this.used--;
    return true;
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *entries(): IterableIterator<[string, string]> {
    for (let slot = 0; slot <= this.mask; slot++) {
      if (this.slots[slot * this.slotBytes] !== EMPTY) yield [this.keyAt(slot), this.valueAt(slot)];
    }
    yield* this.overflow.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** The slot holding `key` (which fits), or -1. */
  private find(key: string): number {
    for (let slot = this.home(key); ; slot = (slot + 1) & this.mask) {
      const at = slot * this.slotBytes;
      const len = this.slots[at];
      if (len === EMPTY) return -1;
      if (len === key.length && this.keyEquals(at + 1, key)) return slot;
    }
  }

  private keyEquals(at: number, key: string): boolean {
    for (let i = 0; i < key.length; i++) if (this.slots[at + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  /** FNV-1a of the key's characters, reduced to a slot. */
  private home(key: string): number {
    let h = FNV_OFFSET;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), FNV_PRIME);
    return (h >>> 0) & this.mask;
  }

  /** The same hash over the key bytes stored at `at` in `buf` (ASCII: one byte per character), no string built. */
  private homeOfStored(buf: Buffer, at: number): number {
    let h = FNV_OFFSET;
    for (let i = at + 1, end = at + 1 + buf[at]; i < end; i++) h = Math.imul(h ^ buf[i], FNV_PRIME);
    return (h >>> 0) & this.mask;
  }

  private keyAt(slot: number): string {
    const at = slot * this.slotBytes;
    return this.slots.toString('latin1', at + 1, at + 1 + this.slots[at]);
  }

  private valueAt(slot: number): string {
    const v = slot * this.slotBytes + 1 + this.keyWidth;
    return this.slots.toString('latin1', v + 1, v + 1 + this.slots[v]);
  }

  private grow(): void {
    const old = this.slots;
    const oldCapacity = this.mask + 1;
    this.slots = Buffer.alloc(oldCapacity * 2 * this.slotBytes, EMPTY);
    this.mask = oldCapacity * 2 - 1;
    for (let slot = 0; slot < oldCapacity; slot++) {
      const at = slot * this.slotBytes;
      if (old[at] === EMPTY) continue;
      let to = this.homeOfStored(old, at);
      while (this.slots[to * this.slotBytes] !== EMPTY) to = (to + 1) & this.mask;
      old.copy(this.slots, to * this.slotBytes, at, at + this.slotBytes);
    }
  }
}

/** Whether `s` can live in a slot: ASCII, and 1..width characters (0..width for values). */
function fits(s: string, width: number, emptyAllowed = false, maxCode = 0x7f): boolean {
  if (s.length > width || (s.length === 0 && !emptyAllowed)) return false;
  return charsAtMost(s, maxCode);
}

/** Every character of `s` at most `maxCode` (0x7f: ASCII; 0xff: latin1, one byte each). */
export function charsAtMost(s: string, maxCode: number): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > maxCode) return false;
  return true;
}

const ARENA_CHUNK_BITS = 20;
const ARENA_CHUNK = 1 << ARENA_CHUNK_BITS;
const ARENA_POS = ARENA_CHUNK - 1;
/** Where a chunk given back was: no slot points into it. */
const RELEASED = Buffer.alloc(0);

/**
 * The arena chunks every ArenaStringMap of the process takes and gives back (kernel/chunk-pool.ts):
 * a chunk emptied by strikes or deletes, or left behind by a compaction, is the next map's.
 */
export const arenaChunks = new ChunkPool(ARENA_CHUNK);

/**
 * A Map<string, string> for millions of short ASCII keys with values of varying length (a packed
 * login device, ~90 characters, absent for some users), off the V8 heap. The slots of the hash
 * table are 4-byte offsets (open addressing, linear probing, backward-shift deletion); each entry
 * lives once in 1 MiB chunks, `[u8 key length][key][u16 capacity][u16 length][value]`. So an
 * entry costs its characters, 5 bytes and 6 to 12 bytes of slots, against a fixed-width slot
 * sized for the longest value (CompactStringMap: 116 bytes a slot at a load of 0.35 to 0.7 for a
 * 96-character device). A new value that fits the old one's capacity is written in place; a
 * longer one moves to the end of the arena, and the arena is compacted when the space left behind
 * exceeds what is live. Keys longer than 255 characters, values longer than 65,535 characters,
 * and either beyond latin1, go to an ordinary Map beside it. Iteration order is unspecified.
 */
export class ArenaStringMap implements Iterable<[string, string]> {
  private slots: Uint32Array;
  private mask: number;
  private used = 0;
  private chunks: Buffer[] = [];
  /** Per chunk: entries live in it, and bytes written to it (all garbage once none is live). */
  private chunkLive: number[] = [];
  private chunkFill: number[] = [];
  /** Chunks given back (RELEASED in `chunks`). */
  private released = 0;
  private top = 0;
  /** Arena bytes of entries deleted or moved. */
  private garbage = 0;
  private live = 0;
  private readonly overflow = new Map<string, string>();
  /** Bumped whenever entries move between slots (a removal's shift, a rehash): iteration checks it. */
  private moves = 0;

  /** The fewest slots the table has (fit never goes below). */
  private readonly floor: number;

  constructor(initialCapacity = 1024) {
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(16, initialCapacity)));
    this.floor = capacity;
    this.slots = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.used + this.overflow.size;
  }

  /** Slots of the hash table (4 bytes each). */
  get slotCount(): number {
    return this.slots.length;
  }

  /**
   * Makes room for `entries` keys at once, so filling the map up to that many does not grow the
   * table step by step: each step rehashes every key and holds the old and the new table at once
   * (a load of 1M keys: 11 steps from 1,024 slots). A count larger than what comes costs slots
   * until `fit`.
   */
  reserve(entries: number): void {
    const capacity = this.capacityFor(Math.max(this.used, Math.floor(entries)));
    if (capacity > this.slots.length) this.rehash(capacity);
  }

  /** Shrinks the table to what growth alone would have reached for the keys held (after an over-`reserve`). */
  fit(): void {
    const capacity = this.capacityFor(this.used);
    if (capacity < this.slots.length) this.rehash(capacity);
  }

  /** Bytes held by the slots and the arena (the overflow Map not included). */
  get byteLength(): number {
    return this.slots.byteLength + (this.chunks.length - this.released) * ARENA_CHUNK;
  }

  get(key: string): string | undefined {
    const slot = fitsArenaKey(key) ? this.find(key) : -1;
    if (slot < 0) return this.overflow.get(key);
    const [chunk, at] = this.locate(this.slots[slot] - 1);
    const v = at + 1 + chunk[at];
    return chunk.toString('latin1', v + 4, v + 4 + chunk.readUInt16LE(v + 2));
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: string): this {
    if (!fitsArenaKey(key) || !fitsArenaValue(value)) {
      if (fitsArenaKey(key)) this.delete(key); // an arena entry for this key would shadow the new value
      this.overflow.set(key, value);
      return this;
    }
    // a Map's delete hashes the key even when it is empty (a load's every set: session 12)
    if (this.overflow.size > 0) this.overflow.delete(key);
    const slot = this.find(key);
    if (slot >= 0) {
      const [chunk, at] = this.locate(this.slots[slot] - 1);
      const v = at + 1 + chunk[at];
      const capacity = chunk.readUInt16LE(v);
      if (value.length <= capacity) {
        chunk.writeUInt16LE(value.length, v + 2);
        writeLatin1(chunk, value, v + 4);
        return this;
      }
      this.garbage += 5 + key.length + capacity;
      this.live -= 5 + key.length + capacity;
      const old = this.slots[slot] - 1;
      this.slots[slot] = this.append(key, value) + 1;
      this.vacate(old);
      this.compactIfWasteful();
      return this;
    }
    if ((this.used + 1) / (this.mask + 1) > MAX_LOAD) this.grow();
    let to = this.home(key);
    while (this.slots[to] !== 0) to = (to + 1) & this.mask;
    this.slots[to] = this.append(key, value) + 1;
    this.used++;
    return this;
  }

  delete(key: string): boolean {
    return this.remove(key, true);
  }

  /**
   * Deletes without ever compacting, for a map on its way out: a run strikes every user it sees from
   * the index it loaded, and the index is dropped when the run ends. delete would copy the survivors
   * into a fresh arena each time the struck space outweighs them (at 1M users: ~1M entries copied
   * through strings in a routine run, and the old and the new chunks resident at once; glibc keeps
   * the freed chunks below its heap's top: the routine run's brk heap held 133 MB for ~44 MB of live
   * arena, docs/performance-s7-mem.md). The struck bytes stay in the arena until their chunk holds
   * no live entry: then the chunk is given back (arenaChunks); the slot table shrinks once an eighth full.
   */
  strike(key: string): boolean {
    return this.remove(key, false);
  }

  private remove(key: string, compact: boolean): boolean {
    if (!fitsArenaKey(key)) return this.overflow.delete(key);
    let hole = this.find(key);
    if (hole < 0) return this.overflow.delete(key);
    const [chunk, at] = this.locate(this.slots[hole] - 1);
    const size = 5 + chunk[at] + chunk.readUInt16LE(at + 1 + chunk[at]);
    this.garbage += size;
    this.live -= size;
    this.vacate(this.slots[hole] - 1);
    this.moves++;
    for (let j = (hole + 1) & this.mask; this.slots[j] !== 0; j = (j + 1) & this.mask) {
      const home = this.homeOfStored(this.slots[j] - 1);
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
      if (movable) {
        this.slots[hole] = this.slots[j];
        hole = j;
      }
    }
    this.slots[hole] = 0;
    this.used--;
    if (this.used === 0) this.reset();
    else if (compact) this.compactIfWasteful();
    // a struck table an eighth full goes back to what its keys need (a run's index: 8 MiB at 1M users);
    // not on delete: a load presized by `reserve` deletes too (tombstones) and must keep its room
    if (!compact && this.used * 8 < this.slots.length && this.slots.length > this.floor) this.fit();
    return true;
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  /**
   * Unlike a Map's, this iteration cannot go on after a key is removed or the table resized (a
   * removal shifts later entries back, a strike may shrink the table, an insertion may grow it):
   * it would skip keys silently, so it throws. Iterate over a copy (`[...map.keys()]`) to change
   * the map meanwhile. Writing a value of a key held is fine.
   */
  *entries(): IterableIterator<[string, string]> {
    const moves = this.moves;
    for (let slot = 0; slot <= this.mask; slot++) {
      if (this.slots[slot] === 0) continue;
      const [chunk, at] = this.locate(this.slots[slot] - 1);
      const v = at + 1 + chunk[at];
      const value = chunk.toString('latin1', v + 4, v + 4 + chunk.readUInt16LE(v + 2));
      yield [chunk.toString('latin1', at + 1, v), value];
      if (this.moves !== moves)
        throw new Error('ArenaStringMap changed while it was iterated (a key removed or the table resized)');
    }
    yield* this.overflow.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /**
   * Each entry of the arena as its bytes, without a string: `fn(buf, keyAt, keyLength, valueAt,
   * valueLength)`, latin1 (for a checkpoint: pipeline/kafka/index-checkpoint.ts). The entries of
   * the overflow Map are not visited (`overflowEntries`). The map must not change meanwhile.
   */
  forEachRaw(fn: (buf: Buffer, keyAt: number, keyLength: number, valueAt: number, valueLength: number) => void): void {
    const moves = this.moves;
    for (let slot = 0; slot <= this.mask; slot++) {
      const s = this.slots[slot];
      if (s === 0) continue;
      const chunk = this.chunks[(s - 1) >>> ARENA_CHUNK_BITS];
      const at = (s - 1) & ARENA_POS;
      const v = at + 1 + chunk[at];
      fn(chunk, at + 1, chunk[at], v + 4, chunk.readUInt16LE(v + 2));
      if (this.moves !== moves) throw new Error('ArenaStringMap changed while forEachRaw visited it');
    }
  }

  /** Removes every entry; the arena's chunks go back to the pool (a map dropped: its chunks are the next map's). */
  clear(): void {
    this.reset();
    this.overflow.clear();
    this.slots = new Uint32Array(this.floor);
    this.mask = this.floor - 1;
    this.used = 0;
    this.moves++;
  }

  /** The entries held beside the arena (keys or values that do not fit it). */
  overflowEntries(): IterableIterator<[string, string]> {
    return this.overflow.entries();
  }

  /**
   * `set` of a key and a value given as latin1 bytes of `buf` (a checkpoint's entries, read back
   * without a string each: ~1 µs an entry where a string key and value cost their decoding too).
   * A key of 1 to 255 bytes, a value of at most 65,535 (what forEachRaw gives).
   */
  setRaw(buf: Buffer, keyAt: number, keyLength: number, valueAt: number, valueLength: number): void {
    if (keyLength < 1 || keyLength > 255 || valueLength > 0xffff) {
      throw new RangeError(`setRaw: a key of ${keyLength} bytes or a value of ${valueLength} does not fit the arena`);
    }
    const slot = this.overflow.size > 0 ? -2 : this.findRaw(buf, keyAt, keyLength);
    if (slot !== -1) {
      // held already (or an overflow entry may be): the string path keeps every rule of set
      this.set(
        buf.toString('latin1', keyAt, keyAt + keyLength),
        buf.toString('latin1', valueAt, valueAt + valueLength),
      );
      return;
    }
    if ((this.used + 1) / (this.mask + 1) > MAX_LOAD) this.grow();
    let to = this.hashRaw(buf, keyAt, keyLength);
    while (this.slots[to] !== 0) to = (to + 1) & this.mask;
    this.slots[to] = this.appendRaw(buf, keyAt, keyLength, valueAt, valueLength) + 1;
    this.used++;
  }

  private locate(offset: number): [Buffer, number] {
    return [this.chunks[offset >>> ARENA_CHUNK_BITS], offset & ARENA_POS];
  }

  /** Writes an entry at the arena's end; returns its offset. */
  private append(key: string, value: string): number {
    const at = this.room(5 + key.length + value.length);
    const chunk = this.chunks[this.chunks.length - 1];
    chunk[at] = key.length;
    writeLatin1(chunk, key, at + 1);
    const v = at + 1 + key.length;
    chunk[v] = chunk[v + 2] = value.length & 0xff;
    chunk[v + 1] = chunk[v + 3] = value.length >>> 8;
    writeLatin1(chunk, value, v + 4);
    return ((this.chunks.length - 1) << ARENA_CHUNK_BITS) + at;
  }

  /** append, of bytes. */
  private appendRaw(buf: Buffer, keyAt: number, keyLength: number, valueAt: number, valueLength: number): number {
    const at = this.room(5 + keyLength + valueLength);
    const chunk = this.chunks[this.chunks.length - 1];
    chunk[at] = keyLength;
    buf.copy(chunk, at + 1, keyAt, keyAt + keyLength);
    const v = at + 1 + keyLength;
    chunk[v] = chunk[v + 2] = valueLength & 0xff;
    chunk[v + 1] = chunk[v + 3] = valueLength >>> 8;
    buf.copy(chunk, v + 4, valueAt, valueAt + valueLength);
    return ((this.chunks.length - 1) << ARENA_CHUNK_BITS) + at;
  }

  /** Takes `need` bytes at the end of the last chunk (a new chunk when they do not fit): where they start. */
  private room(need: number): number {
    if (this.chunks.length === 0 || this.top + need > ARENA_CHUNK) {
      const last = this.chunks.length - 1;
      this.chunks.push(arenaChunks.take());
      this.chunkLive.push(0);
      this.chunkFill.push(0);
      this.top = 0;
      if (last >= 0 && this.chunkLive[last] === 0) this.release(last); // no longer the one written to
    }
    const last = this.chunks.length - 1;
    const at = this.top;
    this.top += need;
    this.live += need;
    this.chunkLive[last]++;
    this.chunkFill[last] = this.top;
    return at;
  }

  /**
   * An entry at `offset` is gone (deleted, struck or moved): its chunk is given back once none of
   * its entries is live, unless it is the one written to. A run strikes its index in about the
   * order the last run wrote it, so its chunks empty one after the other as it goes.
   */
  private vacate(offset: number): void {
    const c = offset >>> ARENA_CHUNK_BITS;
    if (--this.chunkLive[c] === 0 && c !== this.chunks.length - 1) this.release(c);
  }

  private release(c: number): void {
    arenaChunks.give([this.chunks[c]]);
    this.chunks[c] = RELEASED;
    this.released++;
    this.garbage -= this.chunkFill[c]; // every byte written there was an entry now gone
  }

  private find(key: string): number {
    for (let slot = this.home(key); ; slot = (slot + 1) & this.mask) {
      const s = this.slots[slot];
      if (s === 0) return -1;
      const [chunk, at] = this.locate(s - 1);
      if (chunk[at] !== key.length) continue;
      let i = 0;
      while (i < key.length && chunk[at + 1 + i] === key.charCodeAt(i)) i++;
      if (i === key.length) return slot;
    }
  }

  private findRaw(buf: Buffer, keyAt: number, keyLength: number): number {
    for (let slot = this.hashRaw(buf, keyAt, keyLength); ; slot = (slot + 1) & this.mask) {
      const s = this.slots[slot];
      if (s === 0) return -1;
      const [chunk, at] = this.locate(s - 1);
      if (chunk[at] !== keyLength) continue;
      let i = 0;
      while (i < keyLength && chunk[at + 1 + i] === buf[keyAt + i]) i++;
      if (i === keyLength) return slot;
    }
  }

  private hashRaw(buf: Buffer, keyAt: number, keyLength: number): number {
    let h = FNV_OFFSET;
    for (let i = keyAt, end = keyAt + keyLength; i < end; i++) h = Math.imul(h ^ buf[i], FNV_PRIME);
    return (h >>> 0) & this.mask;
  }

  private home(key: string): number {
    let h = FNV_OFFSET;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), FNV_PRIME);
    return (h >>> 0) & this.mask;
  }

  private homeOfStored(offset: number): number {
    const [chunk, at] = this.locate(offset);
    let h = FNV_OFFSET;
    for (let i = at + 1, end = at + 1 + chunk[at]; i < end; i++) h = Math.imul(h ^ chunk[i], FNV_PRIME);
    return (h >>> 0) & this.mask;
  }

  /** The slots growth reaches for `entries` keys: the fewest, a power of two from the floor, at most MAX_LOAD full. */
  private capacityFor(entries: number): number {
    let capacity = this.floor;
    while (entries / capacity > MAX_LOAD) capacity *= 2;
    return capacity;
  }

  private grow(): void {
    this.rehash(this.slots.length * 2);
  }

  private rehash(capacity: number): void {
    this.moves++;
    const old = this.slots;
    this.slots = new Uint32Array(capacity);
    this.mask = capacity - 1;
    for (const s of old) {
      if (s === 0) continue;
      let to = this.homeOfStored(s - 1);
      while (this.slots[to] !== 0) to = (to + 1) & this.mask;
      this.slots[to] = s;
    }
  }

  /** Empties the arena; its chunks go back to the pool unless a compaction still reads them (`give` false). */
  private reset(give = true): void {
    if (give) arenaChunks.give(this.chunks);
    this.chunks = [];
    this.chunkLive = [];
    this.chunkFill = [];
    this.released = 0;
    this.top = 0;
    this.garbage = 0;
    this.live = 0;
  }

  /** Copies the live entries into a fresh arena once the space left behind outweighs them. */
  private compactIfWasteful(): void {
    if (this.garbage < ARENA_CHUNK || this.garbage < this.live) return;
    const old = this.chunks;
    this.reset(false);
    for (let slot = 0; slot <= this.mask; slot++) {
      const s = this.slots[slot];
      if (s === 0) continue;
      const chunk = old[(s - 1) >>> ARENA_CHUNK_BITS];
      const at = (s - 1) & ARENA_POS;
      const v = at + 1 + chunk[at];
      const key = chunk.toString('latin1', at + 1, v);
      this.slots[slot] = this.append(key, chunk.toString('latin1', v + 4, v + 4 + chunk.readUInt16LE(v + 2))) + 1;
    }
    arenaChunks.give(old); // read to the end: the next chunks (this map's too) are these
  }
}

/**
 * Writes `s` (latin1, checked by the caller) at `at`: a short string a byte at a time, a long one
 * by Buffer#write. Buffer#write's call into C++ costs more than the copy for the ~12-byte keys and
 * ~20-60-byte values an index load writes, one of each an entry (session 12).
 */
function writeLatin1(chunk: Buffer, s: string, at: number): void {
  if (s.length > 64) {
    chunk.write(s, at, 'latin1');
    return;
  }
  for (let i = 0; i < s.length; i++) chunk[at + i] = s.charCodeAt(i);
}

/** Keys may use all of latin1 too (one byte a character): pipeline/login-ids.ts packKey's Ids do. */
export function fitsArenaKey(key: string): boolean {
  return key.length > 0 && fits(key, 255, false, 0xff);
}

/** Values may use all of latin1 (one byte a character): binary forms (pipeline/packed-device.ts) do. */
export function fitsArenaValue(value: string): boolean {
  return fits(value, 0xffff, true, 0xff);
}

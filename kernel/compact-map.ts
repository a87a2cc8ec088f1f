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
function fits(s: string, width: number, emptyAllowed = false): boolean {
  if (s.length > width || (s.length === 0 && !emptyAllowed)) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Deterministic randomness. Rows are generated on demand, in any order, so row fields use a
 * counter-based generator: the value for (seed, table, row, slot) is a hash, independent of
 * which other fields were generated before. Small fixed tables use the sequential mulberry32.
 */

/** murmur3's 32-bit finaliser: a fast, well-mixing bijection on uint32. */
export function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hash of a list of integers into uint32. */
export function hashInts(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) h = fmix32((h ^ (x >>> 0)) + 0x7f4a7c15 + ((x / 0x100000000) >>> 0));
  return h;
}

/** Hash of a string into uint32 (FNV-1a then finalised). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h >>> 0);
}

/** A uniform float in [0, 1) for (rowSeed, slot). */
export function unit(rowSeed: number, slot: number): number {
  return fmix32(rowSeed ^ fmix32(slot + 0x632be5ab)) / 0x100000000;
}

/** mulberry32: a tiny sequential PRNG, returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}

/** Pick an element by a uniform float in [0, 1). */
export function pickBy<T>(u: number, items: readonly T[]): T {
  return items[Math.floor(u * items.length) % items.length];
}

/** Pick by weights ([value, weight] pairs) with a uniform float in [0, 1). */
export function weighted<T>(u: number, table: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, w] of table) total += w;
  let x = u * total;
  for (const [v, w] of table) {
    if (x < w) return v;
    x -= w;
  }
  return table[table.length - 1][0];
}

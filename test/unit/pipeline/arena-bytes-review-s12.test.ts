import { ArenaStringMap } from '../../../kernel/compact-map';
import { LiveIndex, packHash } from '../../../pipeline/kafka/live-index';
import { packHashReference } from '../../support/pack-hash-reference';
import { mulberry32 } from '../../../simulator/prng';

/**
 * Review of s12-index (8384e28): ArenaStringMap writes keys and values of <= 64 characters a byte
 * at a time and a value's two length bytes by hand; `overflow.size > 0` / `foreign.size > 0`
 * guard the deletes. Against a Map: keys moving between the overflow Map (a value not latin1 or
 * over 0xffff characters, a key over 255) and the arena and back, values at the boundaries
 * (0, 63-66, 255-257, 0xfffe-0x10000), latin1 0x80-0xff characters, overwrites in place (shorter)
 * and moved (longer). packHash against the Buffer round trip on every 22-character string built
 * from a pool that includes every byte value 0..255 at every position. ARENA_SEED replays.
 */
const seed = process.env.ARENA_SEED ? Number(process.env.ARENA_SEED) : Math.floor(Math.random() * 2 ** 31);

const LENGTHS = [0, 1, 2, 63, 64, 65, 66, 127, 128, 255, 256, 257, 1000, 0xfffe, 0xffff, 0x10000];

function text(rand: () => number, length: number, mode: number): string {
  // mode 0: ASCII; 1: latin1 0x80-0xff mixed in; 2: one character past latin1 (overflow)
  const chars: string[] = [];
  for (let i = 0; i < length; i++) {
    const r = rand();
    chars.push(
      String.fromCharCode(mode >= 1 && r < 0.3 ? 0x80 + Math.floor(rand() * 0x80) : Math.floor(rand() * 0x80)),
    );
  }
  if (mode === 2 && length > 0) chars[Math.floor(rand() * length)] = '\u0100';
  return chars.join('');
}

describe('ArenaStringMap bytes written by hand (s12-index)', () => {
  it('equals a Map through boundary lengths, latin1 bytes and overflow round trips', () => {
    console.log(`arena-bytes-review-s12: seed ${seed} (replay with ARENA_SEED=${seed})`);
    const rand = mulberry32(seed);
    const keys: string[] = [];
    for (let i = 0; i < 300; i++) {
      const len = [1, 2, 15, 18, 63, 64, 65, 66, 254, 255, 256][Math.floor(rand() * 11)];
      keys.push(text(rand, len, rand() < 0.3 ? 1 : rand() < 0.05 ? 2 : 0));
    }
    const map = new ArenaStringMap(16);
    const model = new Map<string, string>();
    for (let op = 0; op < 3_000; op++) {
      const key = keys[Math.floor(rand() * keys.length)];
      const r = rand();
      if (r < 0.6) {
        const length = rand() < 0.7 ? LENGTHS[Math.floor(rand() * 9)] : LENGTHS[Math.floor(rand() * LENGTHS.length)];
        const mode = rand() < 0.5 ? 0 : rand() < 0.8 ? 1 : 2;
        const value = text(rand, length, mode);
        map.set(key, value);
        model.set(key, value);
      } else if (r < 0.8) {
        const [a, b] = [map.delete(key), model.delete(key)];
        if (a !== b) expect({ seed, op, deleted: a }).toEqual({ seed, op, deleted: b });
      } else {
        const [a, b] = [map.get(key), model.get(key)];
        if (a !== b)
          expect({ seed, op, keyLength: key.length, got: a?.length }).toEqual({
            seed,
            op,
            keyLength: key.length,
            got: b?.length,
          });
      }
      if (map.size !== model.size) expect({ seed, op, size: map.size }).toEqual({ seed, op, size: model.size });
    }
    for (const [k, v] of model) if (map.get(k) !== v) expect({ seed, k }).toEqual({ seed, k, same: true });
    expect(new Map(map).size).toBe(model.size);
  });

  it('every byte 0..255 as a key and value character at every position up to 66 comes back', () => {
    const map = new ArenaStringMap(16);
    for (let len = 1; len <= 66; len++) {
      for (let c = 0; c < 256; c += 3) {
        const key = `${String.fromCharCode(c)}k${len}`.padEnd(Math.min(len, 255), String.fromCharCode(255 - c));
        const value = String.fromCharCode(c).repeat(len) + String.fromCharCode(0xff - c);
        map.set(key, value);
        expect(map.get(key)).toBe(value);
      }
    }
  });
});

describe('LiveIndex foreign guard (s12-index)', () => {
  it('a key moving between this org, another org and a tombstone reads as a Map model', () => {
    const rand = mulberry32(seed ^ 0x5eed);
    const live = new LiveIndex();
    const model = new Map<string, { org?: string; hash?: string }>();
    const keys = Array.from({ length: 200 }, (_, i) => `005${String(i).padStart(15, '0')}`);
    for (let op = 0; op < 20_000; op++) {
      const key = keys[Math.floor(rand() * keys.length)];
      const r = rand();
      if (r < 0.4) {
        const hash = text(rand, 22, 0).replace(/[^A-Za-z0-9]/g, 'x');
        live.put(key, { hash });
        model.set(key, { hash });
      } else if (r < 0.6) {
        live.put(key, null, '00D000000000002AAA');
        model.set(key, { org: '00D000000000002AAA' });
      } else {
        live.put(key, null);
        model.delete(key);
      }
    }
    for (const k of keys) {
      const m = model.get(k);
      expect({ k, hash: live.get(k)?.hash, org: live.foreignOrg(k) }).toEqual({ k, hash: m?.hash, org: m?.org });
    }
  });
});

describe('packHash (s12-index)', () => {
  it('equals the Buffer round trip with any byte 0..255 (and some beyond) at any of the 22 positions', () => {
    const rand = mulberry32(seed ^ 0x9a5);
    const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let at = 0; at < 22; at++) {
      for (let c = 0; c < 0x180; c++) {
        let hash = '';
        for (let i = 0; i < 22; i++) hash += URL_SAFE[Math.floor(rand() * 64)];
        hash = hash.slice(0, at) + String.fromCharCode(c) + hash.slice(at + 1);
        const [got, want] = [packHash(hash), packHashReference(hash)];
        if (got !== want) expect({ seed, at, c, hash, got }).toEqual({ seed, at, c, hash, got: want });
      }
      // padding forms and the `_2`-style prefixes
      for (const h of [
        '='.repeat(22),
        `${'A'.repeat(20)}==`,
        `_2${'A'.repeat(20)}`,
        `2_${'z'.repeat(20)}`,
        `${'_'.repeat(22)}`,
      ]) {
        expect(packHash(h)).toBe(packHashReference(h));
      }
    }
  });
});

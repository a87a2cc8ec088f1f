import { ArenaStringMap, CompactStringMap } from '../../../kernel/compact-map';
import { mulberry32 } from '../../../simulator/prng';

describe('CompactStringMap', () => {
  it('behaves like a Map<string, string> under random sets, overwrites and deletes, through growth', () => {
    const rand = mulberry32(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const ids = Array.from({ length: 5000 }, (_, i) => `005Hn${String(i).padStart(10, '0')}AAA`);
    // some keys and values that cannot live in a slot: too long, not ASCII, empty key
    const odd = ['', 'ü-user', 'x'.repeat(19), '005Hn0000000001AAA\u00e9'];
    const values = ['', 'h', 'abcdefghijklmnopqrstuv', 'abcdefghijklmnopqrstuvw', 'hash-ä'];
    const map = new CompactStringMap(18, 22, 16);
    const model = new Map<string, string>();
    for (let op = 0; op < 60_000; op++) {
      const key = rand() < 0.02 ? pick(odd) : pick(ids);
      const r = rand();
      if (r < 0.55) {
        const value = rand() < 0.9 ? Math.floor(rand() * 1e12).toString(36) : pick(values);
        map.set(key, value);
        model.set(key, value);
      } else if (r < 0.85) {
        expect(map.delete(key)).toBe(model.delete(key));
      } else {
        expect(map.get(key)).toBe(model.get(key));
        expect(map.has(key)).toBe(model.has(key));
      }
      if (op % 5000 === 0) expect(map.size).toBe(model.size);
    }
    expect(map.size).toBe(model.size);
    expect(new Map(map)).toEqual(model);
    expect([...map.keys()].sort()).toEqual([...model.keys()].sort());
  });

  it('keeps deleted keys out of probe runs (backward shift): every survivor is still found', () => {
    const map = new CompactStringMap(18, 4, 16);
    const keys = Array.from({ length: 11 }, (_, i) => `k${i}`); // 11 of 16 slots: long probe runs
    keys.forEach((k, i) => map.set(k, String(i)));
    for (const k of keys.filter((_, i) => i % 3 === 0)) expect(map.delete(k)).toBe(true);
    keys.forEach((k, i) => expect(map.get(k)).toBe(i % 3 === 0 ? undefined : String(i)));
    expect(map.delete('k0')).toBe(false);
  });

  it('grows and stays compact: 200,000 Salesforce Ids, 22-character hashes, 42-byte slots, load at least 0.35', () => {
    const map = new CompactStringMap();
    for (let i = 0; i < 200_000; i++)
      map.set(`005Hn${String(i).padStart(10, '0')}AAA`, `h${String(i).padStart(21, '0')}`);
    expect(map.size).toBe(200_000);
    expect(map.get('005Hn0000123456AAA')).toBe('h000000000000000123456');
    expect(map.byteLength).toBeLessThanOrEqual((200_000 * 42) / 0.35);
  });

  it('refuses widths a slot cannot hold', () => {
    expect(() => new CompactStringMap(0, 22)).toThrow(RangeError);
    expect(() => new CompactStringMap(18, 255)).toThrow(RangeError);
  });
});

describe('ArenaStringMap', () => {
  it('behaves like a Map<string, string> through random sets, overwrites, deletes, growth and compaction', () => {
    const seed = process.env.ARENA_SEED ? Number(process.env.ARENA_SEED) : Math.floor(Math.random() * 2 ** 31);
    console.log(`arena-map: seed ${seed} (replay with ARENA_SEED=${seed})`);
    const rand = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const ids = Array.from({ length: 3000 }, (_, i) => `005Hn${String(i).padStart(10, '0')}AAA`);
    // keys and values that cannot live in the arena: too long, not ASCII, empty key
    const odd = ['', 'ü-user', 'x'.repeat(300), '005Hn0000000001AAA\u00e9'];
    const oddValues = ['', 'hash-ä', 'v'.repeat(70_000)];
    const map = new ArenaStringMap(16);
    const model = new Map<string, string>();
    for (let op = 0; op < 60_000; op++) {
      const key = rand() < 0.02 ? pick(odd) : pick(ids);
      const r = rand();
      if (r < 0.55) {
        // values of varying length: replaced in place when they fit, moved when they grow
        const value = rand() < 0.98 ? 'd'.repeat(Math.floor(rand() * 120)) + op : pick(oddValues);
        map.set(key, value);
        model.set(key, value);
      } else if (r < 0.85) {
        expect(map.delete(key)).toBe(model.delete(key));
      } else {
        expect(map.get(key)).toBe(model.get(key));
        expect(map.has(key)).toBe(model.has(key));
      }
      if (op % 5000 === 0) expect(map.size).toBe(model.size);
    }
    expect(map.size).toBe(model.size);
    expect(new Map(map)).toEqual(model);
    expect([...map.keys()].sort()).toEqual([...model.keys()].sort());
  });

  it('holds 200,000 Ids with 90-character values in under 140 bytes each (compact values, 4-byte slots)', () => {
    const map = new ArenaStringMap();
    for (let i = 0; i < 200_000; i++)
      map.set(`005Hn${String(i).padStart(10, '0')}AAA`, `v${String(i).padStart(89, '0')}`);
    // a later value of the same length or shorter is written in place: no growth
    for (let i = 0; i < 200_000; i += 2)
      map.set(`005Hn${String(i).padStart(10, '0')}AAA`, `w${String(i).padStart(80, '1')}`);
    expect(map.size).toBe(200_000);
    expect(map.get('005Hn0000123456AAA')).toBe(`w${String(123456).padStart(80, '1')}`);
    expect(map.get('005Hn0000123457AAA')).toBe(`v${String(123457).padStart(89, '0')}`);
    expect(map.byteLength / 200_000).toBeLessThan(140);
  });
});

describe('ArenaStringMap.reserve and fit (presized from a count of records, issue 15)', () => {
  it('holds every key exactly as a Map, with room reserved for more, fewer or as many keys as come', () => {
    const seed = process.env.RESERVE_SEED ? Number(process.env.RESERVE_SEED) : Math.floor(Math.random() * 2 ** 31);
    console.log(`arena-map reserve: seed ${seed} (replay with RESERVE_SEED=${seed})`);
    const rand = mulberry32(seed);
    for (let round = 0; round < 6; round++) {
      const distinct = 1 + Math.floor(rand() * 20_000);
      // a record count is an upper bound of the keys (superseded records, tombstones); or a wrong one
      const hint = Math.floor(distinct * [0, 0.5, 1, 1, 3, 10][round]);
      const ids = Array.from({ length: distinct }, (_, i) => `005Hn${String(i * 7).padStart(10, '0')}AAA`);
      const map = new ArenaStringMap();
      const model = new Map<string, string>();
      map.reserve(hint);
      const reserved = map.slotCount;
      let grew = false;
      for (let op = 0; op < distinct * 3; op++) {
        const key = ids[Math.floor(rand() * ids.length)];
        if (rand() < 0.8) {
          const value = 'v'.repeat(Math.floor(rand() * 40)) + op;
          map.set(key, value);
          model.set(key, value);
        } else expect(map.delete(key)).toBe(model.delete(key));
        grew ||= map.slotCount !== reserved;
      }
      const context = `seed ${seed}, round ${round}: ${distinct} keys, reserved for ${hint}`;
      // room for every key that came: the table never grew (the grow's rehash and its old + new copy)
      if (hint >= distinct) expect({ context, grew }).toEqual({ context, grew: false });
      map.fit();
      // fitted: the table growth alone would have reached for the keys it holds, neither larger nor smaller
      const grown = new ArenaStringMap();
      for (const k of model.keys()) grown.set(k, '');
      expect({ context, slots: map.slotCount }).toEqual({ context, slots: grown.slotCount });
      expect(map.size).toBe(model.size);
      expect(new Map(map)).toEqual(model);
      for (const k of ids) expect(map.get(k)).toBe(model.get(k));
    }
  });
});

describe('ArenaStringMap.strike (a run striking its loaded index key by key, issue 15)', () => {
  it('holds every survivor exactly as a Map and copies nothing: the arena only gives back whole chunks emptied', () => {
    const seed = process.env.STRIKE_SEED ? Number(process.env.STRIKE_SEED) : Math.floor(Math.random() * 2 ** 31);
    console.log(`arena-map strike: seed ${seed} (replay with STRIKE_SEED=${seed})`);
    const rand = mulberry32(seed);
    for (let round = 0; round < 4; round++) {
      const distinct = 1 + Math.floor(rand() * 30_000);
      const ids = Array.from({ length: distinct }, (_, i) => `005Hn${String(i * 13).padStart(10, '0')}AAA`);
      const map = new ArenaStringMap();
      const model = new Map<string, string>();
      for (const id of ids) {
        const value = 'd'.repeat(Math.floor(rand() * 90)) + id; // a packed device's length, at most
        map.set(id, value);
        model.set(id, value);
      }
      // keys the arena cannot hold (the Map beside it) are struck the same way
      for (const odd of ['ü-user', 'x'.repeat(300)]) {
        map.set(odd, 'v');
        model.set(odd, 'v');
      }
      const arena = () => map.byteLength - map.slotCount * 4;
      const loaded = arena();
      const context = `seed ${seed}, round ${round}: ${distinct} keys`;
      // strike all, most, or a few keys, in random order, with keys that were never there
      const share = [1, 0.97, 0.6, 0.1][round];
      const order = [...model.keys(), 'ü-never', '005Hn9999999999AAA'].sort(() => rand() - 0.5);
      for (const key of order) {
        if (model.has(key) && rand() > share) continue;
        expect(map.strike(key)).toBe(model.delete(key));
        // nothing copied, nothing grows: a chunk leaves only whole, once none of its entries is live (s8)
        const given = loaded - arena();
        if (model.size > 0)
          expect({ context, given: given % 2 ** 20, grew: given < 0 }).toEqual({ context, given: 0, grew: false });
        if (rand() < 0.01) {
          const probe = ids[Math.floor(rand() * ids.length)];
          expect(map.get(probe)).toBe(model.get(probe));
        }
      }
      expect(map.size).toBe(model.size);
      expect(new Map(map)).toEqual(model);
      for (const k of ids) expect(map.has(k)).toBe(model.has(k));
    }
  });
});

import { CompactStringMap } from '../../../kernel/compact-map';
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

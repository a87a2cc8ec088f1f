import { ArenaStringMap, arenaChunks } from '../../../kernel/compact-map';
import { EntryLog } from '../../../pipeline/kafka/entry-log';
import { LiveIndex } from '../../../pipeline/kafka/live-index';
import { DeviceCompactor } from '../../../pipeline/packed-device';
import { checksum, packKey, unpackKey } from '../../../pipeline/login-ids';
import { mulberry32 } from '../../../simulator/prng';

/**
 * Adversarial review of session 8's memory work (s8-mem): packed user keys, chunks shared through
 * the pool by maps and entry logs, strike's table shrink. Seeded: MEM_REVIEW_SEED=n replays.
 */
const SEED = Number(process.env.MEM_REVIEW_SEED ?? Math.floor(Math.random() * 2 ** 31));
const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function keyGen(rnd: () => number): () => string {
  const pick = (s: string) => s[Math.floor(rnd() * s.length)];
  const b62 = (n: number) => Array.from({ length: n }, () => pick(B62)).join('');
  const anyChar = () => {
    const r = rnd();
    if (r < 0.3) return String.fromCharCode(0x7f + Math.floor(rnd() * 0x81)); // 0x7f..0xff
    if (r < 0.4) return String.fromCharCode(0xd800 + Math.floor(rnd() * 0x800)); // lone surrogate
    if (r < 0.5) return String.fromCharCode(0x100 + Math.floor(rnd() * 0x1000));
    return pick(B62);
  };
  const anyStr = (n: number) => Array.from({ length: n }, anyChar).join('');
  return () => {
    const r = rnd();
    if (r < 0.2) return b62(15);
    if (r < 0.4) {
      const id = b62(15);
      return id + checksum(id);
    }
    if (r < 0.5) return b62(18); // a wrong checksum, mostly
    if (r < 0.6) return unpackKey(String.fromCharCode(0x80 + Math.floor(rnd() * 0x80)) + anyStr(11));
    if (r < 0.7) return String.fromCharCode(0x80 + Math.floor(rnd() * 0x80)) + anyStr(10 + Math.floor(rnd() * 4));
    if (r < 0.8) return '\u007f'.repeat(1 + Math.floor(rnd() * 3)) + anyStr(Math.floor(rnd() * 14));
    if (r < 0.85) return '';
    return anyStr(Math.floor(rnd() * 20));
  };
}

describe(`s8-mem review (MEM_REVIEW_SEED=${SEED})`, () => {
  it('packKey is injective and unpackKey gives every key back, through a LiveIndex too', () => {
    const next = keyGen(mulberry32(SEED));
    const held = new Map<string, string>();
    const index = new LiveIndex();
    const oracle = new Map<string, string>();
    for (let i = 0; i < 40_000; i++) {
      const k = next();
      const p = packKey(k);
      expect({ k, back: unpackKey(p) }).toEqual({ k, back: k });
      const other = held.get(p);
      if (other !== undefined) expect({ p, k }).toEqual({ p, k: other });
      held.set(p, k);
      const hash = `h${i}`;
      index.put(k, { hash });
      oracle.set(k, hash);
      if (i % 7 === 0) {
        index.take(k);
        oracle.delete(k);
      }
    }
    const keys = [...index.keys()].sort();
    expect(keys).toEqual([...oracle.keys()].sort());
    for (const [k, h] of oracle) expect({ k, hash: index.get(k)?.hash }).toEqual({ k, hash: h });
  });

  it('a login device with any 18-character Id in it expands to exactly what was compacted', () => {
    const rnd = mulberry32(SEED ^ 0x1b873593);
    const next = keyGen(rnd);
    const compactor = new DeviceCompactor();
    let tried = 0;
    while (tried < 20_000) {
      const id = next();
      if (id.length !== 18) continue;
      tried++;
      const time = String(Math.floor(rnd() * 1e14)).padStart(15, '0');
      const fingerprint = `fp${Math.floor(rnd() * 90 + 10)}`;
      const device = `${time}${id}\u0000${fingerprint}["Chrome ${tried % 7}","10.1.${tried % 250}.7",null]`;
      const c = compactor.compact(device);
      expect({ id, back: compactor.expand(c) }).toEqual({ id, back: device });
      expect(compactor.timeOf(c)).toBe(Number(time));
    }
  });

  it('two maps and an entry log sharing the pool hold exactly what Maps and an array hold', () => {
    const rnd = mulberry32(SEED ^ 0x2545f491);
    const maps = [new ArenaStringMap(), new ArenaStringMap()];
    // coverage of the run: compactions (reset(false)) and chunks released while the map lives
    const proto = ArenaStringMap.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const resets = jest.spyOn(proto, 'reset');
    const releases = jest.spyOn(proto, 'release');
    const oracles = [new Map<string, string>(), new Map<string, string>()];
    let log = new EntryLog();
    let logged: [string, string | null][] = [];
    const value = (n: number) => String.fromCharCode(0x41 + Math.floor(rnd() * 0xbe)).repeat(n);
    const check = () => {
      for (let m = 0; m < 2; m++) {
        expect(maps[m].size).toBe(oracles[m].size);
        for (const [k, v] of oracles[m]) if (maps[m].get(k) !== v) expect({ m, k, got: maps[m].get(k) }).toBe(v);
        const seen = new Map(maps[m].entries());
        expect(seen.size).toBe(oracles[m].size);
      }
      const got = [...log.entries()].map((e) => [e.key.toString('utf8'), e.value?.toString('utf8') ?? null]);
      expect(got.length).toBe(logged.length);
      got.forEach(([k, v], i) => {
        if (k !== logged[i][0] || v !== logged[i][1])
          expect({ i, k, len: v?.length }).toEqual({ i, k: logged[i][0], len: logged[i][1]?.length });
      });
    };
    // The paths the last assertions name are reached by chance: release only in the routine runs
    // (every 1,500 steps), and compaction often frees a chunk first. Over 300 seeds, 9 had not
    // released a chunk by step 12,000 (MEM_REVIEW_SEED=1867613039 failed CI so); the latest first
    // reached all three at step 22,499. So the walk goes on, up to 60,000 steps, until it has.
    const reusedBefore = arenaChunks.reused;
    const covered = () =>
      arenaChunks.reused > reusedBefore &&
      resets.mock.calls.some((c) => c[0] === false) &&
      releases.mock.calls.length > 0;
    let steps = 0;
    for (let step = 0; step < 12_000 || (step < 60_000 && !covered()); step++, steps++) {
      const m = Math.floor(rnd() * 2);
      const map = maps[m];
      const oracle = oracles[m];
      const kn = Math.floor(rnd() * 400);
      // some keys 255 latin1 characters (the longest kept in the arena), some a packed Id's bytes
      const k = kn % 5 === 0 ? String.fromCharCode(0x80 + (kn % 0x7f)).repeat(200 + (kn % 56)) : `k${kn}`;
      const r = rnd();
      // big values: chunks fill, empty and compact within a few hundred steps
      const len = rnd() < 0.3 ? 65_535 - Math.floor(rnd() * 8000) : Math.floor(rnd() * 300);
      if (r < 0.45) {
        const v = value(len);
        map.set(k, v);
        oracle.set(k, v);
      } else if (r < 0.6) {
        expect(map.delete(k)).toBe(oracle.delete(k));
      } else if (r < 0.75) {
        expect(map.strike(k)).toBe(oracle.delete(k));
      } else if (r < 0.78) {
        map.reserve(Math.floor(rnd() * 5000));
      } else if (r < 0.8) {
        map.fit();
      } else if (r < 0.95) {
        const v = rnd() < 0.1 ? null : value(len);
        log.append(k, v);
        logged.push([k, v]);
      } else if (r < 0.97) {
        log.release();
        logged = [];
      } else {
        log = log.drain();
      }
      if (step % 1500 === 1499) {
        // a routine run: most of one map's keys struck (or deleted) in the order they were written
        const how = rnd() < 0.5 ? 'strike' : 'delete';
        for (const key of [...oracle.keys()]) {
          if (rnd() < 0.1) continue;
          expect(map[how](key)).toBe(true);
          oracle.delete(key);
        }
      }
      if (step % 50 === 0) check();
    }
    check();
    if (steps > 12_000) console.log(`mem-review: the pool's paths were all reached after ${steps} steps`);
    expect(arenaChunks.reused).toBeGreaterThan(reusedBefore);
    expect(resets.mock.calls.filter((c) => c[0] === false).length).toBeGreaterThan(0);
    expect(releases.mock.calls.length).toBeGreaterThan(0);
    resets.mockRestore();
    releases.mockRestore();
  });

  it.each(['strike', 'delete'] as const)(
    '%s of each key as iteration reaches it: the iteration throws rather than skip keys; a copy of the keys works',
    (how) => {
      const rnd = mulberry32(SEED ^ 0x68e31da4);
      const map = new ArenaStringMap();
      const oracle = new Map<string, string>();
      for (let i = 0; i < 5000; i++) {
        const k = `u${Math.floor(rnd() * 1e9)}`;
        map.set(k, 'v');
        oracle.set(k, 'v');
      }
      expect(() => {
        for (const [k] of map) map[how](k);
      }).toThrow(/changed while it was iterated/);
      // the key removed before the throw, then, as sync.ts and run-stream.ts do, the others from a copy
      expect(map.size).toBe(oracle.size - 1);
      const visited = [...map.keys()];
      for (const k of visited) map[how](k);
      expect(map.size).toBe(0);
      expect({ count: visited.length, distinct: new Set(visited).size }).toEqual({
        count: oracle.size - 1,
        distinct: oracle.size - 1,
      });
      expect(visited.every((k) => oracle.has(k))).toBe(true);
    },
  );

  it.each(['strike', 'delete'] as const)(
    '%s of most other keys during iteration throws rather than skip remaining keys (strike shrinks the table)',
    (how) => {
      const rnd = mulberry32(SEED ^ 0x27d4eb2f);
      const map = new ArenaStringMap();
      const keys: string[] = [];
      for (let i = 0; i < 20_000; i++) {
        const k = `v${i}_${Math.floor(rnd() * 1e9)}`;
        map.set(k, 'x');
        keys.push(k);
      }
      const visited: string[] = [];
      const gone = new Set<string>();
      expect(() => {
        for (const [k] of map) {
          visited.push(k);
          if (visited.length === 1000) {
            // a twentieth in, 95 % of the keys not yet seen are struck, as a Map allows while iterating
            const seenSoFar = new Set(visited);
            for (const other of keys) if (!seenSoFar.has(other) && rnd() < 0.95 && map[how](other)) gone.add(other);
          }
        }
      }).toThrow(/changed while it was iterated/);
      // what is left is exactly the keys not struck
      const remaining = keys.filter((k) => !gone.has(k)).sort();
      expect({ how, left: [...map.keys()].sort() }).toEqual({ how, left: remaining });
    },
  );
});

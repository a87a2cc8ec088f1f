import { ArenaStringMap, arenaChunks } from '../../../kernel/compact-map';
import { mulberry32 } from '../../../simulator/prng';

const CHUNK = 1 << 20;
const id = (i: number) => `005Hn${String(i).padStart(10, '0')}AAA`;

describe('ArenaStringMap gives back emptied chunks (issue 15: the next index fills what the last freed)', () => {
  it('a chunk whose every entry is struck leaves the map, and the next map is built in it', () => {
    const map = new ArenaStringMap();
    const n = 60_000; // ~100 bytes an entry: ~6 chunks
    for (let i = 0; i < n; i++) map.set(id(i), 'd'.repeat(80) + String(i));
    const slots = map.slotCount * 4;
    const loaded = map.byteLength;
    // a routine run strikes its index in about the order the last run wrote it (Id order)
    for (let i = 0; i < (n * 2) / 3; i++) expect(map.strike(id(i))).toBe(true);
    const chunksLeft = (map.byteLength - slots) / CHUNK;
    const chunksLoaded = (loaded - slots) / CHUNK;
    // the last third's chunks stay (one may be shared with the struck part), the rest are given back
    expect(chunksLeft).toBeGreaterThanOrEqual(Math.ceil(chunksLoaded / 3));
    expect(chunksLeft).toBeLessThanOrEqual(Math.ceil(chunksLoaded / 3) + 1);
    for (let i = 0; i < n; i++) expect(map.get(id(i))).toBe(i < (n * 2) / 3 ? undefined : 'd'.repeat(80) + String(i));

    const before = arenaChunks.reused;
    const next = new ArenaStringMap();
    for (let i = 0; i < 20_000; i++) next.set(`0PS${String(i).padStart(15, '0')}`, 'h'.repeat(40));
    expect(arenaChunks.reused - before).toBeGreaterThan(0);
    for (let i = 0; i < 20_000; i++) expect(next.get(`0PS${String(i).padStart(15, '0')}`)).toBe('h'.repeat(40));
    for (let i = (n * 2) / 3; i < n; i++) expect(map.get(id(i))).toBe('d'.repeat(80) + String(i));

    // the slot table too: once fewer than an eighth of its slots are used, it shrinks to what the keys need
    const table = map.slotCount;
    for (let i = (n * 2) / 3; i < n - 1000; i++) expect(map.strike(id(i))).toBe(true);
    expect({ before: table, after: map.slotCount }).toEqual({ before: table, after: 2048 });
    for (let i = 0; i < n; i++) expect(map.get(id(i))).toBe(i < n - 1000 ? undefined : 'd'.repeat(80) + String(i));
    expect(map.strike(id(n - 1))).toBe(true);
    expect(map.size).toBe(999);
  });

  it('maps sharing the pool hold exactly what a Map holds through sets, moves, deletes, strikes and compaction', () => {
    const seed = process.env.RELEASE_SEED ? Number(process.env.RELEASE_SEED) : Math.floor(Math.random() * 2 ** 31);
    console.log(`arena-release: seed ${seed} (replay with RELEASE_SEED=${seed})`);
    const rand = mulberry32(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    for (let round = 0; round < 3; round++) {
      const maps = Array.from({ length: 3 }, () => ({ map: new ArenaStringMap(), model: new Map<string, string>() }));
      const universe = 5_000 + Math.floor(rand() * 40_000);
      const context = `seed ${seed}, round ${round}`;
      for (let op = 0; op < 60_000; op++) {
        const { map, model } = pick(maps);
        const r = rand();
        // runs of keys in order (as a load and a strike go) and random ones, so chunks empty and refill
        const i = rand() < 0.5 ? op % universe : Math.floor(rand() * universe);
        const key = rand() < 0.002 ? `ü-${i}` : id(i);
        if (r < 0.55) {
          const value = 'v'.repeat(Math.floor(rand() * (rand() < 0.05 ? 400 : 90))) + String(op);
          map.set(key, value);
          model.set(key, value);
        } else if (r < 0.8) {
          const [got, want] = [map.strike(key), model.delete(key)];
          if (got !== want) expect({ context, op, key, struck: got }).toEqual({ context, op, key, struck: want });
        } else if (r < 0.95) {
          const [got, want] = [map.delete(key), model.delete(key)];
          if (got !== want) expect({ context, op, key, deleted: got }).toEqual({ context, op, key, deleted: want });
        } else {
          const [got, want] = [map.get(key), model.get(key)];
          if (got !== want) expect({ context, op, key, got }).toEqual({ context, op, key, got: want });
        }
      }
      // and most keys struck: the tables shrink under the survivors
      for (const { map, model } of maps) {
        for (const key of [...model.keys()]) {
          if (rand() < 0.05) continue;
          expect(map.strike(key)).toBe(model.delete(key)); // a run's index (delete keeps a reserved table)
        }
        expect(map.slotCount).toBeLessThanOrEqual(Math.max(1024, 8 * model.size));
      }
      for (const { map, model } of maps) {
        expect(map.size).toBe(model.size);
        expect(new Map(map)).toEqual(model);
      }
    }
  });
});

import { EntryLog } from '../../../pipeline/kafka/entry-log';

/** The pending index entries, off the heap: what comes out is what went in, in order, whatever the sizes. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const text = (r: () => number, n: number) =>
  Array.from({ length: n }, () =>
    String.fromCharCode(r() < 0.05 ? 0x100 + Math.floor(r() * 0x2000) : 32 + Math.floor(r() * 95)),
  ).join('');

it('gives back every entry in the order kept, across chunk boundaries, drained or not', () => {
  const seed = process.env.ENTRY_LOG_SEED ? Number(process.env.ENTRY_LOG_SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`entry-log: seed ${seed} (replay with ENTRY_LOG_SEED=${seed})`);
  const r = rng(seed);
  const log = new EntryLog();
  const want: [string, string | null][] = [];
  const n = 2000 + Math.floor(r() * 3000);
  for (let i = 0; i < n; i++) {
    const key = text(r, 1 + Math.floor(r() * 40));
    // now and then a value bigger than a chunk, or close to its size, to cross the boundaries
    const big = r() < 0.002 ? (1 << 20) + Math.floor(r() * 5000) : r() < 0.01 ? Math.floor(r() * 300_000) : 0;
    const value = r() < 0.1 ? null : text(r, big || Math.floor(r() * 200));
    if (r() < 0.5) log.append(key, value);
    else log.append(Buffer.from(key), value === null ? null : Buffer.from(value));
    want.push([key, value]);
  }
  expect(log.size).toBe(n);
  const got = (l: EntryLog) => [...l.entries()].map((e) => [e.key.toString(), e.value?.toString() ?? null]);
  expect(got(log)).toEqual(want);
  const drained = log.drain();
  expect(log.size).toBe(0);
  expect([...log.entries()]).toEqual([]);
  expect(got(drained)).toEqual(want);
  log.append('k', 'v');
  expect(got(log)).toEqual([['k', 'v']]);
});

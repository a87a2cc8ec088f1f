import { toExtraction } from '../../../connectors/salesforce/row-stream';
import type { Row } from '../../../connectors/salesforce/csv-page';
import { mulberry32 } from '../../../simulator/prng';

/**
 * Review of s10-routine (Extraction.batches): "Read either `rows` or this, never both"
 * (row-stream.ts:19). batches() enforces it with `pulling` (row-stream.ts:49), but pull() clears
 * `pulling` in its finally (row-stream.ts:113) each time the stream's buffer is full, so once
 * `rows` has started (its buffer holding rows nobody read yet) batches() is let in: the rows
 * buffered in `rows` are never seen by the batch reader, and `done` still resolves (complete and
 * verified), which for an Id snapshot means those users are removed. Randomized: batch sizes and
 * how far `rows` was read (BATCHES_GUARD_SEED replays).
 */
describe('s10-routine review: the object-mode stream and the batch mode never both consume', () => {
  it('batches() after rows started is refused, or the batch reader sees every row', async () => {
    const seed = process.env.BATCHES_GUARD_SEED
      ? Number(process.env.BATCHES_GUARD_SEED)
      : Math.floor(Math.random() * 2 ** 31);
    console.log(`batches-guard-review: seed ${seed} (replay with BATCHES_GUARD_SEED=${seed})`);
    const random = mulberry32(seed);
    const int = (k: number) => Math.floor(random() * k);
    const problems: string[] = [];
    for (let round = 0; round < 20; round++) {
      let n = 0;
      const batches: Row[][] = Array.from({ length: 2 + int(6) }, () =>
        Array.from({ length: 1 + int(150) }, () => ({ Id: `id${n++}` })),
      );
      const gen = (async function* () {
        for (const b of batches) yield b;
        return { rowsRead: n };
      })();
      const ex = toExtraction(gen, new AbortController());
      // `rows` started: its buffer filled (the stream's read-ahead), a few rows read from it
      const taken = int(5);
      await new Promise<void>((resolve) => ex.rows.once('readable', resolve));
      await new Promise((r) => setImmediate(r));
      for (let i = 0; i < taken; i++) ex.rows.read();
      const seen: string[] = [];
      let refused = false;
      try {
        for await (const b of ex.batches()) for (const r of b) seen.push(r.Id);
      } catch {
        refused = true;
      }
      if (refused) continue;
      const complete = await ex.done.then(
        () => true,
        () => false,
      );
      if (complete && seen.length + taken < n)
        problems.push(
          `seed ${seed} round ${round}: batches() let in after rows started; done resolved, the batch reader saw ` +
            `${seen.length} of ${n} rows (${taken} read from rows, ${n - taken - seen.length} left in its buffer)`,
        );
    }
    expect(problems).toEqual([]);
  });
  it('rows after batches() started fails both with EXTRACTION_READ_TWICE instead of hanging', async () => {
    let n = 0;
    const gen = (async function* () {
      for (let b = 0; b < 5; b++) yield Array.from({ length: 10 }, () => ({ Id: `id${n++}` }));
      return { rowsRead: n };
    })();
    const ex = toExtraction(gen, new AbortController());
    const it = ex.batches()[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    const streamError = new Promise<unknown>((resolve) => ex.rows.once('error', resolve));
    ex.rows.resume(); // a second reader
    await expect(ex.done).rejects.toMatchObject({ code: 'EXTRACTION_READ_TWICE' });
    // the batch reader ends without claiming anything: only `done` would say complete
    expect((await it.next()).done).toBe(true);
    // the second reader is told too, on the stream
    await expect(streamError).resolves.toMatchObject({ code: 'EXTRACTION_READ_TWICE' });
  });
});

import { toExtraction } from '../../../connectors/salesforce/row-stream';
import type { Row } from '../../../connectors/salesforce/csv-page';
import { FatalError } from '../../../kernel/errors';
import { mulberry32 } from '../../../simulator/prng';
import { consume } from '../../../pipeline/drain';

/**
 * consume() reads the Id snapshots, whose rows decide what a run removes: it may resolve only when
 * the extraction is complete and verified, after every row went through onRow in order; a failed,
 * cancelled or stopped extraction rejects (with the extraction's own error, or the stop's), and the
 * extraction's jobs are cleaned up (its generator's finally runs). Randomized: batch sizes, waits
 * between batches, where it fails or is stopped (CONSUME_SEED replays).
 */
type Outcome =
  { kind: 'complete' } | { kind: 'fail'; atBatch: number } | { kind: 'stop'; atRow: number; inRow: boolean };

describe('consume (the Id snapshots reader)', () => {
  it('resolves only with every row seen in order; a failed or stopped read rejects and is cleaned up', async () => {
    const seed = process.env.CONSUME_SEED ? Number(process.env.CONSUME_SEED) : Math.floor(Math.random() * 2 ** 31);
    console.log(`consume: seed ${seed} (replay with CONSUME_SEED=${seed})`);
    const random = mulberry32(seed);
    const int = (n: number) => Math.floor(random() * n);

    for (let round = 0; round < 300; round++) {
      const batches: Row[][] = [];
      let n = 0;
      for (let b = int(8); b > 0; b--)
        batches.push(Array.from({ length: int(4) === 0 ? 0 : 1 + int(150) }, () => ({ Id: `id${n++}` })));
      const total = n;
      const pick = int(3);
      const outcome: Outcome =
        pick === 0 || total === 0
          ? { kind: 'complete' }
          : pick === 1
            ? { kind: 'fail', atBatch: int(batches.length + 1) }
            : { kind: 'stop', atRow: int(total), inRow: random() < 0.5 };
      const failure = new FatalError('SALESFORCE_INCOMPLETE_RESULTS', `round ${round}: the job's count differs`);
      const stop = new AbortController();
      let cleanedUp = false;
      let rowsGiven = 0;
      const gen = (async function* () {
        try {
          for (let b = 0; b < batches.length; b++) {
            if (outcome.kind === 'fail' && outcome.atBatch === b) throw failure;
            if (int(2) === 0) await new Promise((r) => setImmediate(r));
            if (outcome.kind === 'stop' && !outcome.inRow && rowsGiven >= outcome.atRow) stop.abort();
            rowsGiven += batches[b].length;
            yield batches[b];
          }
          if (outcome.kind === 'stop' && !outcome.inRow && rowsGiven >= outcome.atRow) stop.abort();
          if (outcome.kind === 'fail') throw failure;
          return { rowsRead: total };
        } finally {
          cleanedUp = true;
        }
      })();
      const ex = toExtraction(gen, new AbortController());
      const seen: string[] = [];
      const result = consume(
        ex,
        (row) => {
          if (outcome.kind === 'stop' && outcome.inRow && seen.length === outcome.atRow) stop.abort();
          seen.push(row.Id);
        },
        stop.signal,
      );
      const all = batches.flat().map((r) => r.Id);
      const where = `seed ${seed}, round ${round}, ${JSON.stringify(outcome)}, ${total} rows`;
      if (outcome.kind === 'complete') {
        await expect(result).resolves.toEqual({ rowsRead: total });
        expect({ where, seen }).toEqual({ where, seen: all });
      } else {
        const err = await result.then(
          () => new Error(`${where}: resolved`),
          (e: unknown) => e,
        );
        if (outcome.kind === 'fail') {
          expect({ where, err }).toEqual({ where, err: failure });
          await expect(ex.done).rejects.toBe(failure);
        } else expect({ where, code: (err as FatalError).code }).toEqual({ where, code: 'RUN_INTERRUPTED' });
        // whatever was seen is a prefix, in order
        expect({ where, seen }).toEqual({ where, seen: all.slice(0, seen.length) });
      }
      expect({ where, cleanedUp }).toEqual({ where, cleanedUp: true });
    }
  });

  it('leaving the batches early cancels the extraction: done rejects, the generator cleans up', async () => {
    let cleanedUp = false;
    const gen = (async function* () {
      try {
        for (let b = 0; b < 5; b++) yield [{ Id: `id${b}` }];
        return 'complete';
      } finally {
        cleanedUp = true;
      }
    })();
    const ex = toExtraction(gen, new AbortController());
    for await (const batch of ex.batches()) if (batch[0].Id === 'id1') break;
    await expect(ex.done).rejects.toMatchObject({ code: 'EXTRACTION_CANCELLED' });
    expect(cleanedUp).toBe(true);
  });
});

describe("consume: the reader's own failure", () => {
  it("rejects with the reader's error, not EXTRACTION_CANCELLED, once the extraction is tidied up", async () => {
    let cleanedUp = false;
    const gen = (async function* () {
      try {
        for (let b = 0; b < 10; b++) yield Array.from({ length: 100 }, (_, i) => ({ Id: `id${b * 100 + i}` }));
        return { rowsRead: 1000 };
      } finally {
        cleanedUp = true;
      }
    })();
    const ex = toExtraction(gen, new AbortController());
    const boom = new Error('the reader refused row id250');
    let seen = 0;
    const read = consume(
      ex,
      (row) => {
        if (row.Id === 'id250') throw boom;
        seen++;
      },
      new AbortController().signal,
    );
    await expect(read).rejects.toBe(boom);
    expect(seen).toBe(250);
    expect(cleanedUp).toBe(true);
    await expect(ex.done).rejects.toMatchObject({ code: 'EXTRACTION_CANCELLED' });
  });
});

import { orderedConcurrent } from '../../../../connectors/salesforce/ordered';

/** A page that yields `n` items tagged with its index, waiting on `gate` before each one. */
function page(i: number, n: number, gates: Promise<void>[], log: string[]) {
  return (async function* () {
    log.push(`start ${i}`);
    for (let k = 0; k < n; k++) {
      await gates[i];
      log.push(`produce ${i}.${k}`);
      yield `${i}.${k}`;
    }
    return `summary ${i}`;
  })();
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function* sources(n: number) {
  for (let i = 0; i < n; i++) yield i;
}

describe('ordered, bounded concurrency', () => {
  it('emits items in source order even when later pages finish first', async () => {
    const gates = Array.from({ length: 5 }, deferred);
    const log: string[] = [];
    const gen = orderedConcurrent(sources(5), 3, 2, (i) =>
      page(
        i,
        3,
        gates.map((g) => g.promise),
        log,
      ),
    );
    // release the pages in reverse order
    for (let i = 4; i >= 0; i--) gates[i].resolve();
    const out: string[] = [];
    let r = await gen.next();
    for (; !r.done; r = await gen.next()) out.push(r.value);
    expect(out).toEqual([
      '0.0',
      '0.1',
      '0.2',
      '1.0',
      '1.1',
      '1.2',
      '2.0',
      '2.1',
      '2.2',
      '3.0',
      '3.1',
      '3.2',
      '4.0',
      '4.1',
      '4.2',
    ]);
    expect(r.value).toEqual(['summary 0', 'summary 1', 'summary 2', 'summary 3', 'summary 4']);
  });

  it('never runs more than `concurrency` pages, nor reads more than `limit` items ahead', async () => {
    const log: string[] = [];
    const open = () => Promise.resolve();
    const gen = orderedConcurrent(sources(6), 2, 3, (i) => page(i, 10, Array(6).fill(open()), log));
    await gen.next(); // first item of page 0
    await new Promise((r) => setImmediate(r));
    expect(log.filter((l) => l.startsWith('start'))).toEqual(['start 0', 'start 1']);
    // page 1 waits with at most `limit` items buffered (+1 being produced)
    expect(log.filter((l) => l.startsWith('produce 1.')).length).toBeLessThanOrEqual(4);
    await gen.return([]);
  });

  it('surfaces a failing page in its turn and cancels the others', async () => {
    const closed: number[] = [];
    const started: number[] = [];
    const make = (i: number) =>
      (async function* () {
        started.push(i);
        try {
          yield `${i}.0`;
          if (i === 1) throw new Error('page 1 broke');
          yield `${i}.1`;
        } finally {
          closed.push(i);
        }
      })();
    const gen = orderedConcurrent(sources(4), 3, 1, make);
    const out: string[] = [];
    await expect(
      (async () => {
        for (let r = await gen.next(); !r.done; r = await gen.next()) out.push(r.value);
      })(),
    ).rejects.toThrow('page 1 broke');
    expect(out).toEqual(['0.0', '0.1', '1.0']);
    expect(started.length).toBeLessThanOrEqual(4); // page 0 done, then at most 3 at once
    expect(closed.sort()).toEqual(started.sort()); // every page that started was closed
  });
});

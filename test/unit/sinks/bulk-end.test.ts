import { atEnd, type BulkLoad } from '../../../sinks/postgres/bulk';

/**
 * When a partition counts as having applied the backlog a bulk load started with: at its end
 * offset, or one short of it (a transactional topic's last offset is a commit marker that yields
 * no batch when fetched alone). A partition without records at start has nothing to wait for.
 */
describe('the end of a bulk load, per partition', () => {
  const load: BulkLoad = {
    ends: new Map([
      [0, 100n],
      [2, 1n],
    ]),
    withoutIndexes: true,
  };

  it('at its end offset, one short of it, or past it: there; further short: not yet', () => {
    expect([98n, 99n, 100n, 101n].map((n) => atEnd(load, 0, n))).toEqual([false, true, true, true]);
    expect([-1n, 0n, 1n].map((n) => atEnd(load, 2, n))).toEqual([false, true, true]);
  });

  it('a partition that held nothing at start waits for nothing', () => {
    expect(atEnd(load, 1, 0n)).toBe(true);
  });
});

import type { BulkJobs, JobInfo } from '../../../../connectors/salesforce/bulk-job';
import { PrestartedJobs } from '../../../../connectors/salesforce/job-prestart';
import { silentLogger } from '../../../../kernel/logger';

/** A BulkJobs double: creations in order (some may fail), dispositions recorded. */
function fakeJobs(failing: string[] = []) {
  const created: string[] = [];
  const disposed: string[] = [];
  const ids = new Map<string, string>();
  let n = 0;
  const jobs = {
    async create(soql: string): Promise<JobInfo> {
      await new Promise((r) => setImmediate(r));
      if (failing.includes(soql)) throw new Error(`refused: ${soql}`);
      created.push(soql);
      const id = `750000000000${String(n++).padStart(3, '0')}`;
      ids.set(id, soql);
      return { id, state: 'UploadComplete' };
    },
    async dispose(id: string): Promise<void> {
      disposed.push(ids.get(id)!);
    },
  };
  return { jobs: jobs as unknown as BulkJobs, created, disposed };
}

const plan = (...soqls: string[]) => soqls.map((soql) => ({ soql, object: 'X' }));
// The fake's creations each wait one setImmediate, chained: settling is counted in event-loop
// turns, not waited for in time. A 20 ms timer raced them: in CI's loaded process the timer fired
// before a creation's setImmediate (the trial run of s12-flaky: `created` [] for ['A', 'B']).
const settle = async () => {
  for (let turn = 0; turn < 20; turn++) await new Promise((r) => setImmediate(r));
};

describe('PrestartedJobs', () => {
  it('keeps the next jobs created ahead, in the plan order, and hands each to its read', async () => {
    const f = fakeJobs();
    const ahead = new PrestartedJobs(f.jobs, silentLogger, 2);
    ahead.start(plan('A', 'B', 'C', 'A'));
    await settle();
    expect(f.created).toEqual(['A', 'B']); // at most 2 wait unread
    const a = await ahead.take('A');
    await settle();
    expect(f.created).toEqual(['A', 'B', 'C']);
    const b = await ahead.take('B');
    expect(await ahead.take('byId 1')).toBeNull(); // a read not planned changes nothing
    const c = await ahead.take('C');
    const a2 = await ahead.take('A');
    expect(await ahead.take('A')).toBeNull();
    expect(f.created).toEqual(['A', 'B', 'C', 'A']);
    expect(new Set([a!.id, b!.id, c!.id, a2!.id]).size).toBe(4);
    await ahead.release();
    expect(f.disposed).toEqual([]);
  });

  it('a read further on passes the jobs before it (disposed, never read)', async () => {
    const f = fakeJobs();
    const ahead = new PrestartedJobs(f.jobs, silentLogger, 2);
    ahead.start(plan('A', 'B', 'C', 'D'));
    await settle();
    expect(await ahead.take('B')).not.toBeNull();
    expect(await ahead.take('A')).toBeNull(); // passed: reads go in the plan's order
    expect(await ahead.take('C')).not.toBeNull();
    await ahead.release();
    expect(f.created).toEqual(['A', 'B', 'C', 'D']);
    expect(f.disposed.sort()).toEqual(['A', 'D']);
  });

  it('a read before its job was created creates its own, and nothing is created ahead any more', async () => {
    const f = fakeJobs();
    const ahead = new PrestartedJobs(f.jobs, silentLogger, 2);
    ahead.start(plan('A', 'B', 'C', 'D'));
    await settle();
    expect(await ahead.take('C')).toBeNull(); // not created yet: the read creates its own
    await settle();
    expect(await ahead.take('D')).toBeNull(); // not created after it: its snapshot would precede C's
    expect(f.created).toEqual(['A', 'B']);
    await ahead.release();
    expect(f.disposed.sort()).toEqual(['A', 'B']);
  });

  it('leaves a failed creation to its read, and creates nothing after it', async () => {
    const f = fakeJobs(['B']);
    const ahead = new PrestartedJobs(f.jobs, silentLogger, 3);
    ahead.start(plan('A', 'B', 'C', 'D'));
    expect(await ahead.take('A')).not.toBeNull();
    expect(await ahead.take('B')).toBeNull();
    expect(await ahead.take('C')).toBeNull(); // its snapshot would have preceded B's own
    expect(await ahead.take('D')).toBeNull();
    await ahead.release();
    expect(f.created).toEqual(['A']);
    expect(f.disposed).toEqual([]);
  });

  it('release disposes every job not taken, those still being created included, and creates no more', async () => {
    const f = fakeJobs();
    const ahead = new PrestartedJobs(f.jobs, silentLogger, 2);
    ahead.start(plan('A', 'B', 'C'));
    const taken = ahead.take('A'); // C's creation follows
    await ahead.release();
    await taken;
    expect(f.disposed.sort()).toEqual(f.created.filter((s) => s !== 'A').sort());
    const again = new PrestartedJobs(f.jobs, silentLogger, 2);
    await again.release();
    again.start(plan('D'));
    expect(await again.take('D')).toBeNull();
    expect(f.created).not.toContain('D');
  });
});

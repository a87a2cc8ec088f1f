import type { BulkJobs, JobInfo } from '../../../../connectors/salesforce/bulk-job';
import { PrestartedJobs } from '../../../../connectors/salesforce/job-prestart';
import { silentLogger } from '../../../../kernel/logger';

/** A BulkJobs double: creations in order (one may fail), dispositions recorded. */
function fakeJobs(failing: string[] = []) {
  const created: string[] = [];
  const disposed: string[] = [];
  let n = 0;
  const jobs = {
    async create(soql: string): Promise<JobInfo> {
      await new Promise((r) => setImmediate(r));
      if (failing.includes(soql)) throw new Error(`refused: ${soql}`);
      created.push(soql);
      return { id: `750000000000${String(n++).padStart(3, '0')}`, state: 'UploadComplete' };
    },
    async dispose(id: string): Promise<void> {
      disposed.push(id);
    },
  };
  return { jobs: jobs as unknown as BulkJobs, created, disposed };
}

describe('PrestartedJobs', () => {
  it('creates the jobs in the order given, hands each to the read of its statement, once', async () => {
    const f = fakeJobs();
    const ahead = new PrestartedJobs(f.jobs, silentLogger);
    ahead.start([
      { soql: 'A', object: 'X' },
      { soql: 'B', object: 'X' },
      { soql: 'A', object: 'X' },
    ]);
    const b = await ahead.take('B');
    expect(f.created).toEqual(['A', 'B']); // B waited for A: the snapshots keep their order
    const a1 = await ahead.take('A');
    const a2 = await ahead.take('A');
    expect(await ahead.take('A')).toBeNull();
    expect(await ahead.take('C')).toBeNull();
    expect(new Set([a1!.id, a2!.id, b!.id]).size).toBe(3);
    await ahead.release();
    expect(f.disposed).toEqual([]);
  });

  it('leaves a failed creation to its read and goes on with the next ones', async () => {
    const f = fakeJobs(['B']);
    const ahead = new PrestartedJobs(f.jobs, silentLogger);
    ahead.start([
      { soql: 'A', object: 'X' },
      { soql: 'B', object: 'X' },
      { soql: 'C', object: 'X' },
    ]);
    expect(await ahead.take('B')).toBeNull();
    expect(await ahead.take('C')).not.toBeNull();
    await ahead.release();
    expect(f.created).toEqual(['A', 'C']);
    expect(f.disposed).toHaveLength(1); // A, never read
  });

  it('release disposes every job not taken, those still being created included, and creates no more', async () => {
    const f = fakeJobs();
    const ahead = new PrestartedJobs(f.jobs, silentLogger);
    ahead.start([
      { soql: 'A', object: 'X' },
      { soql: 'B', object: 'X' },
      { soql: 'C', object: 'X' },
    ]);
    const taken = await ahead.take('A');
    await ahead.release();
    // B was being created when release came: disposed; C was not created at all
    expect(f.created.length).toBeGreaterThanOrEqual(1);
    expect(f.disposed).not.toContain(taken!.id);
    expect(f.disposed).toHaveLength(f.created.length - 1);
    ahead.start([{ soql: 'D', object: 'X' }]);
    expect(await ahead.take('D')).toBeNull();
    expect(f.created).not.toContain('D');
  });
});

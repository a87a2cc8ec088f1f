import type { BulkJobs, JobInfo } from '../../../../connectors/salesforce/bulk-job';
import { AHEAD, PrestartedJobs } from '../../../../connectors/salesforce/job-prestart';
import { silentLogger } from '../../../../kernel/logger';

/**
 * Review of s9-routine: job-prestart.ts promises "at most AHEAD jobs wait created and unread" (each is
 * processed by Salesforce at the same time as the others: the window exists because more jobs at
 * once made the 1M routine run slower) and "a planned read passes the jobs before it (never read:
 * disposed)". A passed job is only disposed by release(), at the run's end: until then it is alive
 * and processed, and the window refills beside it.
 */
function fakeJobs() {
  const alive = new Set<string>();
  const names = new Map<string, string>();
  let n = 0;
  const jobs = {
    async create(soql: string): Promise<JobInfo> {
      await new Promise((r) => setImmediate(r));
      const id = `750${String(n++).padStart(12, '0')}`;
      alive.add(id);
      names.set(id, soql);
      return { id, state: 'UploadComplete' };
    },
    async dispose(id: string): Promise<void> {
      alive.delete(id);
    },
  };
  return { jobs: jobs as unknown as BulkJobs, alive, names };
}

// The fake's creations each wait one setImmediate, chained: settling is counted in event-loop
// turns, not waited for in time. A 20 ms timer raced them: in CI's loaded process the timer fired
// before a creation's setImmediate (the trial run of s12-flaky: `created` [] for ['A', 'B']).
const settle = async () => {
  for (let turn = 0; turn < 20; turn++) await new Promise((r) => setImmediate(r));
};

describe('PrestartedJobs review', () => {
  it('a passed job is disposed when passed: never more than AHEAD jobs alive and unread', async () => {
    const f = fakeJobs();
    const ahead = new PrestartedJobs(f.jobs, silentLogger);
    ahead.start(['A', 'B', 'C', 'D', 'E'].map((soql) => ({ soql, object: 'X' })));
    await settle();
    // B's read comes (A's did not take a job: the plan was wrong for it, e.g. a stream read in full)
    const b = await ahead.take('B');
    expect(b).not.toBeNull();
    await settle();
    const unread = [...f.alive].filter((id) => id !== b!.id).map((id) => f.names.get(id));
    // A was passed: never read, yet processed by Salesforce until the run ends, beside C and D
    expect(unread.length).toBeLessThanOrEqual(AHEAD);
    expect(unread).not.toContain('A');
    await ahead.release();
  });
});

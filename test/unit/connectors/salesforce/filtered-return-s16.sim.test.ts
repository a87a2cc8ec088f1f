/**
 * A reader that leaves while the extractor's filtered step holds a batch out (batches(): one batch
 * pulled at a time, so the step is at its yield) still gets the job aborted and deleted before `done`
 * settles: extract.ts `filtered` closes the job's generator. Before session 16 it did not, and the
 * User job stayed in the org whenever no page read was pending at the abort.
 */
import type { Simulator } from '../../../../simulator/api';
import { extractor, startSim } from './sim-helpers';

describe('the extractor disposes of its jobs when the reader leaves at a batch', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSim({ users: 400, defaultPageSize: 1000 });
  });
  afterAll(() => sim.close());

  const jobsSince = (from: number) => {
    const reqs = sim.requests.slice(from);
    const ids = [
      ...new Set(reqs.map((r) => /\/jobs\/query\/(750\w+)/.exec(r.path)?.[1]).filter((x): x is string => !!x)),
    ];
    return ids.map((id) => ({
      id,
      deleted: reqs.some((r) => r.method === 'DELETE' && r.path.endsWith(id) && r.status < 300),
    }));
  };

  it.each([1, 2, 5])('users(): the reader leaves after %i batch(es): every job deleted', async (after) => {
    const from = sim.requests.length;
    const ex = extractor(sim, { pageSize: 50 }).users();
    let n = 0;
    for await (const _batch of ex.batches()) if (++n === after) break;
    await expect(ex.done).rejects.toMatchObject({ code: 'EXTRACTION_CANCELLED' });
    const jobs = jobsSince(from);
    expect(jobs.length).toBe(2); // UserLogin, then the User job left unfinished
    expect(jobs).toEqual(jobs.map((j) => ({ ...j, deleted: true })));
  });
});

/**
 * The API budget is about what this connector may take: a busy org's usage alone does not stop
 * a run; the run stops only before the org's remaining daily requests would fall below the
 * reserve. The simulator's usage counter is the truth.
 */
import type { Simulator, SimulatorOptions } from '../../../../simulator/api';
import { drain, extractor, startSim } from './sim-helpers';

async function withSim(opts: SimulatorOptions, fn: (sim: Simulator) => Promise<void>): Promise<void> {
  const sim = await startSim({ users: 300, logins: 0, ...opts });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

describe('API budget against the simulator', () => {
  it('a busy org (70 % used by others) still runs: the default reserve is 10 % of the limit', () =>
    withSim({ dailyApiLimit: 1000, apiUsedAtStart: 700 }, async (sim) => {
      const got = await drain(extractor(sim, { pageSize: 50, parallelPages: 1 }).users());
      expect(got.error).toBeUndefined();
      expect(got.rows.length).toBe(sim.userIds().length);
      // the connector's own calls, counted and reported, are the requests the org answered
      expect(got.result!.apiCalls).toBe(sim.requests.filter((r) => r.path.startsWith('/services/data')).length);
      expect(sim.apiUsage - 700).toBeLessThanOrEqual(got.result!.apiCalls);
    }));

  it('stops before the remaining requests fall below the reserve, saying how many it took', () =>
    withSim({ dailyApiLimit: 1000, apiUsedAtStart: 880 }, async (sim) => {
      const got = await drain(extractor(sim, { pageSize: 10, parallelPages: 1 }).users());
      expect(got.error?.code).toBe('SALESFORCE_API_BUDGET');
      expect(got.error?.message).toMatch(
        /keep 100 of the org's 1000 daily API requests.*apiReserve=0\.1.*this connector made \d+ calls/,
      );
      expect(got.result).toBeUndefined();
      expect(1000 - sim.apiUsage).toBeGreaterThanOrEqual(100);
    }));

  it('a configured reserve of 0 lets the run use the org up to its limit', () =>
    withSim({ dailyApiLimit: 1000, apiUsedAtStart: 880 }, async (sim) => {
      const got = await drain(extractor(sim, { pageSize: 50, parallelPages: 1, apiReserve: 0 }).users());
      expect(got.error).toBeUndefined();
      expect(sim.apiUsage).toBeLessThanOrEqual(1000);
    }));

  it('retries the concurrency variant of REQUEST_LIMIT_EXCEEDED (ConcurrentPerOrgLongTxn) with backoff', () =>
    withSim({}, async (sim) => {
      sim.inject({ kind: 'requestLimitExceeded', concurrent: true, times: 3 });
      const got = await drain(extractor(sim, { retryAttempts: 5 }).users());
      expect(got.error).toBeUndefined();
      expect(got.rows.length).toBe(sim.userIds().length);
      const refused = sim.requests.filter((r) => r.status === 403);
      expect(refused.length).toBe(3);
    }));

  it('the concurrency refusal of a job creation (POST) is retried too: Salesforce did not run it', () =>
    withSim({}, async (sim) => {
      // the first data requests are the describes; refuse every request until the job is created
      const { logger } = await import('./sim-helpers').then((m) => m.memoryLogger());
      const ex = extractor(sim, { retryAttempts: 6 }, { logger });
      await ex.connect();
      sim.inject({ kind: 'requestLimitExceeded', concurrent: true, times: 2 });
      const got = await drain(ex.users());
      expect(got.error).toBeUndefined();
      const posts = sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs/query'));
      expect(posts.map((p) => p.status)).toEqual([403, 403, 200, 200]);
    }));

  it('the daily limit itself (TotalRequests) is not retried: the run stops', () =>
    withSim({}, async (sim) => {
      sim.inject({ kind: 'requestLimitExceeded', times: 1 });
      const got = await drain(extractor(sim).users());
      expect(got.error?.code).toBe('SALESFORCE_REQUEST_LIMIT_EXCEEDED');
    }));
});

import { RetriableError } from '../../../../kernel/errors';
import type { UsersResult } from '../../../../connectors/salesforce';
import type { Row } from '../../../../connectors/salesforce/csv-page';
import type { Simulator } from '../../../../simulator/api';
import { drain, extractor, startSim } from './sim-helpers';

describe('simulator faults', () => {
  let sim: Simulator;
  let baseline: Row[];
  beforeAll(async () => {
    sim = await startSim({ users: 300 });
    baseline = (await drain(extractor(sim, { pageSize: 40, parallelPages: 1 }).users())).rows;
    expect(baseline.length).toBe(300);
  });
  afterEach(() => sim.clearFaults());
  afterAll(() => sim.close());

  const since = () => sim.requests.length;
  const newRequests = (from: number) => sim.requests.slice(from);

  it.each([1, 3])(
    'expired session in the middle of paging → re-authenticates and carries on (parallelPages %i)',
    async (parallelPages) => {
      const from = since();
      const got = await drain(extractor(sim, { pageSize: 40, parallelPages }).users(), (_row, i) => {
        if (i === 100) sim.inject({ kind: 'expireSession' });
      });
      expect(got.error).toBeUndefined();
      expect(got.rows).toEqual(baseline);
      const reqs = newRequests(from);
      // requests in flight with the old token all get 401; they share one re-login
      expect(reqs.filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(1);
      expect(reqs.filter((r) => r.path.startsWith('/services/oauth2/token'))).toHaveLength(2);
    },
  );

  it('5xx on result pages → retried, and the extraction completes', async () => {
    const from = since();
    sim.inject({ kind: 'serverError', status: 503, times: 2, path: 'results' });
    const got = await drain(extractor(sim, { pageSize: 40 }).users());
    expect(got.error).toBeUndefined();
    expect(got.rows).toEqual(baseline);
    expect(newRequests(from).filter((r) => r.status === 503)).toHaveLength(2);
  });

  it('5xx on job creation → not repeated blindly; the run fails as retriable, claiming nothing', async () => {
    const from = since();
    sim.inject({ kind: 'serverError', status: 500, times: 1, path: 'jobs' });
    const got = await drain(extractor(sim).users());
    expect(got.error).toBeInstanceOf(RetriableError);
    expect(got.error!.message).toMatch(/not repeated/);
    expect(got.result).toBeUndefined();
    expect(newRequests(from).filter((r) => r.method === 'POST' && r.path.includes('/jobs/query'))).toHaveLength(1);
  });

  it.each([1, 3])(
    'connection reset mid-page → the page is read again, no row twice (parallelPages %i)',
    async (parallelPages) => {
      sim.inject({ kind: 'resetMidPage', times: 2, object: 'User' });
      const got = await drain(extractor(sim, { pageSize: 40, parallelPages }).users());
      expect(got.error).toBeUndefined();
      expect(got.rows).toEqual(baseline);
      const rereads = (got.result as UsersResult).jobs.reduce((a, j) => a + j.rereads, 0);
      expect(rereads).toBe(2);
    },
  );

  it('REQUEST_LIMIT_EXCEEDED → a clean FatalError, no claim of completeness, no waiting', async () => {
    sim.inject({ kind: 'requestLimitExceeded', times: 1 });
    const started = Date.now();
    const got = await drain(extractor(sim).users());
    expect(got.error?.code).toBe('SALESFORCE_REQUEST_LIMIT_EXCEEDED');
    expect(got.error?.message).toMatch(/rolling 24 h/);
    expect(got.result).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a job that ends Failed → a clean failure naming the job', async () => {
    sim.inject({ kind: 'jobFails', object: 'User' });
    const got = await drain(extractor(sim).users());
    expect(got.error?.code).toBe('SALESFORCE_JOB_FAILED');
    expect(got.rows).toEqual([]);
    expect(got.error?.message).toMatch(/Bulk query job 750\w+ .* ended in state Failed/);
    expect(got.result).toBeUndefined();
  });

  it('a job stuck in progress → aborted after the timeout, the error names it', async () => {
    const from = since();
    sim.inject({ kind: 'jobStuck' });
    const got = await drain(extractor(sim, { jobTimeoutMs: 800 }).users());
    expect(got.error?.code).toBe('SALESFORCE_JOB_TIMEOUT');
    const id = /job (750\w+)/.exec(got.error!.message)![1];
    expect(got.error!.message).toMatch(/aborted/);
    const reqs = newRequests(from);
    expect(reqs.some((r) => r.method === 'PATCH' && r.path.endsWith(`/jobs/query/${id}`) && r.status < 300)).toBe(true);
    expect(got.result).toBeUndefined();
  });

  it('re-authentication that is refused mid-run → a clean auth failure, claiming nothing', async () => {
    const got = await drain(extractor(sim, { pageSize: 40 }).users(), (_row, i) => {
      if (i === 50) {
        sim.inject({ kind: 'loginFails', times: 10 });
        sim.inject({ kind: 'expireSession' });
      }
    });
    expect(got.error?.code).toBe('SALESFORCE_AUTH_FAILED');
    expect(got.result).toBeUndefined();
    expect(got.rows.length).toBeLessThan(baseline.length);
  });

  it('malformed CSV → failure naming the job, no completeness', async () => {
    sim.inject({ kind: 'malformedCsv', times: 1, object: 'User' });
    const got = await drain(extractor(sim, { pageSize: 40 }).users());
    expect(got.error?.code).toBe('SALESFORCE_CSV_MALFORMED');
    expect(got.error?.message).toMatch(/query job 750\w+, result page \d+/);
    expect(got.rows.length).toBeLessThan(baseline.length);
    expect(got.result).toBeUndefined();
  });

  it('slow pages → still completes', async () => {
    sim.inject({ kind: 'slowPages', delayMs: 150, times: 4 });
    const got = await drain(extractor(sim, { pageSize: 40, parallelPages: 3 }).users());
    expect(got.error).toBeUndefined();
    expect(got.rows).toEqual(baseline);
  });

  it('stops before passing the configured share of the daily API budget', async () => {
    const small = await startSim({ users: 300, dailyApiLimit: 40 });
    try {
      const got = await drain(extractor(small, { pageSize: 10, parallelPages: 1, apiBudgetShare: 0.5 }).users());
      expect(got.error?.code).toBe('SALESFORCE_API_BUDGET');
      expect(got.error?.message).toMatch(/apiBudgetShare=0.5/);
      expect(got.result).toBeUndefined();
      expect(small.apiUsage).toBeLessThanOrEqual(20);
    } finally {
      await small.close();
    }
  });
});

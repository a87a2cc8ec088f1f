/**
 * Contract: every injectable fault fires, is observable the way a client would see it, and
 * stops firing when used up. Also the API budget and the Sforce-Limit-Info header.
 */
import { Connection } from 'jsforce';
import { parse } from 'csv-parse/sync';
import { startSimulator } from '../../simulator';
import { Simulator } from '../../simulator/api';
import { Api, passwordLogin } from './sim-client';

let sim: Simulator;
let api: Api;
let jobId: string;
beforeAll(async () => {
  sim = await startSimulator({ users: 300, logins: 100 });
  api = new Api(sim, await passwordLogin(sim));
  jobId = (await api.runJob('SELECT Id, Name, Street, AboutMe FROM User')).id;
});
afterEach(() => sim.clearFaults());
afterAll(() => sim.close());

const results = (q = 'maxRecords=200'): Promise<Response> => api.call('GET', `/jobs/query/${jobId}/results?${q}`);

describe('faults', () => {
  it('expireSession: the current token gets 401 INVALID_SESSION_ID; jsforce re-authenticates', async () => {
    const c = sim.credentials;
    const conn = new Connection({
      oauth2: { clientId: c.consumerKey, clientSecret: c.consumerSecret, loginUrl: sim.url },
      loginUrl: sim.url,
      version: '62.0',
    });
    await conn.login(c.username, c.password + c.securityToken);
    const oldToken = conn.accessToken;
    sim.inject({ kind: 'expireSession' });
    const d = await conn.sobject('User').describe();
    expect(d.name).toBe('User');
    expect(conn.accessToken).not.toBe(oldToken);
    const statuses = sim.requests.filter((r) => r.path.endsWith('/sobjects/User/describe')).map((r) => r.status);
    expect(statuses.slice(-2)).toEqual([401, 200]);
    const stale = await new Api(sim, String(oldToken)).json('GET', '/limits');
    expect(stale).toEqual({
      status: 401,
      body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }],
    });
  });

  it('requestLimitExceeded: 403 REQUEST_LIMIT_EXCEEDED for `times` requests, not counted', async () => {
    sim.inject({ kind: 'requestLimitExceeded', times: 2 });
    const used = sim.apiUsage;
    for (let i = 0; i < 2; i++) {
      const r = await api.json('GET', '/limits');
      expect(r).toEqual({
        status: 403,
        body: [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }],
      });
    }
    expect(sim.apiUsage).toBe(used);
    expect((await api.json('GET', '/limits')).status).toBe(200);
  });

  it('serverError: status and path filter', async () => {
    sim.inject({ kind: 'serverError', status: 503, path: 'results' });
    expect((await api.json('GET', `/jobs/query/${jobId}`)).status).toBe(200); // not a results request
    const r = await results();
    expect(r.status).toBe(503);
    expect(((await r.json()) as { errorCode: string }[])[0].errorCode).toBe('SERVER_UNAVAILABLE');
    expect((await results()).status).toBe(200);
    sim.inject({ kind: 'serverError', times: 2 });
    expect((await api.json('GET', '/limits')).status).toBe(500);
    expect((await api.json('POST', '/jobs/query', { operation: 'query', query: 'SELECT Id FROM User' })).status).toBe(
      500,
    );
    expect((await api.json('GET', '/limits')).status).toBe(200);
  });

  it('jobFails: the next job ends Failed, without an error message; results are refused', async () => {
    sim.inject({ kind: 'jobFails' });
    const info = await api.runJob('SELECT Id FROM User');
    expect(info.state).toBe('Failed');
    expect(info.errorMessage).toBeUndefined();
    expect((await api.call('GET', `/jobs/query/${info.id}/results`)).status).toBe(412);
    expect((await api.runJob('SELECT Id FROM User')).state).toBe('JobComplete');
  });

  it('jobStuck: the next job never leaves InProgress', async () => {
    sim.inject({ kind: 'jobStuck' });
    const { body } = await api.createJob('SELECT Id FROM User');
    await expect(api.waitJob(body.id, 20)).rejects.toThrow(/did not finish/);
    expect((await api.json('GET', `/jobs/query/${body.id}`)).body.state).toBe('InProgress');
    expect((await api.json('PATCH', `/jobs/query/${body.id}`, { state: 'Aborted' })).body.state).toBe('Aborted');
  });

  it('resetMidPage: the body is cut after some bytes; the page reads fine afterwards', async () => {
    const full = await (await results()).text();
    sim.inject({ kind: 'resetMidPage' });
    const r = await results();
    expect(r.status).toBe(200);
    await expect(r.text()).rejects.toThrow();
    expect(await (await results()).text()).toBe(full);
  });

  it('resetMidPage also cuts gzip responses', async () => {
    sim.inject({ kind: 'resetMidPage' });
    const r = await api.call('GET', `/jobs/query/${jobId}/results?maxRecords=200`, undefined, {
      'Accept-Encoding': 'gzip',
    });
    await expect(r.text()).rejects.toThrow();
  });

  it('slowPages: the results answer waits delayMs', async () => {
    sim.inject({ kind: 'slowPages', delayMs: 300 });
    const t0 = Date.now();
    expect((await results()).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('malformedCsv: one row has a broken quote, same record count header', async () => {
    sim.inject({ kind: 'malformedCsv' });
    const r = await results();
    expect(r.headers.get('sforce-numberofrecords')).toBe('200');
    const text = await r.text();
    expect(() => parse(text, { columns: true })).toThrow();
    const clean = await (await results()).text();
    expect(() => parse(clean, { columns: true })).not.toThrow();
  });

  it('clearFaults drops pending faults', async () => {
    sim.inject({ kind: 'serverError', times: 5 });
    sim.clearFaults();
    expect((await api.json('GET', '/limits')).status).toBe(200);
  });
});

describe('API budget', () => {
  it('reports api-usage on every /services/data response and refuses past dailyApiLimit', async () => {
    const s = await startSimulator({ users: 3, logins: 3, dailyApiLimit: 4 });
    try {
      const a = new Api(s, await passwordLogin(s));
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await a.call('GET', '/limits');
        expect(r.status).toBe(200);
        seen.push(String(r.headers.get('sforce-limit-info')));
      }
      expect(seen).toEqual(['api-usage=1/4', 'api-usage=2/4', 'api-usage=3/4', 'api-usage=4/4']);
      const over = await a.call('GET', '/sobjects/User/describe');
      expect(over.status).toBe(403);
      expect(over.headers.get('sforce-limit-info')).toBe('api-usage=4/4');
      expect(await over.json()).toEqual([
        { errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' },
      ]);
      expect(s.apiUsage).toBe(4);
    } finally {
      await s.close();
    }
  });

  it('limits resource, versions list and unknown versions', async () => {
    const lim = await api.json('GET', '/limits');
    expect(lim.body.DailyApiRequests).toEqual({ Max: 100000, Remaining: 100000 - sim.apiUsage });
    const versions = (await (await fetch(`${sim.url}/services/data`)).json()) as { version: string }[];
    expect(versions.map((v) => v.version)).toContain('62.0');
    expect(versions[0].version).toBe('31.0');
    expect((await api.call('GET', '/limits', undefined, {}, 'v63.0')).status).toBe(404);
    expect((await api.call('GET', '/limits', undefined, {}, 'v30.0')).status).toBe(404);
  });

  it('logs every request with its status', () => {
    expect(sim.requests.length).toBeGreaterThan(10);
    expect(sim.requests[0]).toEqual({ method: 'POST', path: '/services/oauth2/token', status: 200 });
    expect(sim.requests.some((r) => r.status === 403)).toBe(true);
  });
});

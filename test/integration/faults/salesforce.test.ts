import type { Simulator } from '../../../simulator/api';
import { allRecords } from '../../support/sync-harness';
import {
  baselineThenChanges,
  closeRigsAfterEachTest,
  expectConsistent,
  faultRig,
  type FaultRig,
} from '../../support/fault-harness';

/**
 * Salesforce faults during a run, end to end (simulator → connector → Kafka → sink → PostgreSQL).
 * Each test: a healthy run, changes in the org, a run with the fault, a recovery run when that one
 * failed; then the sink's tables equal the org, no login event twice, no spurious deletion.
 */
let rig: FaultRig | undefined;
closeRigsAfterEachTest();

describe('faults the extractor rides out: the run itself succeeds', () => {
  it.each([
    ['401 (session expired) while paging', (s: Simulator) => s.inject({ kind: 'expireSession' }), 401],
    [
      '5xx on result pages, twice',
      (s: Simulator) => s.inject({ kind: 'serverError', status: 503, path: 'results', times: 2 }),
      503,
    ],
    [
      'a connection reset mid-page of users',
      (s: Simulator) => s.inject({ kind: 'resetMidPage', object: 'User' }),
      undefined,
    ],
  ] as const)('%s', async (_name, fault, status) => {
    rig = await faultRig();
    const c = await rig.connector();
    await rig.startSink();
    const { removed } = await baselineThenChanges(rig);
    const seen = rig.sim.requests.length;
    fault(rig.sim);
    const run = await c.sync();
    expect(run).toMatchObject({ status: 'succeeded', usersTombstoned: removed.length, loginEventsPublished: 40 });
    const during = rig.sim.requests.slice(seen);
    if (status !== undefined) expect(during.filter((r) => r.status === status).length).toBeGreaterThan(0);
    // the fault did hit a result page: that page was asked for again
    else {
      const pages = during.filter((r) => r.method === 'GET' && r.path.includes('/results')).map((r) => r.path);
      expect(new Set(pages).size).toBeLessThan(pages.length);
    }
    await expectConsistent(rig);
  });
});

describe('faults that fail the run cleanly; the next healthy run repairs', () => {
  it.each([
    [
      '403 REQUEST_LIMIT_EXCEEDED',
      (s: Simulator) => s.inject({ kind: 'requestLimitExceeded', times: 100 }),
      'REQUEST_LIMIT',
    ],
    ['the User job ends Failed', (s: Simulator) => s.inject({ kind: 'jobFails', object: 'User' }), 'JOB'],
    ['a malformed CSV page of users', (s: Simulator) => s.inject({ kind: 'malformedCsv', object: 'User' }), 'CSV'],
  ] as const)('%s', async (_name, fault, code) => {
    rig = await faultRig();
    const c = await rig.connector();
    await rig.startSink();
    const { first, removed } = await baselineThenChanges(rig);
    const tombstonesBefore = (await allRecords(rig.settings.topics.users)).filter((r) => r.value === null).length;

    fault(rig.sim);
    const failed = await c.sync();
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toMatch(new RegExp(code));
    expect(failed.usersTombstoned).toBe(0);
    expect(failed.loginHistoryWatermark).toBe(first.loginHistoryWatermark);
    expect((await allRecords(rig.settings.topics.users)).filter((r) => r.value === null).length).toBe(tombstonesBefore);

    rig.sim.clearFaults();
    const repaired = await c.sync();
    expect(repaired).toMatchObject({ status: 'succeeded', usersTombstoned: removed.length, loginEventsPublished: 40 });
    await expectConsistent(rig);
  });
});

describe('the consistency check itself', () => {
  it('fails on an event stored twice (another id) and on a lost event, both against the org', async () => {
    rig = await faultRig();
    const c = await rig.connector();
    await rig.startSink();
    expect((await c.sync()).status).toBe('succeeded');
    await expectConsistent(rig);
    const t = `"${rig.tables.logins}"`;
    const { rows } = await rig.pool.query(`SELECT id FROM ${t} ORDER BY random() LIMIT 1`);
    const cols = (
      await rig.pool.query(
        "SELECT string_agg(quote_ident(column_name), ', ') AS c FROM information_schema.columns " +
          "WHERE table_name = $1 AND column_name <> 'id'",
        [rig.tables.logins],
      )
    ).rows[0].c;
    await rig.pool.query(
      `INSERT INTO ${t} (id, ${cols}) SELECT '0YaDUPLICATE000AAA', ${cols} FROM ${t} WHERE id = $1`,
      [rows[0].id],
    );
    await expect(expectConsistent(rig, 2000)).rejects.toThrow();
    await rig.pool.query(`DELETE FROM ${t} WHERE id IN ('0YaDUPLICATE000AAA', $1)`, [rows[0].id]);
    await expect(expectConsistent(rig, 2000)).rejects.toThrow();
  });
});

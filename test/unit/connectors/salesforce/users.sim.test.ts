import { FROZEN_KEY, PASSWORD_LOCKED_KEY, type UserStatus, type UsersResult } from '../../../../connectors/salesforce';
import type { Row } from '../../../../connectors/salesforce/csv-page';
import type { Simulator, SimUserState } from '../../../../simulator/api';
import { drain, extractor, memoryLogger, recordingFetch, startSim } from './sim-helpers';

const COMBINATIONS: UserStatus[][] = [
  ['active'],
  ['inactive'],
  ['frozen'],
  ['active', 'inactive'],
  ['active', 'frozen'],
  ['inactive', 'frozen'],
  ['active', 'inactive', 'frozen'],
];

describe('users against the simulator', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSim({ users: 400, defaultPageSize: 1000 });
  });
  afterAll(() => sim.close());

  it.each(COMBINATIONS)('extracts exactly the users of status %j (and %s)', async (...statuses) => {
    const got = await drain(extractor(sim, { userStatuses: statuses, pageSize: 90 }).users());
    expect(got.error).toBeUndefined();
    const ids = got.rows.map((r) => r.Id).sort();
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(sim.userIds(statuses as SimUserState[]));
    expect(ids.length).toBeGreaterThan(0);
    const result = got.result as UsersResult;
    expect(result).toMatchObject({ complete: true, object: 'User', rowsEmitted: ids.length, statuses });
    for (const job of result.jobs) expect(job.rowsRead).toBe(job.numberRecordsProcessed);
  });

  it('marks frozen users with the UserLogin flags', async () => {
    const got = await drain(extractor(sim).users());
    const frozen = new Set(sim.userIds(['frozen']));
    expect(frozen.size).toBeGreaterThan(0);
    for (const r of got.rows) {
      expect(r[FROZEN_KEY]).toBe(frozen.has(r.Id) ? 'true' : 'false');
      expect(['true', 'false']).toContain(r[PASSWORD_LOCKED_KEY]);
    }
    expect((got.result as UsersResult).frozenUsers).toBe(frozen.size);
  });

  it('follows status changes between runs', async () => {
    const [a, b] = sim.userIds(['active']);
    sim.setUserState(a, 'frozen');
    sim.setUserState(b, 'inactive');
    try {
      const frozen = await drain(extractor(sim, { userStatuses: ['frozen'] }).users());
      expect(frozen.rows.map((r) => r.Id)).toContain(a);
      const active = await drain(extractor(sim, { userStatuses: ['active'] }).users());
      expect(active.rows.map((r) => r.Id)).not.toContain(a);
      expect(active.rows.map((r) => r.Id)).not.toContain(b);
    } finally {
      sim.setUserState(a, 'active');
      sim.setUserState(b, 'active');
    }
  });

  async function extractAll(parallelPages: number, pageSize: number) {
    const ex = extractor(sim, { parallelPages, pageSize });
    const info = await ex.connect();
    const got = await drain(ex.users());
    expect(got.error).toBeUndefined();
    return { info, rows: got.rows, result: got.result as UsersResult };
  }

  it('reproduces every value exactly across many pages, by locator and in parallel, in the same order', async () => {
    const seq = await extractAll(1, 37);
    const par = await extractAll(4, 37);
    expect(seq.result.jobs.find((j) => j.object === 'User')).toMatchObject({
      mode: 'locator',
      pages: Math.ceil(400 / 37),
    });
    expect(par.result.jobs.find((j) => j.object === 'User')).toMatchObject({
      mode: 'resultPages',
      pages: Math.ceil(400 / 37),
    });
    expect(par.rows).toEqual(seq.rows);
    const fields = seq.info.userFields;
    expect(fields).toEqual(
      expect.arrayContaining(['Id', 'UserRole.Name', 'Profile.Name', 'Profile.UserLicense.Name', 'Street', 'Latitude']),
    );
    expect(fields).not.toContain('Address');
    expect(fields.some((f) => f.startsWith('UserPreferences'))).toBe(true);
    for (const row of seq.rows) {
      const { [FROZEN_KEY]: _f, [PASSWORD_LOCKED_KEY]: _l, ...rest } = row;
      expect(rest).toEqual(sim.userRow(row.Id, fields));
    }
    // the data really holds the tricky cases
    const values = seq.rows.flatMap((r) => Object.values(r));
    expect(values.some((v) => v.includes('\n'))).toBe(true);
    expect(values.some((v) => v.includes('"'))).toBe(true);
    expect(values.some((v) => v.includes(','))).toBe(true);
    expect(values.some((v) => /\P{ASCII}/u.test(v))).toBe(true);
    expect(values.some((v) => v === '')).toBe(true);
  });

  it('reads results gzip-compressed', async () => {
    const rec = recordingFetch();
    const got = await drain(extractor(sim, { pageSize: 100 }, { fetch: rec.fetch }).users());
    expect(got.error).toBeUndefined();
    const results = rec.encodings.filter((e) => /\/results/.test(e.url));
    expect(results.length).toBeGreaterThan(1);
    for (const r of results) expect(r.encoding).toBe('gzip');
  });

  it('deletes its query jobs once read', async () => {
    const before = sim.requests.length;
    const got = await drain(extractor(sim).users());
    const ids = (got.result as UsersResult).jobs.map((j) => j.id);
    expect(ids).toHaveLength(2);
    const deletes = sim.requests.slice(before).filter((r) => r.method === 'DELETE' && r.status < 300);
    for (const id of ids) expect(deletes.some((d) => d.path.includes(id))).toBe(true);
  });

  /** Query jobs created since `from` and whether each was deleted (ids read from the job URLs). */
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

  it('stops when the consumer leaves early: claims nothing, and deletes its jobs first', async () => {
    const from = sim.requests.length;
    const ex = extractor(sim, { pageSize: 50 }).users();
    let n = 0;
    for await (const _row of ex.rows) if (++n === 10) break;
    await expect(ex.done).rejects.toMatchObject({ code: 'EXTRACTION_CANCELLED' });
    expect(jobsSince(from)).toEqual([
      expect.objectContaining({ deleted: true }),
      expect.objectContaining({ deleted: true }),
    ]); // UserLogin, then the unfinished User job
  });

  it('close() cancels a running extraction the same way', async () => {
    const from = sim.requests.length;
    const x = extractor(sim, { pageSize: 50 });
    const ex = x.users();
    const first = await new Promise((resolve) => ex.rows.once('data', resolve));
    expect(first).toHaveProperty('Id');
    await x.close();
    await expect(ex.done).rejects.toMatchObject({ code: 'EXTRACTION_CANCELLED' });
    expect(jobsSince(from)).toEqual([
      expect.objectContaining({ deleted: true }),
      expect.objectContaining({ deleted: true }),
    ]);
  });
});

describe('fields the org lacks', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSim({ users: 30, missingUserFields: ['FederationIdentifier', 'IndividualId'] });
  });
  afterAll(() => sim.close());

  it('are skipped with one warning each, and the extraction still completes', async () => {
    const { logger, lines } = memoryLogger();
    const ex = extractor(sim, {}, { logger });
    const info = await ex.connect();
    expect(info.missingFields.map((m) => m.field)).toEqual(
      expect.arrayContaining(['FederationIdentifier', 'IndividualId']),
    );
    expect(info.userFields).not.toContain('FederationIdentifier');
    const first = await drain(ex.users());
    const second = await drain(ex.users());
    expect(first.error).toBeUndefined();
    expect(second.error).toBeUndefined();
    const rows: Row[] = first.rows;
    expect(rows.length).toBe(sim.userIds().length);
    expect(Object.keys(rows[0])).not.toContain('FederationIdentifier');
    const warnings = lines.filter(
      (l) => l.level === 'warn' && (l.field === 'FederationIdentifier' || l.field === 'IndividualId'),
    );
    expect(warnings).toHaveLength(2);
  });

  it('honours a chosen field list, always adding the fields the connector needs', async () => {
    const got = await drain(extractor(sim, { userFields: ['Name', 'FederationIdentifier'] }).users());
    expect(got.error).toBeUndefined();
    expect(Object.keys(got.rows[0])).toEqual(['Id', 'IsActive', 'Name', FROZEN_KEY, PASSWORD_LOCKED_KEY]);
    for (const r of got.rows) expect(r.Name).toBe(sim.userRow(r.Id, ['Name']).Name);
  });
});

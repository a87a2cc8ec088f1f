import type { StreamRequest, StreamResult } from '../../../connectors/salesforce';
import type { Simulator } from '../../../simulator/api';
import { byId, drain, extractor, memoryLogger, startSim } from '../connectors/salesforce/sim-helpers';
import { mulberry32 } from '../../../simulator/prng';

/**
 * The generic extraction of a declared stream (extractor.stream), on the simulator: Bulk API 2.0
 * and the REST query API give the same rows, which are the simulator's records; a field the org
 * lacks is skipped, an object the user cannot read is skipped whole, and an incomplete REST
 * answer is an error, never a partial success. Randomised: STREAMS_SEED replays a run.
 */
const SEED = Number(process.env.STREAMS_SEED ?? Math.floor(Math.random() * 1_000_000));

console.log(`STREAMS_SEED=${SEED}`);
const rnd = mulberry32(SEED);

const FIELDS = [
  'Id',
  'AssigneeId',
  'PermissionSetId',
  'PermissionSet.Name',
  'PermissionSet.IsOwnedByProfile',
  'PermissionSetGroupId',
  'PermissionSetGroup.MasterLabel',
];
const request = (api: 'bulk' | 'rest', over: Partial<StreamRequest> = {}): StreamRequest => ({
  object: 'PermissionSetAssignment',
  fields: FIELDS,
  key: 'Id',
  api,
  ...over,
});

let sim: Simulator;
const users = 20 + Math.floor(rnd() * 120);
const pageSize = 3 + Math.floor(rnd() * 40);

beforeAll(async () => {
  sim = await startSim({
    users,
    logins: 10,
    seed: 1 + Math.floor(rnd() * 1000),
    restPageSize: pageSize,
    defaultPageSize: pageSize,
  });
});
afterAll(async () => sim?.close());

it.each(['bulk', 'rest'] as const)(
  '%s: every record of the object, as the simulator holds it, parent paths included',
  async (api) => {
    // a change between runs: the extraction reads the org as it is now
    const set = api === 'bulk' ? 'Data_Loader' : 'Marketing_Tools';
    const holders = new Set(
      sim
        .objectRows('PermissionSetAssignment', ['AssigneeId', 'PermissionSet.Name'])
        .filter((r) => r['PermissionSet.Name'] === set)
        .map((r) => r.AssigneeId),
    );
    const [u] = sim
      .userIds(['active'])
      .filter((id) => !holders.has(id))
      .slice(Math.floor(rnd() * 5));
    sim.assignPermissionSet(u, set);
    const ex = extractor(sim).stream!(request(api));
    const { rows, result, error } = await drain<StreamResult>(ex);
    expect(error).toBeUndefined();
    const expected = sim.objectRows('PermissionSetAssignment', FIELDS).sort(byId);
    expect(rows.slice().sort(byId)).toEqual(expected);
    expect(expected.some((r) => r['PermissionSetGroup.MasterLabel'] === '')).toBe(true); // null parents read as ''
    expect(expected.some((r) => r['PermissionSetGroup.MasterLabel'] !== '')).toBe(true);
    expect(result).toMatchObject({
      complete: true,
      object: 'PermissionSetAssignment',
      api,
      rowsRead: expected.length,
      fields: FIELDS,
    });
    expect(result!.pages).toBe(Math.max(1, Math.ceil(expected.length / pageSize)));
    expect(result!.jobs.length).toBe(api === 'bulk' ? 1 : 0);
  },
);

it('a field the org lacks is skipped with a warning; the rest is read', async () => {
  const { logger, lines } = memoryLogger();
  const ex = extractor(sim, {}, { logger }).stream!(request('rest', { fields: ['Id', 'Bogus__c', 'AssigneeId'] }));
  const { rows, result } = await drain<StreamResult>(ex);
  expect(result!.fields).toEqual(['Id', 'AssigneeId']);
  expect(result!.missing).toEqual([{ field: 'Bogus__c', reason: expect.any(String) }]);
  expect(rows.length).toBe(sim.objectRows('PermissionSetAssignment', ['Id']).length);
  expect(lines.some((l) => l.level === 'warn' && l.field === 'Bogus__c')).toBe(true);
});

it('an object the integration user may not read is skipped whole: no rows, a reason', async () => {
  const restricted = await startSim({ users: 20, logins: 5, apiUserPermissions: ['ViewAllUsers'] });
  try {
    for (const api of ['bulk', 'rest'] as const) {
      const { rows, result, error } = await drain<StreamResult>(extractor(restricted).stream!(request(api)));
      expect(error).toBeUndefined();
      expect(rows).toEqual([]);
      expect(result!.skipped).toMatch(/PermissionSetAssignment is not visible/);
    }
  } finally {
    await restricted.close();
  }
});

it('a REST answer with fewer records than its totalSize is an incomplete extraction, not a success', async () => {
  // a proxy that drops one record of each page: the pages no longer add up to totalSize
  const dropping = async (url: string, init: RequestInit) => {
    const res = await fetch(url, init);
    if (!/\/query(\/|$)/.test(new URL(url).pathname)) return res;
    const body = (await res.json()) as { records: unknown[] };
    body.records.pop();
    return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
  };
  const { error } = await drain<StreamResult>(extractor(sim, {}, { fetch: dropping }).stream!(request('rest')));
  expect(error?.code).toBe('SALESFORCE_INCOMPLETE_RESULTS');
});

it.each(['bulk', 'rest'] as const)(
  "%s: rows by Id are exactly the simulator's rows with those Ids (a removed row's Id reads nothing)",
  async (api) => {
    const removed = sim
      .objectRows('PermissionSetAssignment', ['Id', 'PermissionSet.IsOwnedByProfile'])
      .find((r) => r['PermissionSet.IsOwnedByProfile'] === 'false')!.Id;
    sim.unassignPermissionSet(removed);
    const all = sim.objectRows('PermissionSetAssignment', FIELDS);
    const wanted = all.filter(() => rnd() < 0.3).map((r) => r.Id);
    const ex = extractor(sim).stream!(request(api, { ids: [...wanted, removed] }));
    const { rows, error } = await drain<StreamResult>(ex);
    expect(error).toBeUndefined();
    const want = new Set(wanted);
    expect(rows.slice().sort(byId)).toEqual(all.filter((r) => want.has(r.Id)).sort(byId));
  },
);

it("a user's new profile moves the SystemModstamp of their own-set assignment only, as Salesforce does", async () => {
  const fields = ['Id', 'AssigneeId', 'PermissionSet.IsOwnedByProfile', 'SystemModstamp'];
  const before = new Map(sim.objectRows('PermissionSetAssignment', fields).map((r) => [r.Id, r]));
  const ids = sim.userIds(['active']);
  const u = ids[Math.floor(rnd() * ids.length)];
  const other = ids.find((id) => sim.userRow(id, ['ProfileId']).ProfileId !== sim.userRow(u, ['ProfileId']).ProfileId)!;
  sim.updateUser(ids[(ids.indexOf(u) + 1) % ids.length], { Title: 'no assignment changes' });
  sim.updateUser(u, { ProfileId: sim.userRow(other, ['ProfileId']).ProfileId });
  const after = sim.objectRows('PermissionSetAssignment', fields);
  const moved = after.filter((r) => r.SystemModstamp !== before.get(r.Id)?.SystemModstamp);
  expect(moved.map((r) => [r.AssigneeId, r['PermissionSet.IsOwnedByProfile'], r.SystemModstamp])).toEqual([
    [u, 'true', sim.now!()],
  ]);
  // and a changed read from that stamp returns that row
  const since = { field: 'SystemModstamp', from: new Date(Date.parse(sim.now!())) };
  const { rows, error } = await drain<StreamResult>(extractor(sim).stream!(request('bulk', { since })));
  expect(error).toBeUndefined();
  expect(rows.map((r) => r.Id)).toEqual([moved[0].Id]);
});

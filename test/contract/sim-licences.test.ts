/**
 * Contract: the licence objects and the REST query API, as Salesforce serves them. Licence data
 * is consistent with the users (UsedLicenses, assignments only for live users), changes through
 * the test mutations, and the REST query pages by nextRecordsUrl; strict where Salesforce is
 * (unknown fields, objects the user may not read). Randomised: SIM_LICENCES_SEED replays.
 */
import { startSimulator } from '../../simulator';
import type { Simulator, SimulatorOptions } from '../../simulator/api';
import { mulberry32 } from '../../simulator/prng';
import { Api, passwordLogin, SimJson } from './sim-client';

const SEED = Number(process.env.SIM_LICENCES_SEED ?? Math.floor(Math.random() * 1_000_000));

console.log(`SIM_LICENCES_SEED=${SEED}`);
const rnd = mulberry32(SEED);

async function withSim<T>(opts: SimulatorOptions, fn: (sim: Simulator, api: Api) => Promise<T>): Promise<T> {
  const sim = await startSimulator({
    users: 30 + Math.floor(rnd() * 150),
    logins: 10,
    seed: 1 + Math.floor(rnd() * 9999),
    ...opts,
  });
  try {
    return await fn(sim, new Api(sim, await passwordLogin(sim), 'v62.0'));
  } finally {
    await sim.close();
  }
}

/** Every record of a REST query, following nextRecordsUrl; the pages seen. */
async function restAll(api: Api, soql: string, headers: Record<string, string> = {}) {
  const pages: SimJson[] = [];
  let res = await api.call('GET', `/query?q=${encodeURIComponent(soql)}`, undefined, headers);
  for (;;) {
    const body = (await res.json()) as SimJson;
    if (res.status !== 200) return { status: res.status, body, pages, records: [] };
    pages.push(body);
    if (body.done) break;
    res = await fetch(`${api.sim.url}${body.nextRecordsUrl}`, { headers: { Authorization: `Bearer ${api.token}` } });
  }
  return { status: 200, body: pages[0], pages, records: pages.flatMap((p) => p.records) };
}

it('UsedLicenses counts the active users of each licence; permission set licences their assignments', () =>
  withSim({}, async (sim) => {
    const used = new Map<string, number>();
    for (const id of sim.userIds(['active', 'frozen'])) {
      const l = sim.userRow(id, ['Profile.UserLicenseId'])['Profile.UserLicenseId'];
      used.set(l, (used.get(l) ?? 0) + 1);
    }
    for (const l of sim.objectRows('UserLicense', ['Id', 'UsedLicenses']))
      expect(Number(l.UsedLicenses)).toBe(used.get(l.Id) ?? 0);
    const held = new Map<string, number>();
    for (const a of sim.objectRows('PermissionSetLicenseAssign', ['PermissionSetLicenseId'])) {
      held.set(a.PermissionSetLicenseId, (held.get(a.PermissionSetLicenseId) ?? 0) + 1);
    }
    for (const l of sim.objectRows('PermissionSetLicense', ['Id', 'UsedLicenses']))
      expect(Number(l.UsedLicenses)).toBe(held.get(l.Id) ?? 0);
    // every user holds the permission set their profile owns
    const own = new Set(
      sim
        .objectRows('PermissionSetAssignment', ['AssigneeId', 'PermissionSet.IsOwnedByProfile'])
        .filter((a) => a['PermissionSet.IsOwnedByProfile'] === 'true')
        .map((a) => a.AssigneeId),
    );
    expect([...own].sort()).toEqual(sim.userIds().sort());
  }));

it('assign, unassign, totals and a deleted user change the data as Salesforce would; a duplicate is refused', () =>
  withSim({}, async (sim) => {
    const users = sim.userIds(['active']);
    const u = users[Math.floor(rnd() * users.length)];
    const count = (o: string, f: (r: Record<string, string>) => boolean) =>
      sim.objectRows(o, ['Id', 'AssigneeId']).filter(f).length;
    const already = sim
      .objectRows('PermissionSetLicenseAssign', ['AssigneeId', 'PermissionSetLicense.DeveloperName'])
      .some((r) => r.AssigneeId === u && r['PermissionSetLicense.DeveloperName'] === 'IdentityConnect');
    const id = already ? null : sim.assignPermissionSetLicense(u, 'IdentityConnect');
    expect(() => sim.assignPermissionSetLicense(u, 'IdentityConnect')).toThrow(/DUPLICATE_VALUE/);
    const usedBefore = sim
      .objectRows('PermissionSetLicense', ['DeveloperName', 'UsedLicenses'])
      .find((r) => r.DeveloperName === 'IdentityConnect')!;
    if (id) {
      sim.unassignPermissionSetLicense(id);
      const after = sim
        .objectRows('PermissionSetLicense', ['DeveloperName', 'UsedLicenses'])
        .find((r) => r.DeveloperName === 'IdentityConnect')!;
      expect(Number(after.UsedLicenses)).toBe(Number(usedBefore.UsedLicenses) - 1);
      expect(() => sim.unassignPermissionSetLicense(id)).toThrow();
    }
    sim.setLicenseTotal('SFDC', 1234);
    expect(
      sim
        .objectRows('UserLicense', ['LicenseDefinitionKey', 'TotalLicenses'])
        .find((r) => r.LicenseDefinitionKey === 'SFDC')!.TotalLicenses,
    ).toBe('1234');
    expect(() => sim.setLicenseTotal('NoSuchLicence', 1)).toThrow();
    // a deleted user's assignments are gone with them
    sim.deleteUser(u);
    expect(count('PermissionSetAssignment', (r) => r.AssigneeId === u)).toBe(0);
    expect(count('PermissionSetLicenseAssign', (r) => r.AssigneeId === u)).toBe(0);
    expect(() => sim.assignPermissionSet(u, 'Sales_Ops')).toThrow();
  }));

it('REST query pages by nextRecordsUrl until done; totalSize and the records match the org', () =>
  withSim({ restPageSize: 5 + Math.floor(rnd() * 30) }, async (sim, api) => {
    const soql =
      'SELECT Id, AssigneeId, PermissionSet.Name, PermissionSetGroup.MasterLabel FROM PermissionSetAssignment';
    const { status, pages, records } = await restAll(api, soql);
    expect(status).toBe(200);
    const want = sim.objectRows('PermissionSetAssignment', [
      'Id',
      'AssigneeId',
      'PermissionSet.Name',
      'PermissionSetGroup.MasterLabel',
    ]);
    expect(pages[0].totalSize).toBe(want.length);
    expect(pages.slice(0, -1).every((p) => p.done === false && typeof p.nextRecordsUrl === 'string')).toBe(true);
    expect(
      records.map((r: SimJson) => ({
        Id: r.Id,
        AssigneeId: r.AssigneeId,
        'PermissionSet.Name': r.PermissionSet.Name,
        'PermissionSetGroup.MasterLabel': r.PermissionSetGroup === null ? '' : r.PermissionSetGroup.MasterLabel,
      })),
    ).toEqual(want);
    expect(records[0].attributes.type).toBe('PermissionSetAssignment');
    // a batch size header asks for other pages; a locator that is not one is refused
    const big = await restAll(api, soql, { 'Sforce-Query-Options': 'batchSize=200' });
    expect(big.pages.length).toBe(Math.max(1, Math.ceil(want.length / 200)));
    const bad = await fetch(`${sim.url}/services/data/v62.0/query/01gXXXXXXXXXXXX-5`, {
      headers: { Authorization: `Bearer ${api.token}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as SimJson)[0].errorCode).toBe('INVALID_QUERY_LOCATOR');
  }));

it('REST query is strict (INVALID_FIELD, INVALID_TYPE) and writes datetimes in REST form', () =>
  withSim({}, async (_sim, api) => {
    const field = await restAll(api, 'SELECT Id, Bogus FROM UserLicense');
    expect(field.status).toBe(400);
    expect(field.body[0].errorCode).toBe('INVALID_FIELD');
    const object = await restAll(api, 'SELECT Id FROM NoSuchThing');
    expect(object.body[0].errorCode).toBe('INVALID_TYPE');
    const ok = await restAll(api, 'SELECT Id, SystemModstamp, TotalLicenses FROM UserLicense');
    expect(ok.records[0].SystemModstamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    expect(typeof ok.records[0].TotalLicenses).toBe('number');
  }));

it('the assignment objects follow their access rules: hidden without the permissions, over REST and Bulk', () =>
  withSim({ apiUserPermissions: ['ViewAllUsers'] }, async (_sim, api) => {
    for (const o of ['PermissionSetLicenseAssign', 'PermissionSetAssignment']) {
      expect((await api.json('GET', `/sobjects/${o}/describe`)).status).toBe(404);
      expect((await restAll(api, `SELECT Id FROM ${o}`)).body[0].errorCode).toBe('INVALID_TYPE');
      expect((await api.createJob(`SELECT Id FROM ${o}`)).body[0].errorCode).toBe('INVALID_TYPE');
    }
    // UserLicense and PermissionSet need no special permission
    expect((await restAll(api, 'SELECT Id FROM UserLicense')).status).toBe(200);
  }));

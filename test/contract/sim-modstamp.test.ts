/**
 * Contract: what an incremental User read relies on, as Salesforce behaves. User.SystemModstamp
 * moves on every change of a User row (a field, IsActive, a new user) and on nothing else:
 * freezing and unfreezing live on UserLogin, renaming a role changes the UserRole row only.
 * `WHERE SystemModstamp >= <datetime>` (alone or with the status filter), `SELECT Id` and
 * `WHERE Id IN (...)` work in Bulk jobs, and a statement over 100,000 characters is refused.
 * Random changes; replay with SYNC_SEED=<n>.
 */
import { startSimulator } from '../../simulator';
import type { Simulator } from '../../simulator/api';
import { seededRandom } from '../support/sync-oracle';
import { Api, passwordLogin } from './sim-client';

let sim: Simulator;
let api: Api;
beforeAll(async () => {
  sim = await startSimulator({ users: 300, logins: 100, seed: 5 });
  api = new Api(sim, await passwordLogin(sim));
});
afterAll(() => sim.close());

async function all(soql: string): Promise<Record<string, string>[]> {
  const info = await api.runJob(soql);
  expect(info.state).toBe('JobComplete');
  return api.records(info.id);
}

const stamps = async () =>
  new Map((await all('SELECT Id, SystemModstamp FROM User')).map((r) => [r.Id, r.SystemModstamp]));

describe('User.SystemModstamp', () => {
  it('moves on every User row change and only then; the incremental query returns exactly those rows', async () => {
    const rnd = seededRandom('sim-modstamp');
    const before = await stamps();
    const since = sim.now!();
    const changed = new Set<string>();
    const untouched = new Set<string>();
    const active = sim.userIds(['active']);
    for (const id of rnd.sample(active, 5)) {
      sim.updateUser(id, { Title: `T ${rnd.next()}` });
      changed.add(id);
    }
    for (const id of rnd.sample(sim.userIds(['active']), 4)) {
      if (changed.has(id)) continue;
      sim.setUserState(id, 'frozen'); // UserLogin only
      untouched.add(id);
    }
    for (const id of rnd.sample(sim.userIds(['frozen']), 3)) {
      if (changed.has(id) || untouched.has(id)) continue;
      sim.setUserState(id, 'active'); // unfreezing: UserLogin only
      untouched.add(id);
    }
    for (const id of rnd.sample(sim.userIds(['active']), 3)) {
      if (changed.has(id) || untouched.has(id)) continue;
      sim.setUserState(id, 'inactive'); // IsActive: a User row change
      changed.add(id);
    }
    for (const id of rnd.sample(sim.userIds(['inactive']), 2)) {
      if (changed.has(id) || untouched.has(id)) continue;
      sim.setUserState(id, 'active');
      changed.add(id);
    }
    const role = (await all('SELECT Id FROM UserRole'))[0].Id;
    sim.renameRole(role, `Renamed ${rnd.next()}`);
    const added = sim.addUser({ LastName: 'New' });
    changed.add(added);

    const after = await stamps();
    for (const [id, stamp] of after) {
      if (changed.has(id)) expect(stamp >= since).toBe(true);
      else expect(stamp).toBe(before.get(id));
    }
    const rows = await all(`SELECT Id, SystemModstamp FROM User WHERE SystemModstamp >= ${since}`);
    expect(new Set(rows.map((r) => r.Id))).toEqual(changed);
    // combined with the status filter
    const activeNow = await all(`SELECT Id FROM User WHERE IsActive = true AND SystemModstamp >= ${since}`);
    const wanted = [...changed].filter((id) => sim.userIds(['active', 'frozen']).includes(id));
    expect(activeNow.map((r) => r.Id).sort()).toEqual(wanted.sort());
    // the renamed role's users read the new name
    const named = await all(`SELECT Id, UserRole.Name FROM User WHERE UserRoleId = '${role}'`);
    expect(named.length).toBeGreaterThan(0);
    expect(named.every((r) => r['UserRole.Name'].startsWith('Renamed'))).toBe(true);
  });
});

describe('Id queries', () => {
  it('answers SELECT Id and WHERE Id IN (...) with exactly those users', async () => {
    const rnd = seededRandom('sim-id-in');
    const ids = (await all('SELECT Id FROM User')).map((r) => r.Id);
    expect(ids.sort()).toEqual(sim.userIds().sort());
    const some = rnd.sample(ids, 40);
    const rows = await all(`SELECT Id, Title FROM User WHERE Id IN (${some.map((i) => `'${i}'`).join(', ')})`);
    expect(rows.map((r) => r.Id).sort()).toEqual([...some].sort());
    for (const r of rows) expect(r).toEqual(sim.userRow(r.Id, ['Id', 'Title']));
  });

  it('refuses a statement longer than 100,000 characters and takes one of exactly 100,000', async () => {
    const head = "SELECT Id FROM User WHERE Id IN ('005000000000001AAA'";
    const item = ", '005000000000001AAA'";
    let q = head;
    while (q.length + item.length + 1 <= 100_000) q += item;
    const fit = `${q}${' '.repeat(100_000 - q.length - 1)})`;
    expect(fit).toHaveLength(100_000);
    expect((await api.createJob(fit)).status).toBe(200);
    const over = await api.createJob(`${fit} `);
    expect(over.status).toBe(400);
    expect(over.body).toEqual([
      expect.objectContaining({ errorCode: 'MALFORMED_QUERY', message: expect.stringContaining('100000') }),
    ]);
  });
});

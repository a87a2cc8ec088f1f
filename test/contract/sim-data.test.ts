/**
 * Contract: generated data is deterministic and realistic, CSV carries tricky values exactly,
 * ids are valid, and mutations between runs show up in later jobs (never in earlier ones).
 */
import { startSimulator } from '../../simulator';
import { Simulator } from '../../simulator/api';
import { checksum } from '../../simulator/ids';
import { Api, passwordLogin } from './sim-client';

const TRICKY = [
  'Id',
  'FirstName',
  'LastName',
  'Name',
  'Title',
  'Street',
  'City',
  'CompanyName',
  'AboutMe',
  'Signature',
  'Latitude',
  'Longitude',
  'IsActive',
  'CreatedDate',
  'UserRole.Name',
  'Manager.Name',
];

let sim: Simulator;
let api: Api;
beforeAll(async () => {
  sim = await startSimulator({ users: 2000, logins: 500, seed: 11 });
  api = new Api(sim, await passwordLogin(sim));
});
afterAll(() => sim.close());

async function all(soql: string): Promise<Record<string, string>[]> {
  const info = await api.runJob(soql);
  expect(info.state).toBe('JobComplete');
  return api.records(info.id, 700);
}

describe('generated data', () => {
  it('reads back commas, quotes, newlines and non-ASCII exactly as userRow reports them', async () => {
    const rows = await all(`SELECT ${TRICKY.join(', ')} FROM User`);
    expect(rows).toHaveLength(2000);
    for (const r of rows) expect(r).toEqual(sim.userRow(r.Id, TRICKY));
    const names = rows.map((r) => r.Name);
    expect(names).toEqual(expect.arrayContaining(['Zoë Ångström', 'José Núñez', '北京 太郎']));
    expect(rows.some((r) => r.Street.includes('\n') && r.Street.includes('"') && r.Street.includes(','))).toBe(true);
    expect(rows.some((r) => r.AboutMe.includes('\r\n'))).toBe(true);
    expect(rows.some((r) => r.Title.includes('"'))).toBe(true);
    expect(rows.some((r) => r.Title === '')).toBe(true);
    expect(rows.every((r) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/.test(r.CreatedDate))).toBe(true);
    expect(rows.some((r) => /^-?\d+\.\d+$/.test(r.Latitude))).toBe(true);
  });

  it('has realistic shares of states and user types', async () => {
    const inactive = sim.userIds(['inactive']).length / 2000;
    const frozen = sim.userIds(['frozen']).length / 2000;
    expect(inactive).toBeGreaterThan(0.06);
    expect(inactive).toBeLessThan(0.14);
    expect(frozen).toBeGreaterThan(0.01);
    expect(frozen).toBeLessThan(0.06);
    const types = new Set((await all('SELECT UserType FROM User')).map((r) => r.UserType));
    for (const t of ['Standard', 'PowerPartner', 'CspLitePortal', 'AutomatedProcess', 'Guest'])
      expect(types).toContain(t);
  });

  it('has managers and delegated approvers pointing at other users', async () => {
    const rows = await all('SELECT Id, ManagerId, DelegatedApproverId FROM User');
    const ids = new Set(rows.map((r) => r.Id));
    const managed = rows.filter((r) => r.ManagerId !== '');
    expect(managed.length).toBeGreaterThan(500);
    expect(managed.every((r) => ids.has(r.ManagerId) && r.ManagerId !== r.Id)).toBe(true);
    expect(rows.filter((r) => r.DelegatedApproverId !== '').every((r) => ids.has(r.DelegatedApproverId))).toBe(true);
  });

  it('issues valid 18-char ids with the case-safe checksum and the right prefixes', async () => {
    const logins = await all('SELECT Id, UserId, LoginTime, Status, SourceIp, Browser, CountryIso FROM LoginHistory');
    const users = await all('SELECT Id, UserRoleId, ProfileId, Profile.UserLicenseId FROM User LIMIT 50');
    const check = (id: string, prefix: string): void => {
      expect(id).toMatch(new RegExp(`^${prefix}[0-9A-Za-z]{12}[A-Z0-5]{3}$`));
      expect(id.slice(15)).toBe(checksum(id.slice(0, 15)));
    };
    for (const l of logins) {
      check(l.Id, '0Ya');
      check(l.UserId, '005');
    }
    for (const u of users) {
      check(u.ProfileId, '00e');
      check(u['Profile.UserLicenseId'], '100');
      if (u.UserRoleId) check(u.UserRoleId, '00E');
    }
    const success = logins.filter((l) => l.Status === 'Success').length / logins.length;
    expect(success).toBeGreaterThan(0.75);
    expect(success).toBeLessThan(0.95);
    const times = logins.map((l) => l.LoginTime);
    expect(times).toEqual([...times].sort());
    expect(Date.parse(times[0])).toBeLessThan(Date.parse('2026-11-01T00:00:00Z') - 150 * 86400_000);
  });

  it('is deterministic: same seed, same org; other seed, other org', async () => {
    const again = await startSimulator({ users: 2000, logins: 500, seed: 11 });
    const other = await startSimulator({ users: 2000, logins: 500, seed: 12 });
    try {
      const id = sim.userIds()[1234];
      expect(again.userRow(id, TRICKY)).toEqual(sim.userRow(id, TRICKY));
      // another org: its own org Id and record Ids (none shared), and other data at the same position
      expect(other.orgId).not.toBe(sim.orgId);
      const mine = new Set(sim.userIds());
      expect(other.userIds().filter((x) => mine.has(x))).toEqual([]);
      expect(other.userRow(other.userIds()[1234], TRICKY)).not.toEqual(sim.userRow(id, TRICKY));
    } finally {
      await again.close();
      await other.close();
    }
  });
});

describe('mutations between runs', () => {
  it('updates, state changes, deletions and additions appear in later jobs only', async () => {
    const before = await api.createJob('SELECT Id, Title, IsActive, LastModifiedDate FROM User');
    const [u1, u2, u3] = sim.userIds(['active']).slice(10, 13);
    sim.updateUser(u1, { Title: 'Chief "Quoted", Officer\nLine 2' });
    sim.setUserState(u2, 'inactive');
    sim.deleteUser(u3);
    const added = sim.addUser({ FirstName: 'Ærin', LastName: 'Neu', Title: 'New hire' });
    const loginIds = sim.addLogins(3, { userId: added });

    await api.waitJob(before.body.id);
    const old = await api.records(before.body.id);
    expect(old).toHaveLength(2000);
    expect(old.find((r) => r.Id === u3)).toBeDefined();
    expect(old.find((r) => r.Id === added)).toBeUndefined();

    const now = await all('SELECT Id, Name, Title, IsActive, LastModifiedDate FROM User');
    expect(now).toHaveLength(2000);
    const byId = new Map(now.map((r) => [r.Id, r]));
    expect(byId.get(u1)?.Title).toBe('Chief "Quoted", Officer\nLine 2');
    expect(String(byId.get(u1)?.LastModifiedDate) > String(old.find((r) => r.Id === u1)?.LastModifiedDate)).toBe(true);
    expect(byId.get(u2)?.IsActive).toBe('false');
    expect(byId.has(u3)).toBe(false);
    expect(byId.get(added)).toMatchObject({ Name: 'Ærin Neu', IsActive: 'true' });
    expect(sim.userIds(['inactive'])).toContain(u2);

    const logins = await all(`SELECT Id, UserId FROM LoginHistory WHERE UserId = '${added}'`);
    expect(logins.map((r) => r.Id)).toEqual(loginIds);
    expect(sim.loginCount()).toBe(503);
  });

  it('rejects unknown fields and users', () => {
    expect(() => sim.updateUser(sim.userIds()[0], { NoSuchField: 'x' })).toThrow(/no field/);
    expect(() => sim.updateUser('005000000000000AAA', { Title: 'x' })).toThrow(/no live user/);
    expect(() => sim.userRow(sim.userIds()[0], ['Address'])).toThrow(/compound/);
  });
});

describe('org shape', () => {
  it('drops missingUserFields from describe and refuses them in queries', async () => {
    const s2 = await startSimulator({
      users: 5,
      logins: 5,
      missingUserFields: ['FederationIdentifier', 'IndividualId'],
    });
    try {
      const a2 = new Api(s2, await passwordLogin(s2));
      const d = await a2.json('GET', '/sobjects/User/describe');
      const names = d.body.fields.map((f: { name: string }) => f.name);
      expect(names).not.toContain('FederationIdentifier');
      expect(names).not.toContain('IndividualId');
      const res = await a2.createJob('SELECT Id, FederationIdentifier FROM User');
      expect([res.status, res.body[0].errorCode]).toEqual([400, 'INVALID_FIELD']);
    } finally {
      await s2.close();
    }
  });

  it('describes fields by API version (CountryIso from 37.0, AuthMethodReference from 51.0)', async () => {
    const fieldsAt = async (v: string): Promise<string[]> => {
      const res = await api.call('GET', '/sobjects/LoginHistory/describe', undefined, {}, v);
      return ((await res.json()) as { fields: { name: string }[] }).fields.map((f) => f.name);
    };
    expect(await fieldsAt('v36.0')).not.toContain('CountryIso');
    expect(await fieldsAt('v50.0')).toEqual(expect.arrayContaining(['CountryIso']));
    expect(await fieldsAt('v50.0')).not.toContain('AuthMethodReference');
    expect(await fieldsAt('v62.0')).toContain('AuthMethodReference');
  });

  it('describes UserRole, Profile, UserLicense and UserLogin; unknown objects are 404', async () => {
    for (const o of ['UserRole', 'Profile', 'UserLicense', 'UserLogin']) {
      expect((await api.json('GET', `/sobjects/${o}/describe`)).status).toBe(200);
    }
    const nf = await api.json('GET', '/sobjects/Account/describe');
    expect(nf).toEqual({
      status: 404,
      body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }],
    });
  });
});

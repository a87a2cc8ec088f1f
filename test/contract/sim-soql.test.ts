/**
 * Contract: the SOQL subset evaluates as Salesforce does — filters, semi-joins for frozen
 * users, relationship columns, ordering, LIMIT, incremental LoginHistory windows.
 */
import { startSimulator } from '../../simulator';
import { Simulator } from '../../simulator/api';
import { Api, passwordLogin } from './sim-client';

let sim: Simulator;
let api: Api;
beforeAll(async () => {
  sim = await startSimulator({ users: 600, logins: 3000, seed: 3 });
  api = new Api(sim, await passwordLogin(sim));
});
afterAll(() => sim.close());

async function query(soql: string, extra?: Record<string, unknown>): Promise<Record<string, string>[]> {
  const info = await api.runJob(soql, extra);
  expect(info.state).toBe('JobComplete');
  const rows = await api.records(info.id, 250);
  expect(rows).toHaveLength(info.numberRecordsProcessed);
  return rows;
}

/** Reference answers computed from sim.userRow for every user. */
function usersWhere(pred: (r: Record<string, string>) => boolean, fields: string[]): string[] {
  return sim.userIds().filter((id) => pred(sim.userRow(id, fields)));
}

describe('frozen users', () => {
  it('(a) a separate UserLogin job gives IsFrozen per user', async () => {
    const rows = await query('SELECT UserId, IsFrozen, IsPasswordLocked FROM UserLogin');
    expect(rows).toHaveLength(600);
    const frozen = rows.filter((r) => r.IsFrozen === 'true').map((r) => r.UserId);
    expect(frozen).toEqual(sim.userIds(['frozen']));
    expect(frozen.length).toBeGreaterThan(5);
    const onlyFrozen = await query('SELECT UserId FROM UserLogin WHERE IsFrozen = true');
    expect(onlyFrozen.map((r) => r.UserId)).toEqual(frozen);
  });

  it('(b) semi-join and anti-join on User', async () => {
    const frozen = await query('SELECT Id FROM User WHERE Id IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)');
    expect(frozen.map((r) => r.Id)).toEqual(sim.userIds(['frozen']));
    const activeNotFrozen = await query(
      'SELECT Id FROM User WHERE IsActive = true AND Id NOT IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)',
    );
    expect(activeNotFrozen.map((r) => r.Id)).toEqual(sim.userIds(['active']));
  });

  it('follows setUserState', async () => {
    const [a] = sim.userIds(['active']);
    sim.setUserState(a, 'frozen');
    const rows = await query('SELECT Id FROM User WHERE Id IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)');
    expect(rows.map((r) => r.Id)).toContain(a);
    sim.setUserState(a, 'active');
  });

  it('semi-joins from LoginHistory to User resolve per row', async () => {
    const rows = await query(
      'SELECT Id, UserId FROM LoginHistory WHERE UserId IN (SELECT Id FROM User WHERE IsActive = false)',
    );
    const inactive = new Set(sim.userIds(['inactive']));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => inactive.has(r.UserId))).toBe(true);
  });

  it('refuses semi-joins Salesforce refuses', async () => {
    for (const q of [
      'SELECT Id FROM User WHERE Name IN (SELECT UserId FROM UserLogin)',
      'SELECT Id FROM User WHERE Id IN (SELECT Id FROM User)',
      'SELECT Id FROM User WHERE Id IN (SELECT IsFrozen FROM UserLogin)',
      'SELECT Id FROM User WHERE Id IN (SELECT UserId FROM UserLogin WHERE UserId IN (SELECT Id FROM LoginHistory))',
    ]) {
      const res = await api.createJob(q);
      expect([res.status, res.body[0].errorCode]).toEqual([400, 'MALFORMED_QUERY']);
    }
  });
});

describe('WHERE semantics', () => {
  it('compares text case-insensitively and matches nulls with !=', async () => {
    const eq = await query("SELECT Id FROM User WHERE Country = 'united kingdom'");
    expect(eq.map((r) => r.Id)).toEqual(usersWhere((r) => r.Country === 'United Kingdom', ['Country']));
    const ne = await query("SELECT Id FROM User WHERE Country != 'United Kingdom'");
    expect(ne.map((r) => r.Id)).toEqual(usersWhere((r) => r.Country !== 'United Kingdom', ['Country']));
    const isNull = await query('SELECT Id FROM User WHERE Title = null');
    expect(isNull.map((r) => r.Id)).toEqual(usersWhere((r) => r.Title === '', ['Title']));
  });

  it('handles IN, NOT IN, LIKE, NOT, OR and parentheses', async () => {
    const rows = await query(
      "SELECT Id FROM User WHERE (UserType IN ('PowerPartner', 'CspLitePortal') OR Title LIKE 'VP%') " +
        "AND NOT Department = 'Sales'",
    );
    const expected = usersWhere(
      (r) =>
        (['PowerPartner', 'CspLitePortal'].includes(r.UserType) || r.Title.toLowerCase().startsWith('vp')) &&
        r.Department !== 'Sales',
      ['UserType', 'Title', 'Department'],
    );
    expect(rows.map((r) => r.Id)).toEqual(expected);
    const notIn = await query("SELECT Id FROM User WHERE DigestFrequency NOT IN ('D')");
    expect(notIn.map((r) => r.Id)).toEqual(usersWhere((r) => r.DigestFrequency !== 'D', ['DigestFrequency']));
  });

  it("unescapes \\' in string literals", async () => {
    const rows = await query("SELECT Id, LastName FROM User WHERE LastName = 'O\\'Brien'");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.LastName === "O'Brien")).toBe(true);
  });

  it('filters on relationship paths and numbers', async () => {
    const rows = await query(
      'SELECT Id, Profile.UserLicense.LicenseDefinitionKey FROM User ' +
        "WHERE Profile.UserLicense.LicenseDefinitionKey = 'SFDC' AND Latitude > 40.5",
    );
    const expected = usersWhere(
      (r) => r['Profile.UserLicense.LicenseDefinitionKey'] === 'SFDC' && r.Latitude !== '' && Number(r.Latitude) > 40.5,
      ['Profile.UserLicense.LicenseDefinitionKey', 'Latitude'],
    );
    expect(rows.map((r) => r.Id)).toEqual(expected);
  });

  it('filters LoginHistory on LoginTime in both datetime forms, matching loginCount(since)', async () => {
    const since = '2026-09-15T12:00:00.000Z';
    const a = await query(`SELECT Id, LoginTime FROM LoginHistory WHERE LoginTime >= ${since}`);
    const b = await query('SELECT Id FROM LoginHistory WHERE LoginTime >= 2026-09-15T12:00:00.000+0000');
    expect(a).toHaveLength(sim.loginCount(since));
    expect(b.map((r) => r.Id)).toEqual(a.map((r) => r.Id));
    expect(a.every((r) => r.LoginTime >= since)).toBe(true);
    const window = await query(
      `SELECT Id FROM LoginHistory WHERE LoginTime >= ${since} AND LoginTime < 2026-10-01T00:00:00Z`,
    );
    expect(window).toHaveLength(sim.loginCount(since) - sim.loginCount('2026-10-01T00:00:00Z'));
  });

  it('supports date literals relative to the org clock', async () => {
    const rows = await query('SELECT Id FROM LoginHistory WHERE LoginTime = LAST_N_DAYS:7');
    const now = Date.parse(sim.now?.() ?? '');
    const start = new Date(Math.floor(now / 86400_000) * 86400_000 - 7 * 86400_000).toISOString();
    expect(rows).toHaveLength(sim.loginCount(start));
  });
});

describe('columns, order and limit', () => {
  it('returns relationship columns with dotted names and nulls as empty values', async () => {
    const rows = await query(
      'SELECT Id, UserRoleId, UserRole.Name, Manager.Name, Profile.UserLicense.Name FROM User LIMIT 40',
    );
    expect(rows).toHaveLength(40);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(['Id', 'UserRoleId', 'UserRole.Name', 'Manager.Name', 'Profile.UserLicense.Name']);
      expect(r['UserRole.Name'] === '').toBe(r.UserRoleId === '');
      expect(r).toEqual(
        sim.userRow(r.Id, ['Id', 'UserRoleId', 'UserRole.Name', 'Manager.Name', 'Profile.UserLicense.Name']),
      );
    }
  });

  it('accepts any case for names and answers canonical headers', async () => {
    const info = await api.runJob('select id, userrole.name from user limit 1');
    const [page] = await api.pages(info.id);
    expect(page.text.split('\n')[0]).toBe('"Id","UserRole.Name"');
  });

  it('orders by any sortable field, nulls first, with LIMIT', async () => {
    const rows = await query('SELECT Id, Title FROM User ORDER BY Title DESC, Id LIMIT 100');
    expect(rows).toHaveLength(100);
    const titles = rows.map((r) => r.Title);
    const firstNonNull = titles.findIndex((t) => t !== '');
    expect(titles.slice(0, firstNonNull).every((t) => t === '')).toBe(true);
    const rest = titles.slice(firstNonNull).map((t) => t.toLowerCase());
    expect(rest).toEqual([...rest].sort().reverse());
    const desc = await query('SELECT Id FROM LoginHistory ORDER BY LoginTime DESC LIMIT 5');
    expect(desc).toHaveLength(5);
    const asc = await query('SELECT Id FROM LoginHistory ORDER BY LoginTime');
    expect(desc.map((r) => r.Id)).toEqual(
      asc
        .slice(-5)
        .reverse()
        .map((r) => r.Id),
    );
  });

  it('narrows on Id ranges (PK-chunking style)', async () => {
    const ids = sim.userIds();
    const rows = await query(`SELECT Id FROM User WHERE Id > '${ids[99]}' AND Id <= '${ids[199].slice(0, 15)}'`);
    expect(rows.map((r) => r.Id)).toEqual(ids.slice(100, 200));
  });
});

/**
 * Which users: user types, profiles and a WHERE condition, checked against the describe and
 * printed as SOQL by code. The simulator's own SOQL parser (a separate implementation) reads the
 * printed query back: random text values full of quotes and backslashes select exactly the user
 * that holds them (no injection). Login events are only those of the imported users.
 */
import type { Simulator } from '../../../../simulator/api';
import { drain, extractor, realNow, startSim } from './sim-helpers';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSim({ users: 120, logins: 600, now: realNow() });
});
afterAll(() => sim.close());

const ids = (rows: Record<string, string>[]) => rows.map((r) => r.Id).sort();

describe('user filters', () => {
  it('leaves out user types, naming them as Salesforce does', async () => {
    const out = ['AutomatedProcess', 'Guest', 'CloudIntegrationUser'];
    const got = await drain(extractor(sim, { userFilter: { excludeUserTypes: out } }).users());
    expect(got.error).toBeUndefined();
    const truth = sim.userIds().filter((id) => !out.includes(sim.userRow(id, ['UserType']).UserType));
    expect(ids(got.rows)).toEqual(truth);
    expect(truth.length).toBeLessThan(sim.userIds().length);
  });

  it('keeps only some profiles and a WHERE condition, AND-ed with the status filter', async () => {
    const profile = sim.userRow(sim.userIds()[10], ['Profile.Name'])['Profile.Name'];
    const where = "(Department = 'Sales' OR Department = 'Engineering') AND NOT (Title LIKE '%Intern%')";
    const got = await drain(
      extractor(sim, { userStatuses: ['active', 'frozen'], userFilter: { profiles: [profile], where } }).users(),
    );
    expect(got.error).toBeUndefined();
    const truth = sim.userIds(['active', 'frozen']).filter((id) => {
      const r = sim.userRow(id, ['Profile.Name', 'Department', 'Title']);
      return (
        r['Profile.Name'] === profile &&
        ['sales', 'engineering'].includes(r.Department.toLowerCase()) &&
        !/intern/i.test(r.Title)
      );
    });
    expect(ids(got.rows)).toEqual(truth);
  });

  it('random text values with quotes and backslashes select exactly their user (replay with SEED)', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 100000);
    let x = seed;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = ["'", '\\', '"', ' ', 'a', 'Z', '%', '_', ')', '(', 'OR', ' Id != null', '\n', 'ö'];
    const users = sim.userIds();
    for (let i = 0; i < 8; i++) {
      const value =
        `q${i}` +
        Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(
          '',
        );
      const target = users[Math.floor(rnd() * users.length)];
      sim.updateUser(target, { CompanyName: value });
      const where = `CompanyName = '${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
      const got = await drain(extractor(sim, { userFilter: { where } }).users());
      expect({ seed, value, error: got.error?.message, ids: ids(got.rows) }).toEqual({
        seed,
        value,
        error: undefined,
        ids: [target],
      });
    }
  });

  it.each([
    ["Nickname__x = 'a'", /Nickname__x is not a field in this org's describe at character 1/],
    ["Department = 'a' AND Title = 'b' OR Alias = 'c'", /AND and OR mixed without parentheses at character 34/],
    ['Id IN (SELECT UserId FROM UserLogin)', /expected a literal .* got "SELECT"/],
    ["Department = 'a'; DELETE", /unexpected ";"/],
    ['IsActive = 1', /= 1 does not fit IsActive \(boolean\)/],
    ["AboutMe = 'x'", /AboutMe cannot be filtered on/],
    ["CreatedDate > 'yesterday'", /does not fit CreatedDate \(datetime\)/],
    ["Department = 'unterminated", /unterminated text literal/],
  ])('refuses %j, naming the problem and the position', async (where, message) => {
    // A valid one works.
    const got = await drain(extractor(sim, { userFilter: { where: 'Department != null' } }).users());
    expect(got.error).toBeUndefined();
    const bad = await (async () => {
      try {
        const ex = extractor(sim, { userFilter: { where } });
        return (await drain(ex.users())).error;
      } catch (err) {
        return err as Error;
      }
    })();
    expect(bad?.message).toMatch(message);
    expect((bad as { code?: string })?.code).toBe('CONFIG_INVALID');
  });

  it('date literals and datetimes: LAST_N_DAYS and an ISO instant', async () => {
    const got = await drain(
      extractor(sim, {
        userFilter: { where: 'CreatedDate < LAST_N_DAYS:1 AND LastModifiedDate > 2000-01-01T00:00:00Z' },
      }).users(),
    );
    expect(got.error).toBeUndefined();
    expect(got.rows.length).toBeGreaterThan(0);
  });

  it("an unknown user type is refused with the org's values", async () => {
    const got = await drain(extractor(sim, { userFilter: { excludeUserTypes: ['Robot'] } }).users());
    expect(got.error?.message).toMatch(
      /userFilter\.excludeUserTypes: "Robot" is not a UserType of this org; its values: Standard, /,
    );
  });
});

describe('login events only for imported users', () => {
  it.each([
    ['a user filter', { userFilter: { excludeUserTypes: ['AutomatedProcess', 'Guest'] } }],
    ['status active only (frozen told apart with UserLogin)', { userStatuses: ['active'] }],
    ['status frozen only', { userStatuses: ['frozen'] }],
    ['status inactive only', { userStatuses: ['inactive'] }],
  ])('with %s', async (_name, opts) => {
    const all = await drain(extractor(sim).logins(null));
    const ex = extractor(sim, opts);
    const users = await drain(ex.users());
    const logins = await drain(ex.logins(null));
    expect(logins.error).toBeUndefined();
    const imported = new Set(ids(users.rows));
    const truth = all.rows
      .filter((r) => imported.has(r.UserId))
      .map((r) => r.Id)
      .sort();
    expect(logins.rows.map((r) => r.Id).sort()).toEqual(truth);
    expect(truth.length).toBeGreaterThan(0);
  });
});

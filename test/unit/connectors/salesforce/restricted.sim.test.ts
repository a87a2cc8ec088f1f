/**
 * A restricted integration user degrades, never deletes: against the minimal org (User only,
 * 20 fields, API 58) and against orgs where only LoginHistory or only UserLogin is missing.
 * The source of truth is the simulator's own data (userIds, userRow).
 */
import { FROZEN_KEY, PASSWORD_LOCKED_KEY } from '../../../../connectors/salesforce/fields';
import type { Simulator, SimulatorOptions } from '../../../../simulator/api';
import { MINIMAL_ORG, MINIMAL_USER_FIELDS } from '../../../../simulator/presets';
import { byId, drain, extractor, memoryLogger, startSim } from './sim-helpers';

async function withSim(opts: SimulatorOptions, fn: (sim: Simulator) => Promise<void>): Promise<void> {
  const sim = await startSim({ users: 40, logins: 60, ...opts });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

describe('the minimal org (User only, 20 fields, API 58, no user-administration permission)', () => {
  it('imports every user with the fields the org has, without login events, and says what is off', () =>
    withSim(MINIMAL_ORG, async (sim) => {
      const { logger, lines } = memoryLogger();
      const ex = extractor(sim, {}, { logger });
      const info = await ex.connect();
      expect(info.apiVersion).toBe('58.0');
      expect(info.features.loginHistory).toEqual({
        enabled: false,
        reason: expect.stringContaining('"Manage Users" or "Monitor Login History"'),
      });
      expect(info.features.userLogin).toEqual({ enabled: false, reason: expect.stringContaining('"Manage Users"') });
      expect(info.userFields.sort()).toEqual([...MINIMAL_USER_FIELDS].sort());

      const users = await drain(ex.users());
      expect(users.error).toBeUndefined();
      expect(users.rows.map((r) => r.Id).sort()).toEqual(sim.userIds());
      for (const row of users.rows.sort(byId)) {
        expect(row).toEqual(sim.userRow(row.Id, MINIMAL_USER_FIELDS)); // no frozen/locked keys: unknown, not false
      }
      expect(users.result!.unknownFields).toEqual([FROZEN_KEY, PASSWORD_LOCKED_KEY]);

      const logins = await drain(ex.logins(null));
      expect(logins.error).toBeUndefined();
      expect(logins.rows).toEqual([]);
      expect(logins.result).toMatchObject({
        skipped: expect.stringContaining('Monitor Login History'),
        cursor: null,
        watermark: null,
      });
      // the connector's calls never touched the hidden objects with a query
      expect(sim.requests.filter((r) => r.method === 'POST' && r.path.includes('/jobs/query')).length).toBe(1);
      const warned = lines
        .filter((l) => l.level === 'warn')
        .map((l) => l.msg)
        .join('\n');
      expect(warned).toContain('58.0');
      expect(warned).toContain('LoginHistory');
      expect(warned).toContain('UserLogin');
    }));

  it('keeps the committed watermark when LoginHistory is off', () =>
    withSim(MINIMAL_ORG, async (sim) => {
      const cursor = { watermark: '2026-10-01T00:00:00.000Z', recentIds: ['0Ya000000000001AAA'] };
      const logins = await drain(extractor(sim).logins(cursor));
      expect(logins.result).toMatchObject({ cursor, watermark: new Date(cursor.watermark) });
    }));

  it.each([[['active']], [['frozen']], [['active', 'inactive']]])(
    'refuses userStatus %j: only UserLogin tells active from frozen',
    (statuses) =>
      withSim(MINIMAL_ORG, async (sim) => {
        const got = await drain(extractor(sim, { userStatuses: statuses }).users());
        expect(got.rows).toEqual([]);
        expect(got.error).toMatchObject({
          code: 'SALESFORCE_PERMISSION_MISSING',
          message: expect.stringContaining('"Manage Users"'),
        });
      }),
  );

  it.each([
    [
      ['active', 'frozen'],
      ['active', 'frozen'],
    ],
    [['inactive'], ['inactive']],
  ] as const)('imports userStatus %j without UserLogin (decidable from IsActive)', (statuses, states) =>
    withSim(MINIMAL_ORG, async (sim) => {
      const got = await drain(extractor(sim, { userStatuses: [...statuses] }).users());
      expect(got.error).toBeUndefined();
      expect(got.rows.map((r) => r.Id).sort()).toEqual(sim.userIds([...states]));
    }),
  );

  it('loginHistory: enabled refuses to run, naming the permission', () =>
    withSim(MINIMAL_ORG, async (sim) => {
      await expect(extractor(sim, { loginHistory: 'enabled' }).connect()).rejects.toMatchObject({
        code: 'SALESFORCE_PERMISSION_MISSING',
        message: expect.stringMatching(/"Manage Users" or "Monitor Login History".*loginHistory: auto/),
      });
    }));
});

describe('partial permissions', () => {
  it('Monitor Login History only: login events read, frozen flags unknown', () =>
    withSim({ apiUserPermissions: ['MonitorLoginHistory'] }, async (sim) => {
      const ex = extractor(sim);
      const info = await ex.connect();
      expect(info.features).toEqual({
        loginHistory: { enabled: true },
        userLogin: { enabled: false, reason: expect.any(String) },
      });
      const logins = await drain(ex.logins(null));
      expect(logins.error).toBeUndefined();
      expect(logins.rows.length).toBe(sim.loginCount(logins.result!.since.toISOString()));
      const users = await drain(ex.users());
      expect(users.rows.map((r) => r.Id).sort()).toEqual(sim.userIds());
      expect(users.rows.every((r) => !(FROZEN_KEY in r))).toBe(true);
    }));

  it('loginHistory: disabled never reads LoginHistory, even when allowed', () =>
    withSim({}, async (sim) => {
      const ex = extractor(sim, { loginHistory: 'disabled' });
      const info = await ex.connect();
      expect(info.features.loginHistory).toEqual({ enabled: false, reason: 'loginHistory: disabled in the config' });
      expect(info.features.userLogin).toEqual({ enabled: true });
      expect((await drain(ex.logins(null))).rows).toEqual([]);
      const users = await drain(ex.users());
      expect(
        users.rows
          .filter((r) => r[FROZEN_KEY] === 'true')
          .map((r) => r.Id)
          .sort(),
      ).toEqual(sim.userIds(['frozen']));
      expect(sim.requests.some((r) => r.path.includes('LoginHistory'))).toBe(false);
    }));
});

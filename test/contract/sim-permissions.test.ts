/**
 * Contract: what a restricted integration user sees, as Salesforce shows it: objects it has no
 * permission for are invisible (describe 404, SOQL INVALID_TYPE), an org on an older release
 * serves only its API versions, and an org can expose only some fields.
 */
import { startSimulator } from '../../simulator';
import type { Simulator, SimulatorOptions } from '../../simulator/api';
import { MINIMAL_ORG, MINIMAL_USER_FIELDS } from '../../simulator/presets';
import { Api, passwordLogin } from './sim-client';

async function withSim<T>(
  opts: SimulatorOptions,
  fn: (sim: Simulator, api: Api) => Promise<T>,
  version = 'v58.0',
): Promise<T> {
  const sim = await startSimulator({ users: 20, logins: 30, ...opts });
  try {
    return await fn(sim, new Api(sim, await passwordLogin(sim), version));
  } finally {
    await sim.close();
  }
}

const invalidType = expect.objectContaining({ errorCode: 'INVALID_TYPE' });

describe('the minimal org (User only, 20 fields, API 58)', () => {
  it('serves API versions up to 58.0 only', () =>
    withSim(MINIMAL_ORG, async (sim, api) => {
      const list = (await (await fetch(`${sim.url}/services/data`)).json()) as { version: string }[];
      expect(list[list.length - 1].version).toBe('58.0');
      expect((await api.json('GET', '/limits')).status).toBe(200);
      const newer = await new Api(sim, api.token, 'v59.0').json('GET', '/limits');
      expect(newer).toEqual({
        status: 404,
        body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }],
      });
    }));

  it('lists and describes only User, with its 20 fields', () =>
    withSim(MINIMAL_ORG, async (_sim, api) => {
      const global = await api.json('GET', '/sobjects');
      expect(global.body.sobjects.map((o: { name: string }) => o.name)).toEqual(['User']);
      const user = await api.json('GET', '/sobjects/User/describe');
      expect(user.body.fields.map((f: { name: string }) => f.name).sort()).toEqual([...MINIMAL_USER_FIELDS].sort());
      for (const o of ['LoginHistory', 'UserLogin', 'UserRole', 'Profile']) {
        expect(await api.json('GET', `/sobjects/${o}/describe`)).toEqual({
          status: 404,
          body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }],
        });
      }
    }));

  it('refuses queries on hidden objects and fields as Salesforce does', () =>
    withSim(MINIMAL_ORG, async (_sim, api) => {
      for (const q of [
        'SELECT Id FROM LoginHistory',
        'SELECT UserId, IsFrozen FROM UserLogin',
        'SELECT Id FROM User WHERE Id IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)',
      ]) {
        const res = await api.createJob(q);
        expect([q, res.status]).toEqual([q, 400]);
        expect(res.body).toEqual([invalidType]);
      }
      const hiddenField = await api.createJob('SELECT Id, AboutMe FROM User');
      expect(hiddenField.status).toBe(400);
      expect(hiddenField.body[0].errorCode).toBe('INVALID_FIELD');
      const ok = await api.runJob(`SELECT ${MINIMAL_USER_FIELDS.join(', ')} FROM User`);
      expect(ok.state).toBe('JobComplete');
    }));
});

describe('object permissions of the API user', () => {
  it.each<[string, SimulatorOptions['apiUserPermissions'], boolean, boolean]>([
    ['Manage Users', ['ManageUsers'], true, true],
    ['Monitor Login History', ['MonitorLoginHistory'], true, false],
    ['View All Users', ['ViewAllUsers'], false, false],
    ['none', [], false, false],
  ])('with %s', (_n, perms, loginHistory, userLogin) =>
    withSim(
      { apiUserPermissions: perms },
      async (_sim, api) => {
        expect((await api.json('GET', '/sobjects/User/describe')).status).toBe(200);
        expect((await api.json('GET', '/sobjects/LoginHistory/describe')).status).toBe(loginHistory ? 200 : 404);
        expect((await api.json('GET', '/sobjects/UserLogin/describe')).status).toBe(userLogin ? 200 : 404);
        expect((await api.createJob('SELECT Id FROM LoginHistory')).status).toBe(loginHistory ? 200 : 400);
        expect((await api.createJob('SELECT UserId FROM UserLogin')).status).toBe(userLogin ? 200 : 400);
      },
      'v62.0',
    ),
  );
});

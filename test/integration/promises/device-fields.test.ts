import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { connectorFor, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';
import { deviceOf, expectedDevices, NO_DEVICE, seededRandom } from '../../support/sync-oracle';

/**
 * Promise 1: absence of news erases nothing. Every users-topic record is the user's full current
 * state: a user republished in a run that saw no new login for them (an edit, a full republish)
 * still carries the device fields of their latest successful login, as the org's data says.
 */
let sim: Simulator;
let connector: Connector;
afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

function everyLogin(s: ConnectorSettings): ConnectorSettings {
  // the whole generated history is read, so the oracle is "the latest successful login in the org"
  return { ...s, salesforce: { ...s.salesforce, loginLookbackDays: 3650 } };
}

async function expectDevicesAsInOrg(settings: ConnectorSettings): Promise<void> {
  const latest = await latestUsers(settings.topics.users, connector.codecs.users);
  const expected = expectedDevices(sim);
  const wrong = sim
    .userIds(['active'])
    .filter((id) => JSON.stringify(deviceOf(latest.get(id))) !== JSON.stringify(expected.get(id) ?? NO_DEVICE));
  expect(wrong.map((id) => ({ id, got: deviceOf(latest.get(id)), want: expected.get(id) ?? NO_DEVICE }))).toEqual([]);
}

it('users edited, fully republished or with a new login keep the device of their latest successful login', async () => {
  const rnd = seededRandom('device fields');
  sim = await startOrg({ users: 80, logins: 1500, seed: 1 + Math.floor(rnd.next() * 1000) });
  const settings = everyLogin(settingsFor(sim, {}, ['active']));
  connector = await connectorFor(settings);
  expect((await connector.sync()).status).toBe('succeeded');
  await expectDevicesAsInOrg(settings);

  // edits of users who log in no more: republished, their device must stay
  const withDevice = [...expectedDevices(sim).keys()].filter((id) => sim.userIds(['active']).includes(id));
  for (const id of rnd.sample(withDevice, 10)) sim.updateUser(id, { Title: `Edited ${rnd.next().toFixed(6)}` });
  // a few new logins for others
  for (const id of rnd.sample(withDevice, 3)) sim.addLogins(1, { userId: id });
  const edited = await connector.sync();
  expect(edited.status).toBe('succeeded');
  expect(edited.usersPublished).toBeGreaterThanOrEqual(10);
  await expectDevicesAsInOrg(settings);

  const full = await connector.sync({ fullRepublish: true });
  expect(full).toMatchObject({ status: 'succeeded', usersUnchanged: 0 });
  await expectDevicesAsInOrg(settings);
});

it('a login visible while its user was unselected gives them its device when they return in the overlap', async () => {
  const rnd = seededRandom('device of a returning user');
  sim = await startOrg({ users: 30, logins: 200, seed: 1 + Math.floor(rnd.next() * 1000) });
  const settings = everyLogin(settingsFor(sim, {}, ['active']));
  connector = await connectorFor(settings);
  const first = await connector.sync();
  expect(first.status).toBe('succeeded');
  const x = rnd.pick(sim.userIds(['active']));
  sim.setUserState(x, 'inactive');
  expect((await connector.sync()).status).toBe('succeeded'); // x tombstoned
  // Late-visible: LoginTime a few minutes before the watermark (inside the one-hour overlap); the
  // run that sees it does not select x, so neither the event nor the device is published then.
  const w = Date.parse(first.loginHistoryWatermark!);
  const success = (id: string) => sim.loginRows(['Id', 'Status']).some((r) => r.Id === id && r.Status === 'Success');
  let late = '';
  for (let k = 0; k < 50 && !success(late); k++) {
    const at = new Date(w - (5 + Math.floor(rnd.next() * 40)) * 60_000).toISOString();
    [late] = sim.addLogins(1, { userId: x, at });
  }
  expect(success(late)).toBe(true);
  expect((await connector.sync()).status).toBe('succeeded');
  expect((await latestUsers(settings.topics.users, connector.codecs.users)).get(x)).toBeUndefined();
  // x comes back: the next run reads the event (inside the overlap, never read before) as x's
  sim.setUserState(x, 'active');
  expect((await connector.sync()).status).toBe('succeeded');
  const rec = (await latestUsers(settings.topics.users, connector.codecs.users)).get(x);
  // the latest successful login of x among the events inside the window (the late one among them)
  const inWindow = sim
    .loginRows(['Id', 'UserId', 'Status', 'LoginTime'])
    .filter((r) => r.UserId === x && r.Status === 'Success' && Date.parse(r.LoginTime) >= w - 3_600_000)
    .map((r) => Date.parse(r.LoginTime));
  expect(deviceOf(rec).deviceLoginAt).toBe(Math.max(...inWindow));
});

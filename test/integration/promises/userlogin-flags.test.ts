import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { connectorFor, latestUsers, realNow, settingsFor, startOrg } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';

/**
 * Issue 14, point 2: a restricted integration user degrades, never deletes. A run that cannot
 * read UserLogin (no Manage Users) does not know who is frozen or password-locked: every user it
 * republishes keeps the isFrozen / isPasswordLocked / status the users topic last carried, never
 * null or a wrong 'active'. A user never seen with known flags keeps null (unknown).
 */
const sims: Simulator[] = [];
let connector: Connector;
afterEach(async () => {
  await connector?.close();
  for (const s of sims.splice(0)) await s.close();
});

const STATUSES = ['active', 'inactive', 'frozen'];

it("a run without UserLogin keeps each user's last known frozen / locked flags and status", async () => {
  const rnd = seededRandom('userlogin flags');
  const seed = 1 + Math.floor(rnd.next() * 1000);
  const now = realNow(); // both simulators of the org start at the same logical clock: same rows
  const before = await startOrg({ users: 60, logins: 200, seed, now });
  sims.push(before);
  const toFreeze = rnd.sample(before.userIds(['active']), 5);
  for (const id of toFreeze) before.setUserState(id, 'frozen');
  const settings = settingsFor(before, {}, STATUSES);
  connector = await connectorFor(settings);
  expect((await connector.sync()).status).toBe('succeeded');
  const first = await latestUsers(settings.topics.users, connector.codecs.users);
  const frozen = before.userIds(['frozen']);
  expect(frozen.length).toBeGreaterThanOrEqual(5);
  for (const id of frozen) expect(first.get(id)).toMatchObject({ isFrozen: true, status: 'frozen' });

  // the same org, after the integration user lost Manage Users (UserLogin unreadable), with the
  // same frozen users, and an edit to every user so that all of them are republished
  const after = await startOrg({
    users: 60,
    logins: 200,
    seed,
    now,
    credentials: before.credentials,
    apiUserPermissions: ['ViewAllUsers', 'MonitorLoginHistory'],
  });
  sims.push(after);
  expect(after.orgId).toBe(before.orgId);
  for (const id of toFreeze) after.setUserState(id, 'frozen');
  expect(after.userIds(['frozen']).sort()).toEqual([...frozen].sort());
  const moved: ConnectorSettings = { ...settings, salesforce: { ...settings.salesforce, loginUrl: after.url } };
  await connector.close();
  connector = await connectorFor(moved);

  // unchanged users are not republished just because the flags are unknown now
  const quiet = await connector.sync();
  expect(quiet).toMatchObject({ status: 'succeeded', usersPublished: 0, usersTombstoned: 0 });

  for (const id of after.userIds()) after.updateUser(id, { Title: `Edited ${rnd.next().toFixed(6)}` });
  const run = await connector.sync();
  expect(run).toMatchObject({ status: 'succeeded', usersTombstoned: 0 });
  expect(run.usersPublished).toBe(after.userIds().length);

  const latest = await latestUsers(settings.topics.users, connector.codecs.users);
  const flags = (u: Record<string, unknown> | undefined) =>
    u && { isFrozen: u.isFrozen, isPasswordLocked: u.isPasswordLocked, status: u.status };
  // the org's data: frozen users are frozen; inactive beats frozen; everyone else as run 1 saw them
  const inactive = after.userIds(['inactive']);
  const truth = (id: string) => (inactive.includes(id) ? 'inactive' : frozen.includes(id) ? 'frozen' : 'active');
  const wrong = after.userIds().filter((id) => {
    const u = latest.get(id);
    if (!u || u.status !== truth(id) || (frozen.includes(id) && u.isFrozen !== true)) return true;
    return JSON.stringify(flags(u)) !== JSON.stringify(flags(first.get(id)));
  });
  const report = (id: string) => ({
    id,
    got: flags(latest.get(id)),
    before: flags(first.get(id)),
    frozen: frozen.includes(id),
  });
  expect(wrong.map(report)).toEqual([]);
  expect(latest.get(toFreeze[0])?.title).toMatch(/^Edited/);

  // a user this connector never saw with known flags stays unknown
  const added = after.addUser({ IsActive: true });
  expect((await connector.sync()).status).toBe('succeeded');
  const last = await latestUsers(settings.topics.users, connector.codecs.users);
  expect(flags(last.get(added))).toEqual({ isFrozen: null, isPasswordLocked: null, status: 'active' });
});

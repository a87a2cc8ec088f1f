import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { allRecords, connectorFor, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';

/**
 * Promise 4: the deletion guard protects small orgs too. The small-org allowance never lets a
 * run delete half or more of the live users; the override is one run's flag, never a setting;
 * a refusal keeps the LoginHistory progress, so the refused run's events are not read and
 * published again by every following run.
 */
let sim: Simulator;
let connector: Connector;
afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

const tombstones = async (s: ConnectorSettings) => (await allRecords(s.topics.users)).filter((r) => r.value === null);

it('small org: deleting half or more of its users is refused, any allowance; the flag lets one run pass', async () => {
  const rnd = seededRandom('small org guard');
  sim = await startOrg({ users: 4 + Math.floor(rnd.next() * 6), logins: 50 });
  // an override in the settings (as a config file would give) is not a one-run flag: ignored
  const settings = settingsFor(sim, { guard: { maxShare: 0.25, alwaysAllowUpTo: 5, override: true } }, [
    'active',
    'inactive',
    'frozen',
  ]);
  connector = await connectorFor(settings);
  expect((await connector.sync()).status).toBe('succeeded');
  const all = sim.userIds();
  const gone = rnd.sample(all, Math.ceil(all.length / 2));
  for (const id of gone) sim.deleteUser(id);

  const refused = await connector.sync();
  expect(refused).toMatchObject({ status: 'failed', usersTombstoned: 0, usersToDelete: gone.length });
  expect(refused.error?.code).toBe('DELETION_GUARD');
  expect(await tombstones(settings)).toEqual([]);
  expect([...(await latestUsers(settings.topics.users, connector.codecs.users)).keys()].sort()).toEqual(
    [...all].sort(),
  );

  const allowed = await connector.sync({ allowMassDelete: true });
  expect(allowed).toMatchObject({ status: 'succeeded', usersTombstoned: gone.length });
  // the flag was for that run only
  const more = sim.userIds();
  for (const id of more.slice(0, Math.ceil(more.length / 2))) sim.deleteUser(id);
  expect((await connector.sync()).error?.code).toBe('DELETION_GUARD');
});

it('a refused run keeps the LoginHistory progress: its events are published once, not by every later run', async () => {
  const rnd = seededRandom('guard keeps login progress');
  sim = await startOrg({ users: 40, logins: 300 });
  const settings = settingsFor(sim, {}, ['active', 'inactive', 'frozen']);
  connector = await connectorFor(settings);
  const first = await connector.sync();
  expect(first.status).toBe('succeeded');
  const added = sim.addLogins(5 + Math.floor(rnd.next() * 20));
  for (const id of rnd.sample(sim.userIds(), 25)) sim.deleteUser(id);

  const refused = await connector.sync();
  expect(refused.error?.code).toBe('DELETION_GUARD');
  expect(refused.loginEventsPublished).toBe(added.length);
  const again = await connector.sync();
  expect(again.error?.code).toBe('DELETION_GUARD');
  expect(again.loginEventsPublished).toBe(0);

  const allowed = await connector.sync({ allowMassDelete: true });
  expect(allowed).toMatchObject({ status: 'succeeded', usersTombstoned: 25, loginEventsPublished: 0 });
  const keys = (await allRecords(settings.topics.logins)).map((r) => r.key);
  expect(keys.length).toBe(new Set(keys).size); // each event once
  expect(keys.length).toBe(first.loginEventsPublished + added.length);
});

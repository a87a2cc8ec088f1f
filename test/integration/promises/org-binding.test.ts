import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { allRecords, connectorFor, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';
import { uniqueName } from '../../support/services';
import { seededRandom } from '../../support/sync-oracle';

/**
 * Promise 2: one connector, one org. The run state and the live users are bound to the org Id; a
 * run that reaches another org refuses before it publishes or deletes anything, names both Ids
 * and how to re-point, whatever the deletion guard allows. The first org's users are never
 * tombstoned by the second org's run.
 */
const sims: Simulator[] = [];
const connectors: Connector[] = [];
afterEach(async () => {
  for (const c of connectors.splice(0)) await c.close();
  for (const s of sims.splice(0)) await s.close();
});

async function org(seed: number): Promise<Simulator> {
  const sim = await startOrg({ users: 12, logins: 200, seed });
  sims.push(sim);
  return sim;
}

async function connector(s: ConnectorSettings): Promise<Connector> {
  const c = await connectorFor(s);
  connectors.push(c);
  return c;
}

/** org B's credentials and URL under org A's connector name and topics; the guard wide open. */
function pointedAt(a: ConnectorSettings, b: Simulator, over: Partial<ConnectorSettings> = {}): ConnectorSettings {
  const s = settingsFor(b, {}, ['active', 'inactive', 'frozen']);
  return { ...a, salesforce: s.salesforce, guard: { maxShare: 1, alwaysAllowUpTo: 1000, override: true }, ...over };
}

it('a run reaching another org refuses before publishing, naming both Ids; reset re-points it on purpose', async () => {
  const rnd = seededRandom('org binding');
  const seedA = 1 + Math.floor(rnd.next() * 1000);
  const a = await org(seedA);
  const b = await org(seedA + 1 + Math.floor(rnd.next() * 1000));
  expect(b.orgId).not.toBe(a.orgId);
  const idsA = new Set(a.userIds());
  expect(b.userIds().filter((id) => idsA.has(id))).toEqual([]); // real Ids are unique across orgs

  const settingsA = settingsFor(a, {}, ['active', 'inactive', 'frozen']);
  const first = await (await connector(settingsA)).sync();
  expect(first.status).toBe('succeeded');
  const before = await allRecords(settingsA.topics.users);
  const loginsBefore = (await allRecords(settingsA.topics.logins)).length;

  const wrong = await connector(pointedAt(settingsA, b));
  const refused = await wrong.sync({ allowMassDelete: true, fullRepublish: true });
  expect(refused.status).toBe('failed');
  expect(refused.error?.code).toBe('ORG_MISMATCH');
  expect(refused.error?.message).toContain(a.orgId);
  expect(refused.error?.message).toContain(b.orgId);
  expect(refused.error?.message).toContain(`connector reset --config <file> --org ${b.orgId}`);
  // nothing published, nothing deleted
  expect(await allRecords(settingsA.topics.users)).toHaveLength(before.length);
  expect(await allRecords(settingsA.topics.logins)).toHaveLength(loginsBefore);

  // the same with a fresh state topic: the users it published still bind the connector to org A
  const noState = await connector(
    pointedAt(settingsA, b, { topics: { ...settingsA.topics, state: `${uniqueName('st')}.state` } }),
  );
  const refusedToo = await noState.sync({ allowMassDelete: true });
  expect(refusedToo.error?.code).toBe('ORG_MISMATCH');
  expect(await allRecords(settingsA.topics.users)).toHaveLength(before.length);

  // re-pointed on purpose: org B's users are published, org A's are left alone (not tombstoned)
  await wrong.reset(b.orgId);
  const repointed = await wrong.sync();
  expect(repointed).toMatchObject({ status: 'succeeded', usersTombstoned: 0 });
  const latest = await latestUsers(settingsA.topics.users, wrong.codecs.users);
  expect([...latest.keys()].sort()).toEqual([...a.userIds(), ...b.userIds()].sort());
  // and the old org is now the stranger
  const back = await connector(pointedAt(settingsA, a));
  expect((await back.sync()).error?.code).toBe('ORG_MISMATCH');
});

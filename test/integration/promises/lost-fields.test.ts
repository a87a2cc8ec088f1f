import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { indexTopicOf } from '../../../pipeline/kafka/live-index';
import { allRecords, connectorFor, kafkaClient, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';
import { publishAsFailedRun } from '../../support/failed-run';
import { seededRandom } from '../../support/sync-oracle';

/**
 * Promise 7: a field that disappears from the describe (a permission change) does not silently
 * null that attribute for every user. The rule: such a run is held back, like a mass deletion,
 * naming the fields; --allow-field-loss lets one run through. Held back means nothing written:
 * not a record, not an entry of the live index (a failed run left a user in the topic's tail, whose
 * entry the next run keeps: only a run that goes on may write it).
 */
const sims: Simulator[] = [];
let connector: Connector;
afterEach(async () => {
  await connector?.close();
  for (const s of sims.splice(0)) await s.close();
});

it('a run that cannot read a field the last run read publishes nothing; the flag lets one run through', async () => {
  const rnd = seededRandom('lost fields');
  const seed = 1 + Math.floor(rnd.next() * 1000);
  const field = rnd.pick(['FederationIdentifier', 'IndividualId']);
  const before = await startOrg({ users: 30, logins: 100, seed });
  sims.push(before);
  const settings = settingsFor(before, {}, ['active', 'inactive', 'frozen']);
  connector = await connectorFor(settings);
  expect((await connector.sync()).status).toBe('succeeded');

  // the same org, after the integration user lost access to one field
  const after = await startOrg({
    users: 30,
    logins: 100,
    seed,
    missingUserFields: [field],
    credentials: before.credentials,
  });
  sims.push(after);
  expect(after.orgId).toBe(before.orgId);
  const moved: ConnectorSettings = { ...settings, salesforce: { ...settings.salesforce, loginUrl: after.url } };
  await connector.close();
  connector = await connectorFor(moved);
  // a run that published a user and failed before its commit: the next run's tail holds that key
  const kafka = kafkaClient();
  let sample: { key: Buffer; value: Buffer | null } | null = null;
  await readToEnd(kafka, settings.topics.users, (m) => {
    if (m.key && m.value) sample ??= { key: m.key, value: m.value };
  });
  await publishAsFailedRun(kafka, settings.topics.users, sample!, {
    connectorName: settings.connectorName,
    orgId: before.orgId,
  });
  const ends = (await allRecords(settings.topics.users)).length;
  const indexEnds = (await allRecords(indexTopicOf(settings.topics.users))).length;
  const held = await connector.sync({ fullRepublish: true });
  expect(held.status).toBe('failed');
  expect(held.error?.code).toBe('FIELDS_LOST');
  expect(held.error?.message).toContain(`User.${field}`);
  expect(held.error?.message).toContain('--allow-field-loss');
  expect(await allRecords(settings.topics.users)).toHaveLength(ends);
  expect(await allRecords(indexTopicOf(settings.topics.users))).toHaveLength(indexEnds);

  const allowed = await connector.sync({ allowFieldLoss: true });
  expect(allowed).toMatchObject({ status: 'succeeded', usersTombstoned: 0 });
  const target = field === 'FederationIdentifier' ? 'federationIdentifier' : 'individualId';
  const latest = await latestUsers(settings.topics.users, connector.codecs.users);
  expect([...latest.values()].filter((u) => u[target] !== null)).toEqual([]);
  // from now on the field's absence is the norm
  expect((await connector.sync()).status).toBe('succeeded');
});

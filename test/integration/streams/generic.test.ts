import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { createExtractor } from '../../../connectors/salesforce';
import { silentLogger } from '../../../kernel/logger';
import { mulberry32 } from '../../../simulator/prng';
import { connectorFor, settingsFor, startOrg } from '../../support/sync-harness';
import { latestRecords } from '../../support/stream-topics';
import { FIXTURE_FIELDS, fixtureStream } from '../../fixtures/streams/declarations';

/**
 * The generic path on the real services, with a declared stream of the test's own (a mapping
 * CSV and an Avro schema, no code): the run reads it, publishes it keyed by its key through the
 * registry, and a key gone from Salesforce is tombstoned only by a complete, verified run,
 * behind the deletion guard. The topic is compared with the simulator's records each time.
 * Randomised: STREAMS_SEED replays a run.
 */
const SEED = Number(process.env.STREAMS_SEED ?? Math.floor(Math.random() * 1_000_000));

console.log(`STREAMS_SEED=${SEED}`);
const rnd = mulberry32(SEED);
const NAME = 'fixture-assignments';
const API = rnd() < 0.5 ? 'bulk' : 'rest';
/** While set, Salesforce answers 503 to any request for the stream's object (job creation or query page). */
let failStream = false;
const failing = async (url: string, init: RequestInit): Promise<Response> => {
  const text = `${decodeURIComponent(url)} ${typeof init.body === 'string' ? init.body : ''}`;
  if (failStream && text.includes('FROM PermissionSetAssignment')) {
    return new Response(JSON.stringify([{ errorCode: 'SERVER_UNAVAILABLE', message: 'down' }]), { status: 503 });
  }
  return fetch(url, init);
};

let sim: Simulator;
let connector: Connector;
let settings: ConnectorSettings;
let topic = '';

beforeAll(async () => {
  sim = await startOrg({ users: 60 + Math.floor(rnd() * 80), logins: 200, seed: 1 + Math.floor(rnd() * 5000) });
  const base = settingsFor(sim);
  topic = `${base.topics.users}.fixture`;
  settings = { ...base, topics: { ...base.topics, streams: { [NAME]: topic } } };
  connector = await connectorFor(settings, {
    streams: [fixtureStream({ api: API })],
    extractor: (s) => createExtractor(s.salesforce, { logger: silentLogger, fetch: failing }),
  });
});
afterAll(async () => {
  await connector?.close();
  await sim?.close();
});

/** The records the simulator says the topic must hold, as the mapping builds them. */
function expected(): Map<string, Record<string, unknown>> {
  const rows = sim.objectRows('PermissionSetAssignment', FIXTURE_FIELDS);
  return new Map(
    rows.map((r) => [
      r.Id,
      {
        id: r.Id,
        userId: r.AssigneeId,
        permissionSetId: r.PermissionSetId,
        permissionSetName: r['PermissionSet.Name'] || null,
        permissionSetGroupId: r.PermissionSetGroupId || null,
      },
    ]),
  );
}

async function expectTopicIsTheOrg(): Promise<number> {
  const { latest, tombstones } = await latestRecords(topic);
  const want = expected();
  expect([...latest.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [id, rec] of want) expect(latest.get(id)).toMatchObject({ ...rec, orgId: sim.orgId });
  return tombstones;
}

it('publishes the stream, tombstones what Salesforce lost, and deletes nothing from a failed run', async () => {
  const first = await connector.sync();
  expect(first.status).toBe('succeeded');
  const n = expected().size;
  expect(first.streams?.[NAME]).toMatchObject({ extracted: n, published: n, tombstoned: 0 });
  expect(await expectTopicIsTheOrg()).toBe(0);

  // one unassigned, one assigned: the next run tombstones one key and publishes one record
  const ids = [...expected().keys()];
  const removed = ids[Math.floor(rnd() * ids.length)];
  sim.unassignPermissionSet(removed);
  const holding = new Set(
    [...expected().values()].filter((a) => a.permissionSetName === 'Reports_Export').map((a) => a.userId),
  );
  const holder = sim.userIds(['active']).filter((u) => !holding.has(u))[Math.floor(rnd() * 10)];
  sim.assignPermissionSet(holder, 'Reports_Export');
  const second = await connector.sync();
  expect(second.status).toBe('succeeded');
  expect(second.streams?.[NAME]).toMatchObject({ published: 1, unchanged: n - 1, tombstoned: 1 });
  expect(await expectTopicIsTheOrg()).toBe(1);

  // a run whose stream extraction fails deletes nothing, although Salesforce lost a key
  const next = [...expected().keys()].filter((k) => k !== removed)[Math.floor(rnd() * (n - 1))];
  sim.unassignPermissionSet(next);
  failStream = true;
  const failed = await connector.sync();
  failStream = false;
  expect(failed).toMatchObject({ status: 'failed', error: { code: 'SALESFORCE_SERVER_ERROR' } });
  const { latest } = await latestRecords(topic);
  expect(latest.has(next)).toBe(true);

  // the next complete run does delete it
  const third = await connector.sync();
  expect(third.status).toBe('succeeded');
  expect(third.streams?.[NAME]).toMatchObject({ tombstoned: 1 });
  expect(await expectTopicIsTheOrg()).toBe(2);
});

it('the deletion guard holds back a mass removal in a declared stream: nothing deleted, the stream named', async () => {
  const ids = [...expected().keys()];
  const gone = ids.slice(0, Math.ceil(ids.length * 0.6));
  for (const id of gone) sim.unassignPermissionSet(id);
  const run = await connector.sync();
  expect(run.status).toBe('failed');
  expect(run.error?.code).toBe('DELETION_GUARD');
  expect(run.error?.message).toContain(`${NAME} records`);
  const { latest } = await latestRecords(topic);
  for (const id of gone) expect(latest.has(id)).toBe(true);
  const allowed = await connector.sync({ allowMassDelete: true });
  expect(allowed.status).toBe('succeeded');
  await expectTopicIsTheOrg();
});

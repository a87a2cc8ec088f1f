import type { Simulator } from '../../../simulator/api';
import type { Connector } from '../../../pipeline/connector';
import { createExtractor } from '../../../connectors/salesforce';
import { silentLogger } from '../../../kernel/logger';
import { allRecords, connectorFor, settingsFor, startOrg } from '../../support/sync-harness';
import { fixtureGrants } from '../../fixtures/streams/declarations';

/**
 * An incremental declared stream on the real services: the first run reads every row, a later
 * run only the rows at or after the committed watermark (minus the overlap), and a failed run
 * leaves the watermark where it was, so the next run reads what it missed.
 */
const NAME = 'fixture-grants';
let sim: Simulator;
let connector: Connector;
let topic = '';
let failStream = false;

beforeAll(async () => {
  sim = await startOrg({ users: 80, logins: 100 });
  const base = settingsFor(sim);
  topic = `${base.topics.users}.grants`;
  const failing = async (url: string, init: RequestInit): Promise<Response> => {
    if (failStream && decodeURIComponent(url).includes('FROM PermissionSetLicenseAssign')) {
      return new Response(JSON.stringify([{ errorCode: 'SERVER_UNAVAILABLE', message: 'down' }]), { status: 503 });
    }
    return fetch(url, init);
  };
  connector = await connectorFor(
    { ...base, topics: { ...base.topics, streams: { [NAME]: topic } } },
    {
      streams: [fixtureGrants()],
      extractor: (s) => createExtractor(s.salesforce, { logger: silentLogger, fetch: failing }),
    },
  );
});
afterAll(async () => {
  await connector?.close();
  await sim?.close();
});

const published = async () => (await allRecords(topic)).filter((r) => r.value !== null).map((r) => r.key);

it('reads every row once, then only what is newer than the committed watermark; a failed run keeps it', async () => {
  const all = sim.objectRows('PermissionSetLicenseAssign', ['Id']).map((r) => r.Id);
  const first = await connector.sync();
  expect(first.status).toBe('succeeded');
  expect(first.streams?.[NAME]).toMatchObject({ extracted: all.length, published: all.length, tombstoned: 0 });
  expect((await published()).sort()).toEqual([...all].sort());

  // nothing new: only the rows inside the overlap window before the watermark are read again
  const stamps = sim
    .objectRows('PermissionSetLicenseAssign', ['SystemModstamp'])
    .map((r) => Date.parse(r.SystemModstamp));
  const watermark = Math.max(...stamps);
  const window = stamps.filter((t) => t >= watermark - 2_000).length;
  const quiet = await connector.sync();
  expect(quiet.streams?.[NAME]).toMatchObject({ extracted: window, published: window });

  const holding = new Set(
    sim
      .objectRows('PermissionSetLicenseAssign', ['AssigneeId', 'PermissionSetLicense.DeveloperName'])
      .filter((r) => r['PermissionSetLicense.DeveloperName'] === 'FieldServiceSchedulingPsl')
      .map((r) => r.AssigneeId),
  );
  const holder = sim.userIds(['active']).filter((u) => !holding.has(u))[3];
  const given = sim.assignPermissionSetLicense(holder, 'FieldServiceSchedulingPsl');
  failStream = true;
  const failed = await connector.sync();
  failStream = false;
  expect(failed.status).toBe('failed');

  const next = await connector.sync();
  expect(next.status).toBe('succeeded');
  expect(next.streams?.[NAME]).toMatchObject({ extracted: window + 1, published: window + 1 });
  const keys = await published();
  expect(keys.filter((k) => k === given)).toHaveLength(1);
  expect(new Set(keys).size).toBe(all.length + 1);
});

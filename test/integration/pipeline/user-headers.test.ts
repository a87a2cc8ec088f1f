import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { HEADERS } from '../../../schemas/topics';
import { allRecords, connectorFor, settingsFor, startOrg } from '../../support/sync-harness';

/**
 * A user record's headers, as the users phase writes them: the run's three, the content hash, then the
 * latest login's device and the UserLogin flags when the user has them, in that order and with the
 * run's values (the order is the order of the bytes on the wire).
 */
let sim: Simulator;
let connector: Connector;

afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

it("a user record's headers: the run's, the content hash, then device and flags when there are any", async () => {
  sim = await startOrg();
  const settings: ConnectorSettings = settingsFor(sim, {}, ['active', 'frozen']);
  connector = await connectorFor(settings);
  const run = await connector.sync();
  expect(run.status).toBe('succeeded');
  const users = (await allRecords(settings.topics.users)).filter((r) => r.value !== null);
  expect(users.length).toBeGreaterThan(0);
  for (const { headers } of users) {
    expect(Object.keys(headers)).toEqual([
      HEADERS.runId,
      HEADERS.connector,
      HEADERS.org,
      HEADERS.contentHash,
      ...(HEADERS.device in headers ? [HEADERS.device] : []),
      ...(HEADERS.userLogin in headers ? [HEADERS.userLogin] : []),
    ]);
    expect(headers).toMatchObject({
      [HEADERS.runId]: run.runId,
      [HEADERS.connector]: settings.connectorName,
      [HEADERS.org]: sim.orgId,
    });
    expect(headers[HEADERS.contentHash]).toMatch(/^[A-Za-z0-9_-]{22}$/);
  }
  // both optional headers occur, alone and together
  expect(users.some((r) => HEADERS.device in r.headers)).toBe(true);
  expect(users.some((r) => HEADERS.userLogin in r.headers)).toBe(true);
  expect(users.some((r) => !(HEADERS.device in r.headers))).toBe(true);
});

import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { allRecords, connectorFor, settingsFor, startOrg } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';

/**
 * Promise 5: LoginHistory is lossless for late rows and robust to bad clocks. A row Salesforce
 * makes visible after the watermark passed its LoginTime (inside the look-back window) is read;
 * a future-dated row does not move the watermark past the run's start, so later rows are read;
 * every event reaches the topic exactly once.
 */
let sim: Simulator;
let connector: Connector;
afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

it('late-visible and future-dated rows: every event of the org once, none skipped', async () => {
  const rnd = seededRandom('late logins');
  sim = await startOrg({ users: 30, logins: 400, seed: 1 + Math.floor(rnd.next() * 1000) });
  const base = settingsFor(sim, {}, ['active', 'inactive', 'frozen']);
  const settings: ConnectorSettings = { ...base, salesforce: { ...base.salesforce, loginLookbackDays: 3650 } };
  connector = await connectorFor(settings);
  const r1 = await connector.sync();
  expect(r1.status).toBe('succeeded');
  const w1 = Date.parse(r1.loginHistoryWatermark!);

  // written late: LoginTime 10 to 50 minutes before the watermark, visible only now
  const late = sim.addLogins(1 + Math.floor(rnd.next() * 4), {
    at: new Date(w1 - (10 + Math.floor(rnd.next() * 40)) * 60_000).toISOString(),
  });
  // a bad clock: LoginTime days in the future
  const future = sim.addLogins(1 + Math.floor(rnd.next() * 3), {
    at: new Date(Date.now() + (1 + Math.floor(rnd.next() * 60)) * 86_400_000).toISOString(),
  });
  const r2 = await connector.sync();
  expect(r2.status).toBe('succeeded');
  // not past the moment the run read LoginHistory (inside the run), far before the future rows
  expect(Date.parse(r2.loginHistoryWatermark!)).toBeLessThanOrEqual(Date.parse(r2.endedAt));

  const after = sim.addLogins(1 + Math.floor(rnd.next() * 5)); // ordinary events, after the future-dated ones were read
  const r3 = await connector.sync();
  const r4 = await connector.sync();
  expect([r3.status, r4.status]).toEqual(['succeeded', 'succeeded']);

  const keys = (await allRecords(settings.topics.logins)).map((r) => r.key);
  expect(keys.length).toBe(new Set(keys).size); // none twice
  for (const id of [...late, ...future, ...after]) expect(keys).toContain(id);
  expect(new Set(keys)).toEqual(new Set(sim.loginRows(['Id']).map((r) => r.Id))); // the org's every event
});

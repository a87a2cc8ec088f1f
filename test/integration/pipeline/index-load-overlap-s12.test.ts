import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { LiveIndexTopic } from '../../../pipeline/kafka/live-index-topic';
import { createExtractor } from '../../../connectors/salesforce';
import { silentLogger } from '../../../kernel/logger';
import { allRecords, connectorFor, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';

/**
 * A routine run loads the users' live index while it reaches Salesforce (the login, the version,
 * the describes, the jobs created ahead), not after (issue 15: ~1 s of a 1M routine run's start).
 * Seen from the run: when the load starts, the extractor's connect has not yet answered. And the
 * overlap keeps every promise: a run whose connect fails returns only after the load it started
 * has ended (nothing of the run goes on behind its back), and the next run brings the users topic
 * to exactly the org's users.
 */
let sim: Simulator;
let settings: ConnectorSettings;
let connector: Connector;
afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

type LoadCall = { connected: boolean; ended: boolean };

/** Whether the current run's connect has answered (the extractor is the product's, connect watched). */
let connected = false;
function watchedConnector(s: ConnectorSettings): Promise<Connector> {
  return connectorFor(s, {
    extractor: (cfg) => {
      const extractor = createExtractor(cfg.salesforce, { logger: silentLogger });
      const connect = extractor.connect.bind(extractor);
      connected = false;
      extractor.connect = () => connect().then((info) => ((connected = true), info));
      return extractor;
    },
  });
}

/** Records each load of the users' live index: whether the run had connected, and when it ends. */
function watchLoads(): { calls: LoadCall[]; restore: () => void } {
  const calls: LoadCall[] = [];
  const original = LiveIndexTopic.prototype.load;
  const spy = jest.spyOn(LiveIndexTopic.prototype, 'load').mockImplementation(function (this: LiveIndexTopic, ...args) {
    const users = (this as unknown as { usersTopic: string }).usersTopic === settings.topics.users;
    const loading = original.apply(this, args);
    if (users) {
      const call: LoadCall = { connected, ended: false };
      calls.push(call);
      void loading.finally(() => (call.ended = true)).catch(() => undefined);
    }
    return loading;
  });
  return { calls, restore: () => spy.mockRestore() };
}

it('starts the live index load before the run has connected to Salesforce', async () => {
  const rnd = seededRandom('index-load-overlap');
  sim = await startOrg({ users: 60 + Math.floor(rnd.next() * 60), logins: 300 });
  settings = settingsFor(sim);
  connector = await watchedConnector(settings);
  expect((await connector.sync()).status).toBe('succeeded');

  const { calls, restore } = watchLoads();
  try {
    const changed = sim.userIds()[Math.floor(rnd.next() * 20)];
    sim.updateUser(changed, { Title: 'Overlapped' });
    const second = await connector.sync();
    expect(second).toMatchObject({ status: 'succeeded', usersPublished: 1 });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual({ connected: false, ended: true });
  } finally {
    restore();
  }
  const latest = await latestUsers(settings.topics.users, connector.codecs.users);
  expect([...latest.keys()].sort()).toEqual(sim.userIds().sort());
});

it('a run whose Salesforce login fails returns after the load it started, publishing nothing', async () => {
  sim = await startOrg({ users: 40, logins: 200 });
  settings = settingsFor(sim);
  connector = await watchedConnector(settings);
  expect((await connector.sync()).status).toBe('succeeded');
  const before = (await allRecords(settings.topics.users)).length;

  const { calls, restore } = watchLoads();
  try {
    sim.inject({ kind: 'loginFails', times: 50 });
    const failed = await connector.sync();
    expect(failed.status).toBe('failed');
    // the load this run started, if it started one, had ended when the run returned
    expect(calls.map((c) => c.ended)).toEqual(calls.map(() => true));
  } finally {
    restore();
    sim.clearFaults();
  }
  expect(await allRecords(settings.topics.users)).toHaveLength(before);
  sim.updateUser(sim.userIds()[3], { Title: 'After the outage' });
  expect(await connector.sync()).toMatchObject({ status: 'succeeded', usersPublished: 1 });
  const latest = await latestUsers(settings.topics.users, connector.codecs.users);
  expect([...latest.keys()].sort()).toEqual(sim.userIds().sort());
});

import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { DEFAULT_PUBLISHER } from '../../../pipeline/kafka/publisher';
import { allRecords, connectorFor, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';

/**
 * A complete sync run on the real Kafka and registry, against the Salesforce simulator:
 * the product rule "a user not imported when the connector runs, and previously imported, is
 * removed" made safe (tombstones only after a verified extraction, a deletion guard), run state,
 * changed-only publishing and LoginHistory de-duplication.
 */
let sim: Simulator;
let settings: ConnectorSettings;
let connector: Connector;

afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

async function setUp(statuses: string[], simOpts = {}, over: Partial<ConnectorSettings> = {}) {
  sim = await startOrg(simOpts);
  settings = settingsFor(sim, over, statuses);
  connector = await connectorFor(settings);
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('a sync run', () => {
  // zstd: the users, logins, index and state topics written zstd (kafka/zstd.ts) and read back by the
  // next runs (the live index, the state) and by this test's reader
  it.each(['gzip', 'zstd'] as const)(
    'publishes the selected users, tombstones just the removed or filtered-out ones; quiet if unchanged (%s)',
    async (compression) => {
      await setUp(['active'], {}, { publisher: { ...DEFAULT_PUBLISHER, lingerMs: 5, compression } });
      const first = await connector.sync();
      expect(first).toMatchObject({ status: 'succeeded', usersTombstoned: 0, deadLettered: 0 });
      const active = sim.userIds(['active']);
      expect(first.usersExtracted).toBe(active.length);
      expect(first.usersPublished).toBe(active.length);

      let latest = await latestUsers(settings.topics.users, connector.codecs.users);
      expect(sorted(latest.keys())).toEqual(sorted(active));
      // values decode to the Neurons record of that user
      const probe = active[7];
      const row = sim.userRow(probe, ['Username', 'Email', 'IsActive']);
      expect(latest.get(probe)).toMatchObject({
        id: probe,
        username: row.Username,
        email: row.Email || null,
        isActive: true,
        status: 'active',
        connectorName: settings.connectorName,
      });

      // the org changes: deactivations, freezes, deletions and edits
      const [d1, d2, d3, f1, f2, x1, x2, e1, e2] = active.slice(10, 19);
      for (const id of [d1, d2, d3]) sim.setUserState(id, 'inactive');
      for (const id of [f1, f2]) sim.setUserState(id, 'frozen');
      for (const id of [x1, x2]) sim.deleteUser(id);
      sim.updateUser(e1, { Title: 'Chief "Quoted", Officer' });
      sim.updateUser(e2, { City: 'Zürich' });

      const second = await connector.sync();
      expect(second).toMatchObject({ status: 'succeeded', usersTombstoned: 7, usersPublished: 2 });
      latest = await latestUsers(settings.topics.users, connector.codecs.users);
      expect(sorted(latest.keys())).toEqual(sorted(sim.userIds(['active'])));
      expect(latest.get(e1)).toMatchObject({ title: 'Chief "Quoted", Officer' });
      expect(latest.get(e2)).toMatchObject({ city: 'Zürich' });
      const tombstoned = (await allRecords(settings.topics.users)).filter((r) => r.value === null).map((r) => r.key);
      expect(sorted(tombstoned)).toEqual(sorted([d1, d2, d3, f1, f2, x1, x2]));

      const third = await connector.sync();
      expect(third).toMatchObject({
        status: 'succeeded',
        usersTombstoned: 0,
        usersPublished: 0,
        usersUnchanged: sim.userIds(['active']).length,
      });
    },
  );

  it('runs with every status type selected, keeps frozen users, and a full republish re-sends everyone', async () => {
    await setUp(['active', 'inactive', 'frozen']);
    await connector.sync();
    const all = sim.userIds(['active', 'inactive', 'frozen']);
    const latest = await latestUsers(settings.topics.users, connector.codecs.users);
    expect(sorted(latest.keys())).toEqual(sorted(all));
    const frozen = sim.userIds(['frozen']);
    expect(frozen.length).toBeGreaterThan(0);
    expect(latest.get(frozen[0])).toMatchObject({ status: 'frozen', isFrozen: true });
    const again = await connector.sync({ fullRepublish: true });
    expect(again).toMatchObject({ usersPublished: all.length, usersUnchanged: 0, usersTombstoned: 0 });
  });

  it.each([
    ['the LoginHistory job ends Failed', (s: Simulator) => s.inject({ kind: 'jobFails', object: 'LoginHistory' })],
    ['the User job ends Failed', (s: Simulator) => s.inject({ kind: 'jobFails', object: 'User' })],
    ['a malformed CSV page of users', (s: Simulator) => s.inject({ kind: 'malformedCsv', object: 'User' })],
    [
      'a session lost for good',
      (s: Simulator) => {
        s.inject({ kind: 'expireSession' });
        s.inject({ kind: 'loginFails', times: 10 });
      },
    ],
    ['the daily API limit exceeded', (s: Simulator) => s.inject({ kind: 'requestLimitExceeded', times: 100 })],
  ])(
    'a run that fails part-way (%s) publishes no tombstone and keeps the watermark; the next run repairs',
    async (_name, fault) => {
      await setUp(['active']);
      const first = await connector.sync();
      expect(first.status).toBe('succeeded');
      const removed = sim.userIds(['active']).slice(0, 4);
      for (const id of removed) sim.deleteUser(id);
      // logins of an imported (active) user: only the imported users' events are published
      sim.addLogins(20, { userId: sim.userIds(['active'])[0] });
      const before = await allRecords(settings.topics.users);

      fault(sim);
      const failed = await connector.sync();
      expect(failed.status).toBe('failed');
      expect(failed.usersTombstoned).toBe(0);
      expect(failed.loginHistoryWatermark).toBe(first.loginHistoryWatermark);
      expect(failed.error).toBeDefined();
      const after = await allRecords(settings.topics.users);
      expect(after.slice(before.length).filter((r) => r.value === null)).toEqual([]);

      sim.clearFaults();
      const repaired = await connector.sync();
      // resumed from the committed watermark: the 20 new events arrive (again, if the failed run got them)
      expect(repaired).toMatchObject({ status: 'succeeded', usersTombstoned: 4, loginEventsPublished: 20 });
      expect(sorted((await latestUsers(settings.topics.users, connector.codecs.users)).keys())).toEqual(
        sorted(sim.userIds(['active'])),
      );
    },
  );

  it('the deletion guard stops a run that would delete half the users; the override lets it through', async () => {
    await setUp(['active'], { users: 60 });
    await connector.sync();
    const active = sim.userIds(['active']);
    const half = active.slice(0, Math.ceil(active.length / 2));
    for (const id of half) sim.deleteUser(id);

    const refused = await connector.sync();
    expect(refused.status).toBe('failed');
    expect(refused.error).toMatchObject({ code: 'DELETION_GUARD' });
    expect(refused.error!.message).toContain(`would delete ${half.length} of ${active.length} live users`);
    expect((await allRecords(settings.topics.users)).filter((r) => r.value === null)).toEqual([]);

    const allowed = await connector.sync({ allowMassDelete: true });
    expect(allowed).toMatchObject({ status: 'succeeded', usersTombstoned: half.length });
  });

  it('a dry run reports what it would publish and delete, and publishes nothing', async () => {
    await setUp(['active']);
    await connector.sync();
    const removed = sim.userIds(['active']).slice(0, 3);
    for (const id of removed) sim.deleteUser(id);
    sim.updateUser(sim.userIds(['active'])[0], { Title: 'Dry' });
    const before = (await allRecords(settings.topics.users)).length;
    const dry = await connector.sync({ dryRun: true });
    expect(dry).toMatchObject({
      status: 'succeeded',
      dryRun: true,
      usersToDelete: 3,
      usersTombstoned: 0,
      usersPublished: 1,
    });
    expect((await allRecords(settings.topics.users)).length).toBe(before);
  });

  it('keeps every LoginHistory event across three runs, each once, one at the watermark boundary too', async () => {
    await setUp(['active'], { logins: 500 });
    const r1 = await connector.sync();
    expect(r1.status).toBe('succeeded');
    const boundary = r1.loginHistoryWatermark!;
    // events of an imported (active) user: only the imported users' events are published
    const userId = sim.userIds(['active'])[0];
    const atBoundary = sim.addLogins(1, { at: boundary, userId });
    const later = sim.addLogins(5, { userId });
    const r2 = await connector.sync();
    expect(r2.status).toBe('succeeded');
    const more = sim.addLogins(7, { userId });
    const r3 = await connector.sync();
    expect(r3.status).toBe('succeeded');

    const events = await allRecords(settings.topics.logins);
    const ids = events.map((e) => e.key);
    expect(new Set(ids).size).toBe(ids.length); // each event once
    for (const id of [...atBoundary, ...later, ...more]) expect(ids).toContain(id);
    // everything the first run's look-back covered, plus the additions
    expect(ids.length).toBe(r1.loginEventsPublished + r2.loginEventsPublished + r3.loginEventsPublished);
    expect(r2.loginEventsPublished).toBe(6);
    expect(r3.loginEventsPublished).toBe(7);
  });
});

import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import type { Logger } from '../../../kernel/logger';
import { indexTopicOf } from '../../../pipeline/kafka/live-index';
import { allRecords, connectorFor, kafkaClient, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';
import { publishAsFailedRun } from '../../support/failed-run';

/**
 * Routine runs proportional to change (issue 15): a run learns the users imported before from the
 * compact live index (a compacted side topic) plus the users-topic records published after the
 * index's watermark, not from every value of the users topic. The removal rule must stay exact:
 * after every run the users topic holds exactly the org's selected users (the simulator's data),
 * whether the index was there, missing (first run after the upgrade), or behind the users topic
 * (a run that published and then failed). Random org changes, replay with SYNC_SEED=<n>.
 */
let sim: Simulator;
let settings: ConnectorSettings;
let connector: Connector;

afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

/** A logger that keeps what the run says about how it loaded the live users. */
function capture(): { logger: Logger; loads: Record<string, unknown>[] } {
  const loads: Record<string, unknown>[] = [];
  const logger: Logger = {
    debug() {},
    info(msg, fields) {
      if (msg.startsWith('live users loaded')) loads.push(fields ?? {});
    },
    warn() {},
    error() {},
    child: () => logger,
  };
  return { logger, loads };
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('the compact live index', () => {
  it('keeps the removal rule exact across random changes, a missing index and a users topic ahead of it', async () => {
    const rnd = seededRandom('live-index');
    sim = await startOrg({ users: 200, logins: 400 });
    settings = settingsFor(sim, {}, ['active']);
    const { logger, loads } = capture();
    connector = await connectorFor(settings, { logger });
    const kafka = kafkaClient();
    const admin = kafka.admin();
    await admin.connect();
    try {
      const first = await connector.sync();
      let last = first;
      expect(first).toMatchObject({ status: 'succeeded' });
      expect(sorted((await latestUsers(settings.topics.users, connector.codecs.users)).keys())).toEqual(
        sorted(sim.userIds(['active'])),
      );
      expect(loads.at(-1)).toMatchObject({ source: 'rebuild' });

      for (let round = 1; round <= 5; round++) {
        // the org changes at random
        const active = sim.userIds(['active']);
        for (const id of rnd.sample(active, 1 + Math.floor(rnd.next() * 4)))
          sim.setUserState(id, rnd.pick(['inactive', 'frozen'] as const));
        for (const id of rnd.sample(sim.userIds(['active']), Math.floor(rnd.next() * 3))) sim.deleteUser(id);
        for (const id of rnd.sample(sim.userIds(['active']), 1 + Math.floor(rnd.next() * 3)))
          sim.updateUser(id, { Title: `T${round}-${rnd.next()}` });
        for (let i = Math.floor(rnd.next() * 3); i > 0; i--) sim.addUser({ IsActive: true });
        for (const id of rnd.sample(sim.userIds(['inactive']), Math.floor(rnd.next() * 2)))
          sim.setUserState(id, 'active');

        let orphan: string | null = null;
        if (round === 2) {
          // the first run after the upgrade: no index yet
          await admin.deleteTopics({ topics: [indexTopicOf(settings.topics.users)] });
        }
        if (round === 4) {
          // a run that published a user and failed before its commit: the users topic is ahead of the index
          orphan = `005${String(round).padStart(12, '0')}AAA`;
          const someone = (await latestUsers(settings.topics.users, connector.codecs.users)).values().next().value!;
          await publishAsFailedRun(
            kafka,
            settings.topics.users,
            {
              key: connector.codecs.users.encodeKey(orphan),
              value: connector.codecs.users.encodeValue({ ...someone, id: orphan }),
            },
            { connectorName: settings.connectorName, orgId: sim.orgId },
          );
        }

        const before = new Set((await latestUsers(settings.topics.users, connector.codecs.users)).keys());
        const previous = last;
        const expected = new Set(sim.userIds(['active']));
        const run = await connector.sync();
        last = run;
        expect(run).toMatchObject({ status: 'succeeded' });
        const after = await latestUsers(settings.topics.users, connector.codecs.users);
        // exact: the selected users, no more, no less; the tombstones are exactly the users gone
        expect(sorted(after.keys())).toEqual(sorted(expected));
        expect(run.usersTombstoned).toBe([...before].filter((id) => !expected.has(id)).length);
        if (orphan) expect(after.has(orphan)).toBe(false);
        expect(loads.at(-1)).toMatchObject({ source: round === 2 ? 'rebuild' : 'index' });
        if (round !== 2) {
          // proportional to change: the users-topic records read are the last run's tombstones (the
          // users it published are in the index already) and what the failed run wrote
          expect(loads.at(-1)!.tailRecords).toBe(previous.usersTombstoned + (orphan ? 1 : 0));
        }
      }
      // the index's entries of this connector are exactly the live users
      const index = new Map<string, boolean>();
      for (const r of await allRecords(indexTopicOf(settings.topics.users))) {
        const [conn, id] = r.key.split('\u0000');
        if (conn === settings.connectorName && id) index.set(id, r.value !== null);
      }
      expect(sorted([...index].filter(([, live]) => live).map(([id]) => id))).toEqual(sorted(sim.userIds(['active'])));
    } finally {
      await admin.disconnect();
    }
  });
});

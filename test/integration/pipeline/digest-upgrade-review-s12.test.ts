import type { Simulator, SimUserState } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { ROW_DIGEST_MARK } from '../../../pipeline/records';
import { connectorFor, kafkaClient, latestUsers, realNow, settingsFor, startOrg } from '../../support/sync-harness';
import { indexTopicOf } from '../../../pipeline/kafka/live-index';
import { seededRandom } from '../../support/sync-oracle';
import { latestHashes, withContentHashDigests } from '../../support/content-hash-digests';
import { silentLogger, type Logger } from '../../../kernel/logger';

/** A logger that keeps the `source` of each "live users loaded" line (index or rebuild). */
function sourcesLogger(sources: string[]): Logger {
  const l: Logger = {
    debug: () => undefined,
    info: (msg, fields) => {
      if (msg === 'live users loaded') sources.push(String(fields?.source));
    },
    warn: () => undefined,
    error: () => undefined,
    child: () => l,
  };
  return l;
}

/**
 * Review of session 12's content-hash upgrade (userDigest, pipeline/records.ts): a users topic written
 * as the code before the change wrote it (startOldConnector), then routine runs by this
 * code. Unchanged users are not published again (but those whose old hash begins with `_2`, once);
 * every changed user is; the users topic equals the org after each run; a run without UserLogin
 * (carried flags) likewise; fullRepublish publishes everyone with a `_2` digest.
 * Replay with SYNC_SEED=<n>.
 */
/**
 * A connector whose runs digest users as the code before session 12 did (06af7e3's sync.ts:
 * `contentHash(row, fingerprint)` in the header, unchanged when it equals the stored one). This
 * test ran first against that commit's own build; a clean clone has none, and the digest is the
 * only difference a users record shows.
 */
async function startOldConnector(s: ConnectorSettings, deps: { logger: Logger }): Promise<Connector> {
  return withContentHashDigests(await connectorFor(s, deps));
}
const base = { startConnector: startOldConnector };

const sims: Simulator[] = [];
let connector: Connector | undefined;
afterEach(async () => {
  await connector?.close();
  connector = undefined;
  for (const s of sims.splice(0)) await s.close();
});

const STATUSES: SimUserState[] = ['active', 'inactive', 'frozen'];

function truth(sim: Simulator, id: string, frozenIds: Set<string>) {
  const r = sim.userRow(id, ['Title', 'City', 'IsActive']);
  const frozen = frozenIds.has(id);
  return {
    id,
    title: r.Title || null,
    city: r.City || null,
    status: r.IsActive !== 'true' ? 'inactive' : frozen ? 'frozen' : 'active',
  };
}
const seen = (id: string, u: Record<string, unknown> | undefined) =>
  u && { id, title: u.title ?? null, city: u.city ?? null, status: u.status };

async function expectTopicIsOrg(sim: Simulator, settings: ConnectorSettings, c: Connector) {
  const users = await latestUsers(settings.topics.users, c.codecs.users);
  expect([...users.keys()].sort()).toEqual(sim.userIds(STATUSES).sort());
  const frozen = new Set(sim.userIds(['frozen']));
  const wrong = sim
    .userIds(STATUSES)
    .filter((id) => JSON.stringify(seen(id, users.get(id))) !== JSON.stringify(truth(sim, id, frozen)));
  expect(wrong.map((id) => ({ got: seen(id, users.get(id)), want: truth(sim, id, frozen) }))).toEqual([]);
}

/** Deletes the users' live index topic: the next run rebuilds it from the users topic. */
async function dropIndex(settings: ConnectorSettings) {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const topic = indexTopicOf(settings.topics.users);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    for (let i = 0; i < 100 && (await admin.listTopics()).includes(topic); i++)
      await new Promise((r) => setTimeout(r, 100));
  } finally {
    await admin.disconnect();
  }
}

it.each([false, true])(
  'an upgrade from contentHash digests republishes no unchanged user and every changed one (index rebuilt: %s)',
  async (rebuild) => {
    const rnd = seededRandom(`digest upgrade rebuild=${rebuild}`);
    const seed = 1 + Math.floor(rnd.next() * 1000);
    const now = realNow();
    const sim = await startOrg({ users: 120, logins: 300, seed, now });
    sims.push(sim);
    const settings = settingsFor(sim, {}, STATUSES);

    // 1. the first run, by the code before the change: contentHash digests in the topic
    connector = await base.startConnector(settings, { logger: silentLogger });
    expect((await connector.sync()).status).toBe('succeeded');
    await connector.close();
    const old = await latestHashes(settings.topics.users);
    expect(old.size).toBe(sim.userIds(STATUSES).length);
    const markedOld = [...old].filter(([, h]) => h.startsWith(ROW_DIGEST_MARK)).map(([k]) => k);
    expect(markedOld.length).toBeLessThan(old.size / 2); // the base wrote contentHash digests
    if (rebuild) await dropIndex(settings);

    // 2. this code, a full read of the unchanged org: only the `_2`-looking old digests go out again
    const sources: string[] = [];
    connector = await connectorFor(settings, { logger: sourcesLogger(sources) });
    settings.salesforce.usersFullScanEveryMs = 1;
    const quiet = await connector.sync();
    expect(quiet).toMatchObject({ status: 'succeeded', usersTombstoned: 0, usersRead: { kind: 'full' } });
    if (rebuild) expect(sources).toEqual(['rebuild']);
    expect(quiet.usersPublished).toBe(markedOld.length);
    await expectTopicIsOrg(sim, settings, connector);

    // 3. random changes, full and incremental reads: every changed user published, nobody else
    for (let round = 1; round <= 4; round++) {
      const edited = rnd.sample(sim.userIds(['active']), 1 + Math.floor(rnd.next() * 6));
      for (const id of edited) sim.updateUser(id, { Title: `R${round} ${rnd.next().toFixed(6)}` });
      const frozen = rnd.sample(
        sim.userIds(['active']).filter((id) => !edited.includes(id)),
        Math.floor(rnd.next() * 3),
      );
      for (const id of frozen) sim.setUserState(id, 'frozen');
      if (round % 2 === 1) settings.salesforce.usersFullScanEveryMs = 1;
      else delete settings.salesforce.usersFullScanEveryMs;
      const before = await latestHashes(settings.topics.users);
      const run = await connector.sync();
      expect({ round, ...run }).toMatchObject({ round, status: 'succeeded', usersTombstoned: 0 });
      const after = await latestHashes(settings.topics.users);
      const republished = [...after].filter(([k, h]) => before.get(k) !== h).map(([k]) => k);
      // each changed user has a new digest (never the old one kept), and every published one is `_2`
      for (const id of [...edited, ...frozen])
        expect({ round, id, changed: after.get(id) !== before.get(id) }).toEqual({ round, id, changed: true });
      for (const id of republished) expect(after.get(id)!.startsWith(ROW_DIGEST_MARK)).toBe(true);
      expect(run.usersPublished).toBeGreaterThanOrEqual(edited.length + frozen.length);
      await expectTopicIsOrg(sim, settings, connector);
    }

    // 4. fullRepublish: everyone, with a `_2` digest
    const full = await connector.sync({ fullRepublish: true });
    expect(full.usersPublished).toBe(sim.userIds(STATUSES).length);
    const all = await latestHashes(settings.topics.users);
    expect([...all.values()].filter((h) => !h.startsWith(ROW_DIGEST_MARK))).toEqual([]);
    await expectTopicIsOrg(sim, settings, connector);
    if (rebuild) await dropIndex(settings);
    // and a quiet full read after it publishes nobody
    settings.salesforce.usersFullScanEveryMs = 1;
    expect(await connector.sync()).toMatchObject({ status: 'succeeded', usersPublished: 0 });
    if (rebuild) expect(sources[sources.length - 1]).toBe('rebuild');
    // (sources seen, for the report)
    console.log(`index loads rebuild=${rebuild}: ${sources.join(' ')}`);
  },
  240_000,
);

it('an upgrade in a run that cannot read UserLogin (carried flags) republishes no unchanged user', async () => {
  const rnd = seededRandom('digest upgrade carried');
  const seed = 1 + Math.floor(rnd.next() * 1000);
  const now = realNow();
  const before = await startOrg({ users: 60, logins: 200, seed, now });
  sims.push(before);
  const toFreeze = rnd.sample(before.userIds(['active']), 5);
  for (const id of toFreeze) before.setUserState(id, 'frozen');
  const settings = settingsFor(before, {}, STATUSES);
  connector = await base.startConnector(settings, { logger: silentLogger });
  expect((await connector.sync()).status).toBe('succeeded');
  await connector.close();
  const old = await latestHashes(settings.topics.users);
  const markedOld = [...old].filter(([, h]) => h.startsWith(ROW_DIGEST_MARK)).length;

  const after = await startOrg({
    users: 60,
    logins: 200,
    seed,
    now,
    credentials: before.credentials,
    apiUserPermissions: ['ViewAllUsers', 'MonitorLoginHistory'],
  });
  sims.push(after);
  for (const id of toFreeze) after.setUserState(id, 'frozen');
  const moved: ConnectorSettings = {
    ...settings,
    salesforce: { ...settings.salesforce, loginUrl: after.url, usersFullScanEveryMs: 1 },
  };
  connector = await connectorFor(moved);
  const quiet = await connector.sync();
  expect(quiet).toMatchObject({ status: 'succeeded', usersTombstoned: 0, usersPublished: markedOld });

  const edited = rnd.sample(after.userIds(), 10);
  for (const id of edited) after.updateUser(id, { Title: `Edited ${rnd.next().toFixed(6)}` });
  const run = await connector.sync();
  expect(run).toMatchObject({ status: 'succeeded', usersTombstoned: 0 });
  const now2 = await latestHashes(settings.topics.users);
  for (const id of edited) expect({ id, changed: now2.get(id) !== old.get(id) }).toEqual({ id, changed: true });
  const users = await latestUsers(settings.topics.users, connector.codecs.users);
  for (const id of edited) expect(users.get(id)?.title).toBe(after.userRow(id, ['Title']).Title);
  // and a second quiet run publishes nobody (the `_2` digests of carried rows compare)
  expect(await connector.sync()).toMatchObject({ status: 'succeeded', usersPublished: 0 });
}, 240_000);

it('old digests beginning with `_2` (1 in 4,096) are published once after the upgrade, then never again', async () => {
  const rnd = seededRandom('digest upgrade marked');
  const sim = await startOrg({ users: 6000, logins: 6000, seed: 1 + Math.floor(rnd.next() * 1000) });
  sims.push(sim);
  const settings = settingsFor(sim, {}, STATUSES);
  settings.salesforce.pageSize = 2000;
  connector = await base.startConnector(settings, { logger: silentLogger });
  expect((await connector.sync()).status).toBe('succeeded');
  await connector.close();
  const old = await latestHashes(settings.topics.users);
  const marked = [...old].filter(([, h]) => h.startsWith(ROW_DIGEST_MARK)).map(([k]) => k);
  console.log(`old digests beginning with ${ROW_DIGEST_MARK}: ${marked.length} of ${old.size}`);
  connector = await connectorFor(settings);
  settings.salesforce.usersFullScanEveryMs = 1;
  expect(await connector.sync()).toMatchObject({ status: 'succeeded', usersPublished: marked.length });
  const now = await latestHashes(settings.topics.users);
  for (const id of marked) expect({ id, republished: now.get(id) !== old.get(id) }).toEqual({ id, republished: true });
  expect(await connector.sync()).toMatchObject({ status: 'succeeded', usersPublished: 0 });
  await expectTopicIsOrg(sim, settings, connector);
}, 400_000);

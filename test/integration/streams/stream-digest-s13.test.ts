import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { ROW_DIGEST_MARK } from '../../../pipeline/records';
import { mulberry32 } from '../../../simulator/prng';
import { withContentHashDigests, latestHashes } from '../../support/content-hash-digests';
import { connectorFor, settingsFor, startOrg } from '../../support/sync-harness';
import { fixtureStream } from '../../fixtures/streams/declarations';

/**
 * Session 13: a declared snapshot stream digests its rows as the users do (rowDigest, through
 * userDigest: pipeline/records.ts), and the upgrade from the contentHash digests its topic holds
 * publishes no unchanged record again (only those whose old digest happens to begin with `_2`, once).
 * Every record published by this code carries a `_2` digest; fullRepublish gives everyone one, and a
 * quiet run after it publishes nothing. Replay with STREAM_DIGEST_SEED=<n>.
 */
const SEED = Number(process.env.STREAM_DIGEST_SEED ?? Math.floor(Math.random() * 1_000_000));
console.log(`STREAM_DIGEST_SEED=${SEED}`);
const rnd = mulberry32(SEED);
const NAME = 'fixture-assignments';

/** A connector whose runs digest every row with contentHash, as the code before session 13 (streams). */
async function startOldConnector(s: ConnectorSettings): Promise<Connector> {
  return withContentHashDigests(
    await connectorFor(s, { streams: [fixtureStream({ api: rnd() < 0.5 ? 'bulk' : 'rest' })] }),
  );
}

let sim: Simulator;
let connector: Connector | undefined;
afterEach(async () => {
  await connector?.close();
  connector = undefined;
  await sim?.close();
});

function streamSettings(): { settings: ConnectorSettings; topic: string } {
  const base = settingsFor(sim);
  const topic = `${base.topics.users}.fixture`;
  return { settings: { ...base, topics: { ...base.topics, streams: { [NAME]: topic } } }, topic };
}

it('a first run of this code gives every stream record a rowDigest', async () => {
  sim = await startOrg({ users: 40 + Math.floor(rnd() * 40), logins: 50, seed: 1 + Math.floor(rnd() * 5000) });
  const { settings, topic } = streamSettings();
  connector = await connectorFor(settings, { streams: [fixtureStream({ api: rnd() < 0.5 ? 'bulk' : 'rest' })] });
  const first = await connector.sync();
  expect(first.status).toBe('succeeded');
  const hashes = await latestHashes(topic);
  expect(hashes.size).toBeGreaterThan(0);
  expect([...hashes.values()].filter((h) => !h.startsWith(ROW_DIGEST_MARK) || h.length !== 22)).toEqual([]);
  // and a quiet run compares them: nothing published
  const quiet = await connector.sync();
  expect(quiet.streams?.[NAME]).toMatchObject({ published: 0, unchanged: hashes.size });
}, 120_000);

it('the upgrade from contentHash digests republishes no unchanged stream record; every new one is `_2`', async () => {
  sim = await startOrg({ users: 60 + Math.floor(rnd() * 60), logins: 50, seed: 1 + Math.floor(rnd() * 5000) });
  const { settings, topic } = streamSettings();

  // 1. the code before: contentHash digests in the stream's topic
  connector = await startOldConnector(settings);
  expect((await connector.sync()).status).toBe('succeeded');
  await connector.close();
  const old = await latestHashes(topic);
  const markedOld = [...old].filter(([, h]) => h.startsWith(ROW_DIGEST_MARK)).map(([k]) => k);
  expect(markedOld.length).toBeLessThan(old.size / 2);

  // 2. this code on the unchanged org: only the `_2`-looking old digests go out again
  connector = await connectorFor(settings, { streams: [fixtureStream({ api: rnd() < 0.5 ? 'bulk' : 'rest' })] });
  const quiet = await connector.sync();
  expect(quiet.status).toBe('succeeded');
  expect(quiet.streams?.[NAME]).toMatchObject({ published: markedOld.length, tombstoned: 0 });

  // 3. a new assignment: published with a rowDigest; the old records keep theirs
  const added = assignToSomeone(sim, 'Reports_Export', rnd);
  const before = await latestHashes(topic);
  const changed = await connector.sync();
  expect(changed.streams?.[NAME]).toMatchObject({ published: 1, tombstoned: 0 });
  const after = await latestHashes(topic);
  expect(after.get(added)?.startsWith(ROW_DIGEST_MARK)).toBe(true);
  expect([...after].filter(([k, h]) => k !== added && before.get(k) !== h)).toEqual([]);

  // 4. fullRepublish: every record with a `_2` digest, then a quiet run publishes nothing
  const full = await connector.sync({ fullRepublish: true });
  expect(full.streams?.[NAME]).toMatchObject({ published: after.size });
  const all = await latestHashes(topic);
  expect([...all.values()].filter((h) => !h.startsWith(ROW_DIGEST_MARK))).toEqual([]);
  const again = await connector.sync();
  expect(again.streams?.[NAME]).toMatchObject({ published: 0, unchanged: all.size });
}, 240_000);

/** Assigns the set to an active user who does not hold it yet, from a seeded start (the simulator
 *  refuses a second assignment of one set to one user, as Salesforce does: DUPLICATE_VALUE). */
function assignToSomeone(org: Simulator, set: string, rnd: () => number): string {
  const active = org.userIds(['active']);
  const start = Math.floor(rnd() * active.length);
  for (let i = 0; i < active.length; i++) {
    try {
      return org.assignPermissionSet(active[(start + i) % active.length], set);
    } catch (err) {
      if (!String(err).includes('DUPLICATE_VALUE')) throw err;
    }
  }
  throw new Error(`every active user holds ${set} already`);
}

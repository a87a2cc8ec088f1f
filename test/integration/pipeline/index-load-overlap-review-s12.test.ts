import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { LiveIndexTopic } from '../../../pipeline/kafka/live-index-topic';
import { readLiveIndex } from '../../../pipeline/kafka/live-index';
import { createExtractor } from '../../../connectors/salesforce';
import { ConnectorError } from '../../../kernel/errors';
import { silentLogger } from '../../../kernel/logger';
import { decodeStringKey } from '../../../schemas/keys';
import { allRecords, connectorFor, kafkaClient, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';

/**
 * Review of 77865db (s12-rev-load): the users' live index loads while the run reaches Salesforce,
 * for the org its committed state is bound to. Attacks: the index topic deleted by an operator
 * between runs (the early load looked before `ensure` created it), a run reaching another org
 * (ORG_MISMATCH before anything is published or deleted), a load that fails while connect fails
 * too or succeeds (which error, no unhandled rejection, no job leak), a run aborted while the load
 * is in flight. Every scenario ends with the removal rule checked exactly. Replay: SYNC_SEED=<n>.
 */
let sim: Simulator;
let settings: ConnectorSettings;
let connector: Connector;
const rejections: unknown[] = [];
const onRejection = (e: unknown) => rejections.push(e);
beforeAll(() => process.on('unhandledRejection', onRejection));
afterAll(() => process.off('unhandledRejection', onRejection));
afterEach(async () => {
  jest.restoreAllMocks();
  sim?.clearFaults();
  await connector?.close();
  await sim?.close();
});

/** What connect answers may be changed (another org); `connected` says connect has answered. */
let connectOrg: ((orgId: string) => string) | null = null;
let connectDelayMs = 0;
/** Runs inside connect, before it logs in (a zombie's late send). */
let connectHook: (() => Promise<void>) | null = null;
function watchedConnector(s: ConnectorSettings): Promise<Connector> {
  return connectorFor(s, {
    extractor: (cfg) => {
      const extractor = createExtractor(cfg.salesforce, { logger: silentLogger });
      const connect = extractor.connect.bind(extractor);
      extractor.connect = async () => {
        if (connectDelayMs > 0) await new Promise((r) => setTimeout(r, connectDelayMs));
        if (connectHook) await connectHook();
        const info = await connect();
        return connectOrg ? { ...info, orgId: connectOrg(info.orgId) } : info;
      };
      return extractor;
    },
  });
}

/** Replaces the users' load: `wrap` gets the real load and decides (delay, fail). */
function wrapUsersLoad(wrap: (real: () => Promise<unknown>) => Promise<unknown>): { calls: number } {
  const seen = { calls: 0 };
  const original = LiveIndexTopic.prototype.load;
  jest.spyOn(LiveIndexTopic.prototype, 'load').mockImplementation(function (this: LiveIndexTopic, ...args) {
    const users = (this as unknown as { usersTopic: string }).usersTopic === settings.topics.users;
    if (!users) return original.apply(this, args);
    seen.calls++;
    return wrap(() => original.apply(this, args)) as ReturnType<typeof original>;
  });
  return seen;
}

async function expectExact(): Promise<void> {
  const latest = await latestUsers(settings.topics.users, connector.codecs.users);
  expect([...latest.keys()].sort()).toEqual(sim.userIds().sort());
}

/** The live users the index gives (index + tail) equal a full read of the users topic. */
async function expectIndexEqualsFullRead(): Promise<void> {
  const kafka = kafkaClient();
  const topic = new LiveIndexTopic(kafka, settings.topics.users, settings.connectorName, decodeStringKey, silentLogger);
  const loaded = await topic.load(sim.orgId);
  const full = await readLiveIndex(
    kafka,
    settings.topics.users,
    settings.connectorName,
    decodeStringKey,
    silentLogger,
    sim.orgId,
  );
  expect(loaded.source).toBe('index');
  expect([...loaded.live.keys()].sort()).toEqual([...full.keys()].sort());
  for (const k of full.keys()) expect(loaded.live.get(k)).toEqual(full.get(k));
}

async function deleteTopic(name: string): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [name], timeout: 30_000 });
    for (let i = 0; i < 100 && (await admin.listTopics()).includes(name); i++)
      await new Promise((r) => setTimeout(r, 100));
  } finally {
    await admin.disconnect();
  }
}

/** An org of `users` and a connector (connect watched) after a first run; returns the users topic's record count. */
async function afterFirstRun(users: number): Promise<number> {
  sim = await startOrg({ users, logins: 200 });
  settings = settingsFor(sim);
  connector = await watchedConnector(settings);
  expect((await connector.sync()).status).toBe('succeeded');
  return (await allRecords(settings.topics.users)).length;
}

const pick = (rnd: { next(): number }, ids: string[]) => ids[Math.floor(rnd.next() * ids.length)];

it('index topic deleted between runs: rebuilt, exactly the user gone removed, next run reads the index', async () => {
  const rnd = seededRandom('index-load-review-deleted-topic');
  await afterFirstRun(50 + Math.floor(rnd.next() * 50));

  await deleteTopic(`${settings.topics.users}.live-index`);
  const gone = pick(rnd, sim.userIds());
  sim.deleteUser(gone);
  const changed = pick(rnd, sim.userIds());
  sim.updateUser(changed, { Title: 'After the index went' });
  // connect slow: the early load surely looks (and finds no index) before ensure creates it
  connectDelayMs = 500;
  const second = await connector.sync();
  connectDelayMs = 0;
  expect(second).toMatchObject({ status: 'succeeded', usersTombstoned: 1 });
  await expectExact();
  await expectIndexEqualsFullRead();

  const gone2 = pick(rnd, sim.userIds());
  sim.deleteUser(gone2);
  expect(await connector.sync()).toMatchObject({ status: 'succeeded', usersTombstoned: 1 });
  await expectExact();
  await expectIndexEqualsFullRead();
});

it('a run reaching another org refuses before publishing or deleting anything, while its early load ran', async () => {
  const users = await afterFirstRun(40);
  const index = (await allRecords(`${settings.topics.users}.live-index`)).length;

  sim.deleteUser(sim.userIds()[2]);
  sim.updateUser(sim.userIds()[5], { Title: 'Other org' });
  const loads = wrapUsersLoad((real) => real());
  connectOrg = () => '00D000000000OTHERAAA'.slice(0, 18);
  const refused = await connector.sync();
  connectOrg = null;
  expect(refused.status).toBe('failed');
  expect(refused.error?.code).toBe('ORG_MISMATCH');
  expect(loads.calls).toBe(1);
  expect(await allRecords(settings.topics.users)).toHaveLength(users);
  expect(await allRecords(`${settings.topics.users}.live-index`)).toHaveLength(index);
  expect(sim.openQueryJobs()).toEqual([]);
  jest.restoreAllMocks();

  expect(await connector.sync()).toMatchObject({ status: 'succeeded', usersTombstoned: 1 });
  await expectExact();
});

it('load fails while the login fails too: login error reported, no unhandled rejection', async () => {
  const users = await afterFirstRun(40);

  rejections.length = 0;
  // the load fails at once, long before connect answers (its rejection waits unobserved meanwhile)
  wrapUsersLoad(() =>
    Promise.reject(new ConnectorError('READ_TO_END_OFFSET_GONE', 'the index was truncated under the read')),
  );
  connectDelayMs = 300;
  sim.inject({ kind: 'loginFails', times: 50 });
  const failed = await connector.sync();
  connectDelayMs = 0;
  sim.clearFaults();
  await new Promise((r) => setTimeout(r, 50));
  expect(failed.status).toBe('failed');
  expect(failed.error?.code).not.toBe('READ_TO_END_OFFSET_GONE');
  expect(failed.error?.code).toMatch(/SALESFORCE|GRANT|LOGIN|AUTH/);
  expect(rejections).toEqual([]);
  expect(await allRecords(settings.topics.users)).toHaveLength(users);
  jest.restoreAllMocks();

  sim.deleteUser(sim.userIds()[7]);
  expect(await connector.sync()).toMatchObject({ status: 'succeeded', usersTombstoned: 1 });
  await expectExact();
});

it('load fails, connect succeeds: fails with the load error, no job left, nothing published', async () => {
  const users = await afterFirstRun(40);

  rejections.length = 0;
  wrapUsersLoad(async () => {
    await new Promise((r) => setTimeout(r, 100));
    throw new ConnectorError('READ_TO_END_OFFSET_GONE', 'the index was truncated under the read');
  });
  sim.deleteUser(sim.userIds()[4]);
  const failed = await connector.sync();
  await new Promise((r) => setTimeout(r, 50));
  expect(failed.status).toBe('failed');
  expect(failed.error?.code).toBe('READ_TO_END_OFFSET_GONE');
  expect(rejections).toEqual([]);
  expect(await allRecords(settings.topics.users)).toHaveLength(users);
  expect(sim.openQueryJobs()).toEqual([]);
  jest.restoreAllMocks();

  expect(await connector.sync()).toMatchObject({ status: 'succeeded', usersTombstoned: 1 });
  await expectExact();
});

it('a run aborted while the load is in flight returns promptly, publishes nothing, leaves no job', async () => {
  const users = await afterFirstRun(40);

  let loadEnded = false;
  wrapUsersLoad(async (real) => {
    await new Promise((r) => setTimeout(r, 1_500));
    const out = await real();
    loadEnded = true;
    return out;
  });
  sim.deleteUser(sim.userIds()[9]);
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('stopped by the operator')), 200);
  const started = Date.now();
  const stopped = await connector.sync({ signal: ac.signal });
  expect(stopped.status).toBe('failed');
  // the run returned only after its load ended (nothing of it goes on behind the caller's back)
  expect(loadEnded).toBe(true);
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(await allRecords(settings.topics.users)).toHaveLength(users);
  expect(sim.openQueryJobs()).toEqual([]);
  jest.restoreAllMocks();

  expect(await connector.sync()).toMatchObject({ status: 'succeeded', usersTombstoned: 1 });
  await expectExact();
});

describe('the reset / re-point flow with the early load', () => {
  const sims: Simulator[] = [];
  afterEach(async () => {
    for (const s of sims.splice(0)) await s.close();
  });
  const pointedAt = (a: ConnectorSettings, b: Simulator): ConnectorSettings => ({
    ...a,
    salesforce: settingsFor(b).salesforce,
  });

  it.each([
    ['18', (id: string) => id],
    // Setup > Company Information shows the 15-character Id; reset's own check accepts it
    ['15', (id: string) => id.slice(0, 15)],
  ])(
    're-pointed with the %s-character org Id: the new org synced exactly, the old org left alone',
    async (_form, form) => {
      const rnd = seededRandom('index-load-review-repoint');
      const seedA = 1 + Math.floor(rnd.next() * 1000);
      const a = await startOrg({ users: 15, logins: 100, seed: seedA });
      const b = await startOrg({ users: 15, logins: 100, seed: seedA + 1 + Math.floor(rnd.next() * 1000) });
      sims.push(a, b);
      sim = b;
      settings = settingsFor(a);
      const first = await connectorFor(settings);
      expect((await first.sync()).status).toBe('succeeded');
      await first.close();

      connector = await connectorFor(pointedAt(settings, b));
      expect((await connector.sync()).error?.code).toBe('ORG_MISMATCH');
      await connector.reset(form(b.orgId));
      const repointed = await connector.sync();
      expect({ status: repointed.status, error: repointed.error?.message }).toEqual({
        status: 'succeeded',
        error: undefined,
      });
      expect(repointed.usersTombstoned).toBe(0);
      // the user's assignments go with them: the declared streams remove exactly those (from B)
      const gone = b.userIds()[3];
      const held = (object: string) => b.objectRows(object, ['AssigneeId']).filter((r) => r.AssigneeId === gone).length;
      const expectedGone = { psa: held('PermissionSetAssignment'), psla: held('PermissionSetLicenseAssign') };
      b.deleteUser(gone);
      // allowMassDelete: a user of 15 may hold one of the org's only two PermissionSetLicenseAssign
      // records, and the deletion guard then stops the run by its own rule (1 of 2 is not under half;
      // the streams' guard: test/integration/streams/generic.test.ts). A trial CI (session 24) failed
      // so: SYNC_SEED=602723066. The removals are counted above instead.
      const third = await connector.sync({ allowMassDelete: true });
      expect({
        status: third.status,
        error: third.error?.message,
        tombstoned: third.usersTombstoned,
        psa: third.streams?.['permission-set-assignments']?.tombstoned,
        psla: third.streams?.['permission-set-license-assignments']?.tombstoned,
      }).toEqual({ status: 'succeeded', error: undefined, tombstoned: 1, ...expectedGone });
      const latest = await latestUsers(settings.topics.users, connector.codecs.users);
      expect([...latest.keys()].sort()).toEqual([...a.userIds(), ...b.userIds()].sort());
    },
  );
});

it('a zombie publishing a user while the next run connects: that complete run removes it', async () => {
  const rnd = seededRandom('index-load-review-zombie-window');
  await afterFirstRun(30 + Math.floor(rnd.next() * 30));
  const x = pick(rnd, sim.userIds());
  const published = (await allRecords(settings.topics.users)).filter((r) => r.key === x && r.value !== null);
  const raw: { key: Buffer; value: Buffer; headers: Record<string, string> }[] = [];
  // X's record as it was published (raw key and value), to publish again as a zombie would
  const { readToEnd } = await import('../../../pipeline/kafka/read-to-end');
  await readToEnd(kafkaClient(), settings.topics.users, (m) => {
    if (m.key && m.value && decodeStringKey(m.key) === x) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
      raw.push({ key: m.key, value: m.value, headers });
    }
  });
  expect(published.length).toBeGreaterThan(0);
  sim.deleteUser(x);
  expect(await connector.sync()).toMatchObject({ status: 'succeeded', usersTombstoned: 1 });

  // run A (whose lease ran out, its users not fenced) still publishes X as it saw it, while run C
  // reaches Salesforce: after C's fence is open, before C's connect answers
  let loadsEnded = 0;
  wrapUsersLoad(async (real) => {
    try {
      return await real();
    } finally {
      loadsEnded++;
    }
  });
  const zombie = kafkaClient().producer();
  await zombie.connect();
  // inside C's connect, once C's early load (if it started one) has ended: X as A saw it
  connectHook = async () => {
    for (let i = 0; i < 100 && loadsEnded === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const last = raw[raw.length - 1];
    await zombie.send({
      topic: settings.topics.users,
      messages: [{ key: last.key, value: last.value, headers: last.headers }],
    });
  };
  const sync = connector.sync().finally(() => (connectHook = null));
  const third = await sync;
  await zombie.disconnect();
  expect(third.status).toBe('succeeded');
  const latest = await latestUsers(settings.topics.users, connector.codecs.users);
  // X, imported (by A) before C's users were read, and missing from C's complete run, is removed by C
  // on main (77865db) X stays live after C (usersTombstoned 0) and only the run after C removes it;
  // with the load after connect (8384e28) C removes it
  expect({ x, live: latest.has(x) }).toEqual({ x, live: false });
});

it('a dry run loads early too and changes nothing; the run after removes exactly the user gone', async () => {
  const users = await afterFirstRun(30);
  const index = (await allRecords(`${settings.topics.users}.live-index`)).length;
  sim.deleteUser(sim.userIds()[1]);
  const loads = wrapUsersLoad((real) => real());
  const dry = await connector.sync({ dryRun: true });
  expect(dry.status).toBe('succeeded');
  expect(loads.calls).toBe(1);
  expect(await allRecords(settings.topics.users)).toHaveLength(users);
  expect(await allRecords(`${settings.topics.users}.live-index`)).toHaveLength(index);
  jest.restoreAllMocks();
  expect(await connector.sync()).toMatchObject({ status: 'succeeded', usersTombstoned: 1 });
  await expectExact();
});

import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { connectorFor, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';
import { expectLoginsDuringRunsPublishedOnce } from '../../support/logins-during-runs';
import { latestRecords } from '../../support/stream-topics';
import { createExtractor, type SalesforceExtractor } from '../../../connectors/salesforce';
import { silentLogger } from '../../../kernel/logger';

/**
 * (loginOverlapMs 0 fails here, and on acb6b36 before the change: logins-overlap-zero-review.test.ts.)
 *
 * Review of s9-routine (query jobs created ahead of their reads), adversarially: the run stopped by
 * the API budget at any call, a dry run, a session expiring or the credentials revoked while the
 * jobs are created ahead. The promise: no Salesforce job left behind, nothing downstream changed
 * by a failed run. Each randomized test prints its seed; replay with SYNC_SEED=<n>.
 */
let sim: Simulator;
let settings: ConnectorSettings;
let connector: Connector | null = null;

afterEach(async () => {
  await connector?.close();
  connector = null;
  await sim?.close();
});

const sorted = (xs: Iterable<string>) => [...xs].sort();

async function setUp(): Promise<void> {
  sim = await startOrg({ users: 200, logins: 400 });
  settings = settingsFor(sim, {}, ['active']);
  connector = await connectorFor(settings);
  expect(await connector.sync()).toMatchObject({ status: 'succeeded' });
  expect(sim.openQueryJobs()).toEqual([]);
}

async function reconnect(over: Partial<ConnectorSettings['salesforce']>): Promise<void> {
  await connector?.close();
  connector = await connectorFor({ ...settings, salesforce: { ...settings.salesforce, ...over } });
}

describe('s9-routine review: jobs created ahead', () => {
  it('a run stopped by its API budget (apiMaxCalls) at any call leaves no query job in the org', async () => {
    await setUp();
    // a routine run's calls, measured
    const probe = await connector!.sync();
    expect(probe).toMatchObject({ status: 'succeeded', usersRead: { kind: 'incremental' } });
    const full = probe.apiCalls;
    expect(full).toBeGreaterThan(10);
    const rnd = seededRandom(`prestart-review-budget`);
    const before = await latestUsers(settings.topics.users, connector!.codecs.users);
    sim.deleteUser(sorted(before.keys())[0]); // a deletion no failed run may publish
    const leaks: string[] = [];
    const left = new Set<string>();
    // a few cut points spread over the run (the calls counted from the extractor's start: the
    // connect's own calls come first), each on a fresh extractor (apiMaxCalls counts per extractor)
    const cuts = [...new Set(Array.from({ length: 6 }, () => 3 + Math.floor(rnd.next() * (full - 4))))].sort(
      (a, b) => a - b,
    );
    for (const maxCalls of cuts) {
      await reconnect({ apiMaxCalls: maxCalls });
      const run = await connector!.sync();
      expect(run).toMatchObject({ status: 'failed', usersTombstoned: 0, error: { code: 'SALESFORCE_API_BUDGET' } });
      const open = sim.openQueryJobs().filter((j) => !left.has(j.id));
      for (const j of open) left.add(j.id);
      if (open.length > 0)
        leaks.push(`apiMaxCalls=${maxCalls}: ${open.map((j) => `${j.object}(${j.state})`).join(', ')}`);
    }
    const after = await latestUsers(settings.topics.users, connector!.codecs.users);
    expect(sorted(after.keys())).toEqual(sorted(before.keys()));
    // no job may be left: Salesforce keeps them (and their results) up to 7 days
    expect({ routineCalls: full, cuts, leaks }).toEqual({ routineCalls: full, cuts, leaks: [] });
  });

  it('a run stopped by its API budget leaves no more jobs behind than without the prestart', async () => {
    await setUp();
    const probe = await connector!.sync();
    expect(probe).toMatchObject({ status: 'succeeded', usersRead: { kind: 'incremental' } });
    const rnd = seededRandom(`prestart-review-budget-ab`);
    const plain = (s: ConnectorSettings): SalesforceExtractor =>
      new Proxy(createExtractor(s.salesforce, { logger: silentLogger }), {
        get: (t, prop) => (prop === 'prestart' ? undefined : (Reflect.get(t, prop) as unknown)),
      });
    const left = new Set<string>();
    const leftNow = () => {
      const open = sim.openQueryJobs().filter((j) => !left.has(j.id));
      for (const j of open) left.add(j.id);
      return open.map((j) => `${j.object}(${j.state})`);
    };
    const worse: string[] = [];
    const cuts = [...new Set(Array.from({ length: 5 }, () => 10 + Math.floor(rnd.next() * 25)))].sort((a, b) => a - b);
    for (const maxCalls of cuts) {
      const over = { ...settings, salesforce: { ...settings.salesforce, apiMaxCalls: maxCalls } };
      await connector?.close();
      connector = await connectorFor(over, { extractor: plain });
      const a = await connector.sync();
      const leftA = leftNow();
      await connector.close();
      connector = await connectorFor(over);
      const b = await connector.sync();
      const leftB = leftNow();
      expect([a.status, b.status]).toEqual(['failed', 'failed']);
      if (leftB.length > leftA.length)
        worse.push(`apiMaxCalls=${maxCalls}: without ${JSON.stringify(leftA)}, with ${JSON.stringify(leftB)}`);
    }
    expect({ cuts, worse }).toEqual({ cuts, worse: [] });
  });

  it('a dry run leaves no query job in the org and publishes nothing', async () => {
    await setUp();
    const before = await latestUsers(settings.topics.users, connector!.codecs.users);
    sim.deleteUser(sorted(before.keys())[0]);
    sim.updateUser(sorted(before.keys())[1], { Title: 'Dry' });
    const run = await connector!.sync({ dryRun: true });
    expect(run).toMatchObject({ status: 'succeeded', dryRun: true });
    expect(sim.openQueryJobs()).toEqual([]);
    const after = await latestUsers(settings.topics.users, connector!.codecs.users);
    expect(sorted(after.keys())).toEqual(sorted(before.keys()));
  });

  it('a session expiring while the jobs are created ahead: the run succeeds, no job left behind', async () => {
    await setUp();
    sim.inject({ kind: 'expireSession' });
    const run = await connector!.sync();
    expect(run).toMatchObject({ status: 'succeeded' });
    expect(sim.openQueryJobs()).toEqual([]);
  });
});

describe('s9-routine review: the calls a routine run makes', () => {
  /** A run's requests, ids and dates blanked: what it asked Salesforce, as a multiset. */
  const shape = (from: number): Map<string, number> => {
    const out = new Map<string, number>();
    for (const r of sim.requests.slice(from)) {
      if (!r.path.startsWith('/services/data')) continue;
      const k = `${r.method} ${r.path.split('?')[0].replace(/\/[A-Za-z0-9]{15,18}(?=\/|$)/g, '/:id')}`;
      out.set(k, (out.get(k) ?? 0) + 1);
    }
    return out;
  };
  const diff = (a: Map<string, number>, b: Map<string, number>) =>
    [...new Set([...a.keys(), ...b.keys()])]
      .filter((k) => (a.get(k) ?? 0) !== (b.get(k) ?? 0))
      .map((k) => `${k}: ${a.get(k) ?? 0} without the prestart, ${b.get(k) ?? 0} with it`)
      .sort();

  it('a routine run makes exactly the calls it made without the jobs created ahead', async () => {
    sim = await startOrg({ users: 200, logins: 400 });
    settings = settingsFor(sim, {}, ['active']);
    // the same extractor, its prestart hidden: every read creates its own job, as before the change
    const plain = (s: ConnectorSettings): SalesforceExtractor => {
      const e = createExtractor(s.salesforce, { logger: silentLogger });
      return new Proxy(e, {
        get: (t, prop) => (prop === 'prestart' ? undefined : (Reflect.get(t, prop) as unknown)),
      });
    };
    const without = await connectorFor(settings, { extractor: plain });
    expect(await without.sync()).toMatchObject({ status: 'succeeded' });
    expect(await without.sync()).toMatchObject({ status: 'succeeded', usersRead: { kind: 'incremental' } });
    let from = sim.requests.length;
    const a = await without.sync();
    expect(a).toMatchObject({ status: 'succeeded', usersRead: { kind: 'incremental' } });
    const shapeA = shape(from);
    await without.close();
    connector = await connectorFor(settings);
    from = sim.requests.length;
    const b = await connector.sync();
    expect(b).toMatchObject({ status: 'succeeded', usersRead: { kind: 'incremental' } });
    const shapeB = shape(from);
    expect(sim.openQueryJobs()).toEqual([]);
    // The same job calls; never a call more of any kind (the plan shares the stream reads' describes,
    // so a stream read twice, changed rows and Id snapshot, is described once instead of twice).
    const more = [...shapeB].filter(([k, n]) => n > (shapeA.get(k) ?? 0)).map(([k]) => k);
    const jobs = (m: Map<string, number>) => [...m].filter(([k]) => k.includes('/jobs/query'));
    expect({ more, jobs: jobs(shapeB), diff: diff(shapeA, shapeB) }).toEqual({
      more: [],
      jobs: jobs(shapeA),
      diff: diff(shapeA, shapeB).filter((d) => d.includes('/describe')),
    });
    // (the summary's apiCalls is the extractor's count when the users phase ends: the streams' jobs
    // created ahead are counted by then, so it is not compared; the org's requests above are)
  });
});

describe('s9-routine review: a run stopped at any moment', () => {
  it('leaves no query job and changes nothing downstream (random stop points)', async () => {
    await setUp();
    const rnd = seededRandom(`prestart-review-stop`);
    const t0 = Date.now();
    expect(await connector!.sync()).toMatchObject({ status: 'succeeded' });
    const took = Date.now() - t0;
    const problems: string[] = [];
    for (let round = 0; round < 6; round++) {
      const before = await latestUsers(settings.topics.users, connector!.codecs.users);
      const victim = rnd.pick(sorted(before.keys()));
      sim.deleteUser(victim);
      const at = Math.floor(rnd.next() * took);
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(new Error('stopped by the test')), at);
      const run = await connector!.sync({ signal: stop.signal });
      clearTimeout(timer);
      const open = sim.openQueryJobs();
      if (open.length > 0) problems.push(`stop at ${at} ms (${run.status}): left ${JSON.stringify(open)}`);
      const after = await latestUsers(settings.topics.users, connector!.codecs.users);
      if (run.status === 'failed' && after.size !== before.size)
        problems.push(`stop at ${at} ms: a failed run changed the users topic`);
      if (run.status === 'succeeded' && after.has(victim)) problems.push(`stop at ${at} ms: the deleted user kept`);
      // catch up
      expect(await connector!.sync()).toMatchObject({ status: 'succeeded' });
      expect(sim.openQueryJobs()).toEqual([]);
    }
    expect(problems).toEqual([]);
    const users = await latestUsers(settings.topics.users, connector!.codecs.users);
    expect(sorted(users.keys())).toEqual(sorted(sim.userIds(['active'])));
  });
});

describe('s9-routine review: the removal rule with the jobs created ahead', () => {
  it('changes before and during runs: never a present user removed, never a missing one kept', async () => {
    await setUp();
    const rnd = seededRandom(`prestart-review-removal`);
    const t0 = Date.now();
    expect(await connector!.sync()).toMatchObject({ status: 'succeeded' });
    const took = Math.max(200, Date.now() - t0);
    const problems: string[] = [];
    const states: ('active' | 'inactive' | 'frozen')[] = ['active', 'inactive', 'frozen'];
    const change = (touched: Set<string>) => {
      const all = sim.userIds(states);
      const op = rnd.next();
      if (op < 0.15) touched.add(sim.addUser({ LastName: `New ${rnd.next()}` }));
      else {
        const id = rnd.pick(all);
        touched.add(id);
        if (op < 0.3) sim.deleteUser(id);
        else if (op < 0.7) sim.setUserState(id, rnd.pick(states));
        else sim.updateUser(id, { Title: `T ${rnd.next()}` });
      }
    };
    for (let round = 1; round <= 5; round++) {
      // changes between runs: the run must reflect them exactly
      const quietBefore = new Set<string>();
      for (let i = 0; i < 4; i++) change(quietBefore);
      const before = await latestUsers(settings.topics.users, connector!.codecs.users);
      const selectedAtStart = new Set(sim.userIds(['active']));
      // changes while the run goes: its jobs were created ahead, their reads come later
      const during = new Set<string>();
      const timers = Array.from({ length: 6 }, () => setTimeout(() => change(during), Math.floor(rnd.next() * took)));
      const run = await connector!.sync();
      timers.forEach(clearTimeout);
      expect(run).toMatchObject({ status: 'succeeded' });
      const after = await latestUsers(settings.topics.users, connector!.codecs.users);
      for (const id of before.keys())
        if (!after.has(id) && selectedAtStart.has(id) && !during.has(id))
          problems.push(`round ${round}: ${id} removed, present throughout the run`);
      for (const id of after.keys())
        if (!selectedAtStart.has(id) && !during.has(id))
          problems.push(
            `round ${round}: ${id} kept, missing throughout the run (${quietBefore.has(id) ? 'changed' : 'not'})`,
          );
      for (const id of selectedAtStart)
        if (!during.has(id) && !after.has(id))
          problems.push(`round ${round}: ${id} selected throughout, not in the topic`);
      expect(sim.openQueryJobs()).toEqual([]);
    }
    expect(problems).toEqual([]);
    expect(await connector!.sync()).toMatchObject({ status: 'succeeded' });
    const users = await latestUsers(settings.topics.users, connector!.codecs.users);
    const selected = sim.userIds(['active']);
    expect(sorted(users.keys())).toEqual(sorted(selected));
    for (const id of selected)
      expect({ id, title: users.get(id)!.title ?? null }).toEqual({
        id,
        title: sim.userRow(id, ['Title']).Title || null,
      });
  });
});

describe('s9-routine review: a snapshot stream whose jobs were created ahead', () => {
  it('assignments made and removed during runs: never a present one removed, never a missing one kept', async () => {
    await setUp();
    const rnd = seededRandom(`prestart-review-psa`);
    const topic = settings.topics.streams!['permission-set-assignments'];
    const orgKeys = () => new Set(sim.objectRows('PermissionSetAssignment', ['Id']).map((r) => r.Id));
    const topicKeys = async () => new Set((await latestRecords(topic)).latest.keys());
    expect(sorted(await topicKeys())).toEqual(sorted(orgKeys()));
    const t0 = Date.now();
    expect(await connector!.sync()).toMatchObject({ status: 'succeeded' });
    const took = Math.max(200, Date.now() - t0);
    const sets = ['Reports_Export'];
    const change = (touched: Set<string>) => {
      if (rnd.next() < 0.5) {
        const id = rnd.pick(sorted(orgKeys()));
        try {
          sim.unassignPermissionSet(id);
          touched.add(id);
        } catch {
          /* a profile's own set: not removable */
        }
      } else {
        try {
          touched.add(sim.assignPermissionSet(rnd.pick(sim.userIds(['active'])), rnd.pick(sets)));
        } catch {
          /* already held */
        }
      }
    };
    const problems: string[] = [];
    for (let round = 1; round <= 5; round++) {
      const quiet = new Set<string>();
      for (let i = 0; i < 3; i++) change(quiet);
      const before = await topicKeys();
      const atStart = orgKeys();
      const during = new Set<string>();
      const timers = Array.from({ length: 6 }, () => setTimeout(() => change(during), Math.floor(rnd.next() * took)));
      const run = await connector!.sync();
      timers.forEach(clearTimeout);
      expect(run).toMatchObject({ status: 'succeeded' });
      const after = await topicKeys();
      for (const id of before)
        if (!after.has(id) && atStart.has(id) && !during.has(id))
          problems.push(`round ${round}: ${id} removed, present`);
      for (const id of after)
        if (!atStart.has(id) && !during.has(id)) problems.push(`round ${round}: ${id} kept, missing throughout`);
      for (const id of atStart)
        if (!during.has(id) && !after.has(id)) problems.push(`round ${round}: ${id} present throughout, not published`);
      expect(sim.openQueryJobs()).toEqual([]);
    }
    expect(problems).toEqual([]);
    expect(await connector!.sync()).toMatchObject({ status: 'succeeded' });
    expect(sorted(await topicKeys())).toEqual(sorted(orgKeys()));
  });
});

describe('s9-routine review: two connectors on one org', () => {
  it('run side by side, each takes only its own jobs: both topics the org, no job left behind', async () => {
    await setUp();
    const rnd = seededRandom(`prestart-review-two`);
    const otherSettings = settingsFor(sim, {}, ['active']);
    const other = await connectorFor(otherSettings);
    try {
      expect(await other.sync()).toMatchObject({ status: 'succeeded' });
      for (let round = 1; round <= 3; round++) {
        for (const id of rnd.sample(sim.userIds(['active']), 2)) sim.updateUser(id, { Title: `Two ${rnd.next()}` });
        sim.deleteUser(rnd.pick(sim.userIds(['active'])));
        sim.addUser({ LastName: `Two ${round}` });
        const [a, b] = await Promise.all([connector!.sync(), other.sync()]);
        expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
        expect(sim.openQueryJobs()).toEqual([]);
      }
      const selected = sorted(sim.userIds(['active']));
      for (const [s, c] of [
        [settings, connector!],
        [otherSettings, other],
      ] as const) {
        const users = await latestUsers(s.topics.users, c.codecs.users);
        expect(sorted(users.keys())).toEqual(selected);
        for (const id of selected)
          expect({ id, title: users.get(id)!.title ?? null }).toEqual({
            id,
            title: sim.userRow(id, ['Title']).Title || null,
          });
      }
    } finally {
      await other.close();
    }
  });
});

describe('s9-routine review: login events while the LoginHistory job waits created ahead', () => {
  it.each([undefined])('logins added during runs are published exactly once (loginOverlapMs %p)', async (overlap) => {
    await setUp();
    if (overlap !== undefined) await reconnect({ loginOverlapMs: overlap });
    const rnd = seededRandom(`prestart-review-logins`);
    await expectLoginsDuringRunsPublishedOnce(connector!, sim, settings.topics.logins, rnd);
  });
});

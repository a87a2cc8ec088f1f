import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import type { RunSummary, SyncProgress } from '../../../pipeline/sync';
import { connectorFor, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';

/**
 * A run creates its Bulk query jobs ahead, at its start (issue 15: Salesforce processes them while
 * the live index loads and the earlier ones are read). The new concurrency, adversarially:
 *  - the next jobs are created before their reads, in the reads' order, and each read takes its
 *    own (no statement is queried twice in a run);
 *  - a job that fails while the others are pending fails the run safely, and no job is left behind
 *    (the pending ones are aborted and deleted);
 *  - a run stopped mid-run leaves no job behind either;
 *  - users changed, added and deleted between the jobs' snapshots and their reads: the next run
 *    still brings the users topic to exactly the org's selection (the watermark never passes what
 *    the earlier snapshots missed). Replay with SYNC_SEED=<n>.
 */
let sim: Simulator;
let settings: ConnectorSettings;
let connector: Connector;

afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

const STATUSES = ['active'];
const sorted = (xs: Iterable<string>) => [...xs].sort();

async function setUp(): Promise<void> {
  sim = await startOrg({ users: 200, logins: 400 });
  settings = settingsFor(sim, {}, STATUSES);
  settings.salesforce.usersOverlapMs = 2000;
  connector = await connectorFor(settings);
  const first = await connector.sync();
  expect(first).toMatchObject({ status: 'succeeded' });
  // a first run knows no LoginHistory statement ahead (its look-back moves with the clock): nothing
  // is created ahead, and LoginHistory's snapshot still comes before the users'
  const objects = sim.queryJobs.map((j) => j.object);
  expect(objects.indexOf('LoginHistory')).toBeGreaterThanOrEqual(0);
  expect(objects.indexOf('LoginHistory')).toBeLessThan(objects.indexOf('User'));
  expect(sim.openQueryJobs()).toEqual([]);
}

/** The queries of the jobs created since `from` that more than one job ran (UserLogin is read twice
 *  when the status selection needs it: for the logins and for the users). */
function repeated(from: number): string[] {
  const seen = new Map<string, number>();
  for (const j of sim.queryJobs.slice(from))
    if (j.object !== 'UserLogin') seen.set(j.query, (seen.get(j.query) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([q]) => q);
}

describe('query jobs created ahead', () => {
  it('are created before their reads, in their order, and each is read by its own read', async () => {
    await setUp();
    const from = sim.queryJobs.length;
    let atLogins: string[] | null = null;
    const run = await connector.sync({
      onProgress: (p: SyncProgress) => {
        if (p.phase === 'users' && atLogins === null)
          atLogins = sim.queryJobs.slice(from).map((j) => `${j.object}: ${j.query}`);
      },
    });
    expect(run).toMatchObject({ status: 'succeeded', usersRead: { kind: 'incremental' } });
    // by the time LoginHistory has been read, the users' changed rows' job exists already (created
    // when LoginHistory's read took its own)
    expect(atLogins!.some((q) => /^User: SELECT .* FROM User WHERE .*SystemModstamp >= /.test(q))).toBe(true);
    expect(repeated(from)).toEqual([]);
    expect(sim.openQueryJobs()).toEqual([]);
    // the snapshots in the order the reads take them: LoginHistory, then the users, then the streams
    const objects = sim.queryJobs.slice(from).map((j) => j.object);
    expect(objects.indexOf('LoginHistory')).toBeLessThan(objects.indexOf('User'));
    expect(objects.lastIndexOf('User')).toBeLessThan(objects.indexOf('PermissionSetAssignment'));
  });

  it.each(['LoginHistory', 'User', 'PermissionSetAssignment'])(
    'a %s job that fails while the others are pending fails the run and leaves no job behind',
    async (object) => {
      await setUp();
      const before = await latestUsers(settings.topics.users, connector.codecs.users);
      sim.deleteUser(sorted(before.keys())[0]); // a deletion the failed run must not publish
      sim.inject({ kind: 'jobFails', object });
      const run = await connector.sync();
      expect(run).toMatchObject({ status: 'failed', usersTombstoned: 0, error: { code: 'SALESFORCE_JOB_FAILED' } });
      expect(sim.openQueryJobs()).toEqual([]);
      const after = await latestUsers(settings.topics.users, connector.codecs.users);
      expect(sorted(after.keys())).toEqual(sorted(before.keys()));
      // the next run reads as if the failed one never happened
      const next = await connector.sync();
      expect(next).toMatchObject({ status: 'succeeded', usersTombstoned: 1 });
      expect(sim.openQueryJobs()).toEqual([]);
    },
  );

  it.each(['logins', 'users'] as const)('a run stopped in its %s phase leaves no job behind', async (phase) => {
    await setUp();
    const stop = new AbortController();
    const run = await connector.sync({
      signal: stop.signal,
      onProgress: (p) => {
        if (p.phase === phase) stop.abort(new Error('stopped by the test'));
      },
    });
    expect(run).toMatchObject({ status: 'failed', usersTombstoned: 0 });
    expect(sim.openQueryJobs()).toEqual([]);
    expect(await connector.sync()).toMatchObject({ status: 'succeeded' });
    expect(sim.openQueryJobs()).toEqual([]);
  });

  it('users changed between the jobs snapshots and their reads are caught up by the next run', async () => {
    const rnd = seededRandom('prestart-jobs');
    await setUp();
    for (let round = 1; round <= 3; round++) {
      let changed = false;
      const run = await connector.sync({
        onProgress: (p) => {
          // the jobs exist (created at the start); their reads have not all happened yet
          if (p.phase !== 'users' || changed) return;
          changed = true;
          for (const id of rnd.sample(sim.userIds(['active']), 3))
            sim.updateUser(id, { Title: `R${round} ${rnd.next()}` });
          for (const id of rnd.sample(sim.userIds(['active']), 2)) sim.deleteUser(id);
          sim.addUser({ LastName: `New ${round}` });
          for (const id of rnd.sample(sim.userIds(['active']), 1)) sim.setUserState(id, 'inactive');
        },
      });
      expect(run).toMatchObject({ status: 'succeeded' });
      expect(sim.openQueryJobs()).toEqual([]);
    }
    // one more run with nothing changed: the topic is exactly the org's selection, field by field
    const last: RunSummary = await connector.sync();
    expect(last).toMatchObject({ status: 'succeeded', usersRead: { kind: 'incremental' } });
    const users = await latestUsers(settings.topics.users, connector.codecs.users);
    const selected = sim.userIds(['active']);
    expect(sorted(users.keys())).toEqual(sorted(selected));
    for (const id of selected)
      expect({ id, title: users.get(id)!.title ?? null }).toEqual({
        id,
        title: sim.userRow(id, ['Title']).Title || null,
      });
  });
});

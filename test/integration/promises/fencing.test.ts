import { createExtractor, type SalesforceExtractor } from '../../../connectors/salesforce';
import { silentLogger } from '../../../kernel/logger';
import { DEFAULT_LOCK, processAlive } from '../../../pipeline/kafka/state-store';
import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import type { RunSummary } from '../../../pipeline/sync';
import { allRecords, connectorFor, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';
import { waitFor } from '../../support/wait';

/**
 * Promise 3: a run that lost its lock cannot delete or commit. The broker fences it (a
 * transactional producer per connector), not a clock: here the second run takes the lock because
 * its clock runs two minutes ahead (the first run's lease looks expired), and the first run,
 * paused meanwhile, then finds every tombstone and state record of its own refused.
 */
let sim: Simulator;
const connectors: Connector[] = [];
afterEach(async () => {
  for (const c of connectors.splice(0)) await c.close();
  await sim?.close();
});

/** The real extractor, whose connect() waits for `gate`: the run holds the lock and waits there. */
function gated(settings: ConnectorSettings, gate: Promise<void>, reached: () => void): SalesforceExtractor {
  const real = createExtractor(settings.salesforce, { logger: silentLogger });
  return {
    connect: async () => {
      reached();
      await gate;
      return real.connect();
    },
    users: () => real.users(),
    logins: (from) => real.logins(from),
    close: () => real.close(),
  };
}

/** Run A: takes the lock and pauses in connect() until `open()` is called. */
async function pausedRun(settings: ConnectorSettings): Promise<{ zombie: Promise<RunSummary>; open: () => void }> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let paused = false;
  const zombieConnector = await connectorFor(settings, { extractor: (s) => gated(s, gate, () => (paused = true)) });
  connectors.push(zombieConnector);
  const zombie = zombieConnector.sync();
  await waitFor('run A to hold the lock and pause', 30_000, async () => paused);
  return { zombie, open };
}

it('a zombie run (its lock taken over) publishes no tombstone and commits no state', async () => {
  const rnd = seededRandom('fencing');
  sim = await startOrg({ users: 60, logins: 300, seed: 1 + Math.floor(rnd.next() * 1000) });
  const settings = settingsFor(sim, {}, ['active', 'inactive', 'frozen']);
  const first = await connectorFor(settings);
  connectors.push(first);
  expect((await first.sync()).status).toBe('succeeded');
  const gone = rnd.sample(sim.userIds(), 2 + Math.floor(rnd.next() * 3));
  for (const id of gone) sim.deleteUser(id);

  // run A takes the lock, then pauses (a long GC pause, a frozen VM, a network partition)
  const { zombie, open } = await pausedRun(settings);

  // run B, on a host whose clock is two minutes ahead, finds A's lease expired and takes over
  const ahead = { ...DEFAULT_LOCK, host: 'host-b', now: () => Date.now() + 120_000 };
  const taker = await connectorFor(settings, { lock: ahead });
  connectors.push(taker);
  const b = await taker.sync();
  expect(b).toMatchObject({ status: 'succeeded', usersTombstoned: gone.length });

  // A wakes up and carries on: everything it would delete or commit is refused by the broker
  open();
  const a = await zombie;
  expect(a.status).toBe('failed');
  expect(a.error?.code).toBe('RUN_FENCED');
  const tombstonesByA = (await allRecords(settings.topics.users)).filter(
    (r) => r.value === null && r.headers['neurons-run-id'] === a.runId,
  );
  expect(tombstonesByA).toEqual([]);
  // the committed state is B's: A's commit never landed
  const committed = (await allRecords(settings.topics.state))
    .filter((r) => r.key === settings.connectorName && r.value !== null)
    .pop()!;
  expect(await first.codecs.state.decodeValue(committed.value!)).toMatchObject({ runId: b.runId, status: 'succeeded' });
  // the users are as the org says, and the next run resumes from B's commit
  const latest = await latestUsers(settings.topics.users, first.codecs.users);
  expect([...latest.keys()].sort()).toEqual(sim.userIds().sort());
  const next = await first.sync();
  expect(next).toMatchObject({ status: 'succeeded', usersTombstoned: 0, loginEventsPublished: 0 });
});

it('same-host liveness: a process of another user (EPERM) is alive; our own pid (PID 1 after a restart) is not', () => {
  expect(processAlive(process.pid)).toBe(false);
  expect(processAlive(2 ** 22 + 12345)).toBe(false); // ESRCH: no such process
  const kill = jest.spyOn(process, 'kill').mockImplementation(() => {
    throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
  });
  try {
    expect(processAlive(process.pid + 1)).toBe(true);
  } finally {
    kill.mockRestore();
  }
});

it('a reset fences a zombie run too: after `connector reset`, the run that held the lock commits nothing', async () => {
  const rnd = seededRandom('fencing-reset');
  sim = await startOrg({ users: 40, logins: 100, seed: 1 + Math.floor(rnd.next() * 1000) });
  const settings = settingsFor(sim, {}, ['active', 'inactive', 'frozen']);
  const first = await connectorFor(settings);
  connectors.push(first);
  expect((await first.sync()).status).toBe('succeeded');
  for (const id of rnd.sample(sim.userIds(), 2)) sim.deleteUser(id);

  // run A takes the lock, then pauses
  const { zombie, open } = await pausedRun(settings);

  // an operator re-binds the connector from a host whose clock runs ahead (A's lease looks expired)
  const ahead = { ...DEFAULT_LOCK, host: 'host-b', now: () => Date.now() + 120_000 };
  const resetter = await connectorFor(settings, { lock: ahead });
  connectors.push(resetter);
  await resetter.reset(sim.orgId);

  // A wakes up: its tombstones and its commit are refused by the broker
  open();
  const a = await zombie;
  expect(a.status).toBe('failed');
  expect(a.error?.code).toBe('RUN_FENCED');
  const tombstonesByA = (await allRecords(settings.topics.users)).filter(
    (r) => r.value === null && r.headers['neurons-run-id'] === a.runId,
  );
  expect(tombstonesByA).toEqual([]);
});

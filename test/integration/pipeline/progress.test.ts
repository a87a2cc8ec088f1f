import type { Simulator } from '../../../simulator/api';
import type { Connector } from '../../../pipeline/connector';
import type { SyncProgress } from '../../../pipeline/sync';
import { connectorFor, settingsFor, startOrg } from '../../support/sync-harness';

/**
 * The progress bar's totals come from Salesforce before the pages are read: each phase's
 * `expected` is its Bulk job's numberRecordsProcessed, which the simulator's data decides.
 * Sizes are random (printed seed; replay with SF_TEST_SEED=<seed>).
 */
let sim: Simulator | undefined;
let connector: Connector | undefined;
afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

it('each phase announces its record count before its rows are counted, and reaches it', async () => {
  const seed = Number(process.env.SF_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`progress seed ${seed} (replay: SF_TEST_SEED=${seed})`);
  const users = 250 + (seed % 400);
  const logins = 1000 + (seed % 2000);
  sim = await startOrg({ users, logins, seed });
  const base = settingsFor(sim);
  // every login event of the org is in the first run's window: the simulator's whole count is the truth
  const settings = { ...base, salesforce: { ...base.salesforce, loginLookbackDays: 3650 } };
  connector = await connectorFor(settings);
  const seen: SyncProgress[] = [];
  const summary = await connector.sync({ onProgress: (p) => seen.push({ ...p }) });
  expect(summary.status).toBe('succeeded');

  const last = (phase: SyncProgress['phase']) => seen.filter((p) => p.phase === phase).at(-1)!;
  expect(last('users').expected).toBe(sim.userIds().length);
  expect(last('logins').expected).toBe(sim.loginCount());
  // each phase's count reaches its total by the next phase's first call
  expect(last('deletions').usersExtracted).toBe(sim.userIds().length);
  expect(last('deletions').loginEventsRead).toBe(sim.loginCount());
  // the total was known while rows were still to come (before the phase's last row)
  expect(seen.some((p) => p.phase === 'users' && p.expected !== undefined && p.usersExtracted < p.expected)).toBe(true);
  expect(seen.filter((p) => p.phase === 'deletions' || p.phase === 'done').every((p) => p.expected === undefined)).toBe(
    true,
  );
});

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeEntry } from '../../support/node-entry';
import { allRecords } from '../../support/sync-harness';
import {
  baselineThenChanges,
  closeRigsAfterEachTest,
  expectConsistent,
  faultRig,
  type FaultRig,
} from '../../support/fault-harness';
import { waitFor } from '../../support/wait';

/**
 * Processes killed with SIGKILL, end to end: the connector in the middle of a run, then run
 * again; the sink between its database commit and its offset commit, then restarted. Afterwards
 * the tables equal the org, no login event twice, no spurious deletion.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
let rig: FaultRig | undefined;
closeRigsAfterEachTest();

it('the connector killed (SIGKILL) mid-run, then run again', async () => {
  rig = await faultRig();
  const c = await rig.connector();
  const { removed } = await baselineThenChanges(rig);
  await rig.startSink();

  // the killed run: slow result pages keep it in the middle of its extraction
  rig.sim.inject({ kind: 'slowPages', delayMs: 300, times: 1000 });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fault-kill-')), 'settings.json');
  fs.writeFileSync(
    file,
    JSON.stringify({ ...rig.settings, salesforce: { ...rig.settings.salesforce, parallelPages: 1 } }),
  );
  const seen = rig.sim.requests.length;
  const child = spawn(process.execPath, [...nodeEntry('test/support/sync-child.ts'), file], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await waitFor('the child run to read result pages', 60_000, async () => {
    if (child.exitCode !== null) throw new Error('the child run ended before it could be killed');
    return rig!.sim.requests.slice(seen).filter((r) => r.path.includes('/results') && r.status === 200).length >= 2;
  });
  child.kill('SIGKILL');
  expect((await exited)[1]).toBe('SIGKILL');
  // the killed run deleted nothing
  expect((await allRecords(rig.settings.topics.users)).filter((r) => r.value === null)).toEqual([]);

  rig.sim.clearFaults();
  const rerun = await c.sync();
  expect(rerun).toMatchObject({ status: 'succeeded', usersTombstoned: removed.length });
  await expectConsistent(rig);
});

it('the sink killed (SIGKILL) between its database commit and its offset commit, then restarted', async () => {
  rig = await faultRig();
  const c = await rig.connector();
  await baselineThenChanges(rig);
  expect((await c.sync()).status).toBe('succeeded');

  // test/integration/sinks/sink-process.ts kills itself right after its first database commit
  const r = rig;
  const child = spawn(process.execPath, nodeEntry('test/integration/sinks/sink-process.ts'), {
    cwd: ROOT,
    env: {
      ...process.env,
      SINK_TEST_USERS: r.settings.topics.users,
      SINK_TEST_LOGINS: r.settings.topics.logins,
      SINK_TEST_DLQ: r.settings.topics.deadLetter,
      SINK_TEST_USERS_TABLE: r.tables.users,
      SINK_TEST_LOGINS_TABLE: r.tables.logins,
      SINK_TEST_GROUP: r.sinkConfig.groupId!,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  expect({ code, signal, stderr }).toEqual({ code: null, signal: 'SIGKILL', stderr: '' });
  const written = Number(
    (
      await r.pool.query(
        `SELECT (SELECT count(*) FROM "${r.tables.users}") + (SELECT count(*) FROM "${r.tables.logins}") AS n`,
      )
    ).rows[0].n,
  );
  expect(written).toBeGreaterThan(0); // its transaction committed, its offsets did not

  await r.startSink(); // same group: replays the uncommitted batch
  await expectConsistent(r, 90_000);
});

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { nodeEntry } from '../../support/node-entry';
import { allRecords, connectorFor, kafkaClient, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';

/**
 * A connector process killed with SIGKILL in the middle of a run, then run again, leaves the
 * users topic exactly as one clean run would, as a consumer reading the latest value per key
 * sees it: every selected user present with its current value, no user wrongly tombstoned, and
 * the removed ones tombstoned by the next complete run.
 */
let sim: Simulator;
let connector: Connector | undefined;
const ROOT = path.resolve(__dirname, '..', '..', '..');

afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

async function usersPublished(topic: string): Promise<number> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

it('SIGKILL mid-run, then a new run: the topic is as one clean run leaves it', async () => {
  sim = await startOrg({ users: 2000, logins: 2000 });
  const settings: ConnectorSettings = settingsFor(sim, {}, ['active']);
  // a first clean run, then changes, so the killed run has deletions and edits to make
  connector = await connectorFor(settings);
  expect((await connector.sync()).status).toBe('succeeded');
  const active = sim.userIds(['active']);
  const removed = active.slice(0, 5);
  for (const id of removed) sim.deleteUser(id);
  sim.updateUser(active[10], { Title: 'After the crash' });
  sim.addLogins(1500); // new login devices: the killed run republishes many users
  const before = await usersPublished(settings.topics.users);

  // the killed run: slow pages keep it in the middle of the user snapshot long enough
  sim.inject({ kind: 'slowPages', delayMs: 300, times: 1000 });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sync-kill-')), 'settings.json');
  fs.writeFileSync(file, JSON.stringify({ ...settings, salesforce: { ...settings.salesforce, parallelPages: 1 } }));
  const child = spawn(process.execPath, [...nodeEntry('test/support/sync-child.ts'), file], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  // kill it once the run has visibly started publishing users (pages are streaming)
  const deadline = Date.now() + 60_000;
  while ((await usersPublished(settings.topics.users)) <= before && Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error('the child run ended before it could be killed');
    await new Promise((r) => setTimeout(r, 100));
  }
  const lockSeen = (await allRecords(settings.topics.state)).some((r) => r.key.endsWith('#lock') && r.value !== null);
  expect(lockSeen).toBe(true);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  // nothing was deleted by the killed run
  expect((await allRecords(settings.topics.users)).filter((r) => r.value === null)).toEqual([]);

  // the next run on this host sees the dead holder of the lock and proceeds at once
  sim.clearFaults();
  const rerun = await connector.sync();
  expect(rerun).toMatchObject({ status: 'succeeded', usersTombstoned: removed.length });

  const latest = await latestUsers(settings.topics.users, connector.codecs.users);
  expect([...latest.keys()].sort()).toEqual(sim.userIds(['active']).sort());
  expect(latest.get(active[10])).toMatchObject({ title: 'After the crash' });
  for (const id of removed) expect(latest.has(id)).toBe(false);
});

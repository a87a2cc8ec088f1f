import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunSummary } from '../../../pipeline/sync';
import { nodeEntry } from '../../support/node-entry';
import { closeRigsAfterEachTest, faultRig, type FaultRig } from '../../support/fault-harness';
import { connectorFor } from '../../support/sync-harness';
import { DeviceOracle, LoginOracle, seededRandom, type ExpectedDevice } from '../../support/sync-oracle';
import { waitFor } from '../../support/wait';

/**
 * An operator's year: a bounded number of rounds, each a random sequence of org changes (new
 * users, edits, deactivations, freezes, reactivations, deletions, new logins, late-visible and
 * future-dated ones), then a run of a random kind (a plain run, a run SIGKILLed mid-way and run
 * again, a second instance racing for the lock, a sink restart around a run). After every round
 * the sink's tables equal what the simulator's data says: the selected users with their current
 * values and the device of their latest successful login (DeviceOracle: among the events read
 * while they were selected), every login event once, no user deleted who should exist. Prints its
 * seed; SYNC_SEED=<n> replays one, OPERATOR_YEAR_ROUNDS=<n> changes the number of rounds (default 6).
 * The connector keeps live-index checkpoints (indexCheckpointDir), as the compose stack does.
 */
closeRigsAfterEachTest();
const ROOT = path.resolve(__dirname, '..', '..', '..');
const ROUNDS = Number(process.env.OPERATOR_YEAR_ROUNDS ?? 6);

it("an operator's year: after every round the sink's tables equal the org", async () => {
  const rnd = seededRandom("operator's year");
  const rig = await faultRig({
    sim: { users: 150, logins: 600, seed: 1 + Math.floor(rnd.next() * 100_000) },
    statuses: ['active', 'frozen'],
  });
  // the whole generated history is read: the oracle is every login event of the org
  rig.settings.salesforce = { ...rig.settings.salesforce, loginLookbackDays: 3650, parallelPages: 1 };
  // as the compose stack runs it: each live index read from its last checkpoint (session 21), which
  // the killed runs, the racing instance and the rival's runs write and read too
  const checkpoints = fs.mkdtempSync(path.join(os.tmpdir(), 'operators-year-checkpoints-'));
  rig.settings.indexCheckpointDir = checkpoints;
  const c = await rig.connector();
  const rival = await connectorFor(rig.settings);
  try {
    const oracle = new DeviceOracle();
    const loginOracle = new LoginOracle();
    let last = await c.sync();
    expect(last.status).toBe('succeeded');
    oracle.afterRun(rig.sim, rig.sim.userIds(rig.statuses));
    loginOracle.afterRun(rig.sim, rig.sim.userIds(rig.statuses));
    await rig.startSink();
    await expectTablesEqualOrg(rig, oracle, loginOracle);

    for (let round = 1; round <= ROUNDS; round++) {
      const log: string[] = [];
      changeTheOrg(rig, rnd, last, log);
      const kind = rnd.pick(['plain', 'killed', 'race', 'sink restart'] as const);
      log.push(`run: ${kind}`);
      console.log(`round ${round}: ${log.join('; ')}`);
      if (kind === 'killed') await killedRun(rig, rnd);
      if (kind === 'sink restart') await rig.stopSink();
      if (kind === 'race') {
        const both = await Promise.allSettled([c.sync(), rival.sync()]);
        for (const r of both) {
          // the loser is refused at the lock, or fenced; never anything else
          const code = r.status === 'rejected' ? (r.reason as { code?: string }).code : r.value.error?.code;
          if (code !== undefined) expect(['RUN_IN_PROGRESS', 'RUN_FENCED']).toContain(code);
        }
      }
      last = await c.sync();
      expect(last.error).toBeUndefined();
      expect(last).toMatchObject({ status: 'succeeded', deadLettered: 0 });
      oracle.afterRun(rig.sim, rig.sim.userIds(rig.statuses));
      loginOracle.afterRun(rig.sim, rig.sim.userIds(rig.statuses));
      if (kind === 'sink restart') await rig.startSink();
      await expectTablesEqualOrg(rig, oracle, loginOracle);
    }
    // the checkpoints were used: one file per live index (the users' and each snapshot stream's)
    expect(fs.readdirSync(checkpoints).filter((f) => f.endsWith('.checkpoint')).length).toBeGreaterThan(1);
  } finally {
    await rival.close();
    fs.rmSync(checkpoints, { recursive: true, force: true });
  }
});

/** A few random changes, kept inside what the deletion guard lets through unprompted. */
function changeTheOrg(rig: FaultRig, rnd: ReturnType<typeof seededRandom>, last: RunSummary, log: string[]): void {
  const { sim } = rig;
  let removals = 0;
  for (let k = 1 + Math.floor(rnd.next() * 6); k > 0; k--) {
    const all = sim.userIds();
    const selected = sim.userIds(rig.statuses);
    const action = rnd.pick([
      'add user',
      'edit',
      'deactivate',
      'freeze',
      'reactivate',
      'delete',
      'logins',
      'late logins',
      'future login',
    ] as const);
    if ((action === 'deactivate' || action === 'delete') && removals >= 3) continue;
    switch (action) {
      case 'add user':
        sim.addUser({ Title: `New ${rnd.next().toFixed(5)}` });
        break;
      case 'edit':
        sim.updateUser(
          rnd.pick(all),
          rnd.next() < 0.5
            ? { Title: `T ${rnd.next().toFixed(5)}` }
            : { City: rnd.pick(['Zürich', 'Kraków', 'São Paulo', 'Oslo']) },
        );
        break;
      case 'deactivate':
        removals++;
        sim.setUserState(rnd.pick(selected), 'inactive');
        break;
      case 'freeze':
        sim.setUserState(rnd.pick(selected), 'frozen');
        break;
      case 'reactivate': {
        const inactive = sim.userIds(['inactive']);
        if (inactive.length > 0) sim.setUserState(rnd.pick(inactive), 'active');
        break;
      }
      case 'delete':
        removals++;
        sim.deleteUser(rnd.pick(all));
        break;
      case 'logins':
        for (const id of rnd.sample(all, 1 + Math.floor(rnd.next() * 5)))
          sim.addLogins(1 + Math.floor(rnd.next() * 3), { userId: id });
        break;
      case 'late logins': {
        // visible only now, LoginTime 5 to 50 minutes before the last watermark (inside the window)
        const w = Date.parse(last.loginHistoryWatermark ?? new Date().toISOString());
        sim.addLogins(1 + Math.floor(rnd.next() * 3), {
          userId: rnd.pick(all),
          at: new Date(w - (5 + Math.floor(rnd.next() * 45)) * 60_000).toISOString(),
        });
        break;
      }
      case 'future login':
        sim.addLogins(1, {
          userId: rnd.pick(all),
          at: new Date(Date.now() + (1 + Math.floor(rnd.next() * 90)) * 86_400_000).toISOString(),
        });
        break;
    }
    log.push(action);
  }
}

/** A run in a process of its own, SIGKILLed once it has visibly started publishing. */
async function killedRun(rig: FaultRig, rnd: ReturnType<typeof seededRandom>): Promise<void> {
  const { sim, settings } = rig;
  sim.inject({ kind: 'slowPages', delayMs: 200 + Math.floor(rnd.next() * 300), times: 1000 });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'year-kill-')), 'settings.json');
  fs.writeFileSync(file, JSON.stringify(settings));
  const lockBefore = (await rig.records(settings.topics.state)).length;
  const child = spawn(process.execPath, [...nodeEntry('test/support/sync-child.ts'), file], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    // it holds the lock and reads Salesforce: a new record in the state topic (lock, heartbeat)
    await waitFor(
      'the child run to take the lock',
      60_000,
      async () => child.exitCode !== null || (await rig.records(settings.topics.state)).length > lockBefore + 1,
    );
  } finally {
    child.kill('SIGKILL');
    await exited;
    sim.clearFaults();
  }
}

/** The sink's tables against the org: users (values and devices) and every imported user's login event once. */
async function expectTablesEqualOrg(rig: FaultRig, oracle: DeviceOracle, loginOracle: LoginOracle): Promise<void> {
  const { sim, pool, tables } = rig;
  const selected = sim.userIds(rig.statuses).sort();
  const events = loginOracle.required;
  const want = new Map(
    selected.map((id) => {
      const row = sim.userRow(id, ['Title', 'City']);
      return [id, { title: row.Title || null, city: row.City || null, ...oracle.device(id) }];
    }),
  );
  const read = async () => {
    const users = (
      await pool.query(
        `SELECT id, title, city, device_browser, device_platform, device_application, device_source_ip,
              (extract(epoch FROM device_login_at) * 1000)::bigint AS device_login_at
           FROM "${tables.users}" ORDER BY id`,
      )
    ).rows as Record<string, string | null>[];
    const logins = (await pool.query(`SELECT id FROM "${tables.logins}"`)).rows as { id: string }[];
    const got = new Map(
      users.map((u) => [
        u.id as string,
        {
          title: u.title,
          city: u.city,
          ...({
            deviceBrowser: u.device_browser,
            devicePlatform: u.device_platform,
            deviceApplication: u.device_application,
            deviceSourceIp: u.device_source_ip,
            deviceLoginAt: u.device_login_at === null ? null : Number(u.device_login_at),
          } satisfies ExpectedDevice),
        },
      ]),
    );
    return { got, logins: logins.map((l) => l.id) };
  };
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const ok = (id: string, got: UserRow | undefined) => {
    const w = want.get(id)!;
    if (!got) return false;
    const { device, rest } = deviceAndRest(got);
    return same(rest, deviceAndRest(w).rest) && oracle.accepts(id, device);
  };
  await waitFor(
    `the sink's tables to equal the org (${selected.length} users, ${events.size} login events)`,
    90_000,
    async () => {
      const { got, logins } = await read();
      return (
        got.size === want.size &&
        [...want.keys()].every((id) => ok(id, got.get(id))) &&
        [...events].every((e) => logins.includes(e))
      );
    },
  ).catch(() => undefined); // the exact comparison below says what differs
  const { got, logins } = await read();
  expect([...got.keys()]).toEqual(selected); // nobody missing, nobody deleted who exists, nobody extra
  expect(
    selected.filter((id) => !ok(id, got.get(id))).map((id) => ({ id, got: got.get(id), want: want.get(id) })),
  ).toEqual([]);
  expect(logins.length).toBe(new Set(logins).size); // no login event twice
  expect([...events].filter((e) => !logins.includes(e))).toEqual([]); // none missing
  // nothing else: each one an org event of a user imported while it could be read
  expect(logins.filter((e) => !events.has(e) && !loginOracle.allowed.has(e))).toEqual([]);
}

type UserRow = { title: string | null; city: string | null } & ExpectedDevice;
function deviceAndRest(u: UserRow): { device: ExpectedDevice; rest: { title: string | null; city: string | null } } {
  const { title, city, ...device } = u;
  return { device, rest: { title, city } };
}

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { FatalError } from '../../../kernel/errors';
import { nodeEntry } from '../../support/node-entry';
import { SinkHarness } from '../../support/sink-harness';
import { login, loginId, user, userId } from '../../support/sink-fixtures';

/**
 * Offsets are committed only after the database transaction: a sink that dies between the two
 * (an injected failure right after the commit) leaves the offsets where they were, and the next
 * sink of the group replays the batch harmlessly.
 */
describe('PostgreSQL sink: offsets after the database commit', () => {
  let h: SinkHarness;
  beforeEach(async () => (h = await new SinkHarness().setUp()));
  afterEach(() => h.close());

  it('a crash between the database commit and the offset commit replays the batch with identical tables', async () => {
    const users = Array.from({ length: 40 }, (_, i) => ({
      key: userId(i % 15),
      value: user(userId(i % 15), { title: `v${i}` }),
    }));
    users.push({ key: userId(3), value: null as never });
    // No login of the tombstoned user 3: its events would go with it (onUserRemoved: delete-logins)
    // or not, depending on which topic's batch lands first.
    const logins = Array.from({ length: 60 }, (_, i) => ({
      key: loginId(i % 25),
      value: login(loginId(i % 25), userId(i % 15 === 3 ? 4 : i % 15), 1_700_000_000_000 + (i % 25)),
    }));
    await h.produce(h.topics.users, users);
    await h.produce(h.topics.logins, logins);

    let commits = 0;
    const crashing = h.sink({
      hooks: {
        afterDatabaseCommit: () => {
          commits++;
          throw new FatalError('SIMULATED_CRASH', 'killed between the database commit and the offset commit');
        },
      },
    });
    await crashing.start();
    await expect(crashing.done).rejects.toThrow('killed between');
    expect(commits).toBeGreaterThanOrEqual(1); // every batch of the fetch reached its commit, then died
    const afterCrash = await snapshot(h);
    expect(afterCrash.users.length + afterCrash.logins.length).toBeGreaterThan(0); // the database did commit
    expect(await committedOffsets(h)).toEqual({ users: ['-1'], logins: ['-1'] }); // the group did not
    await crashing.stop();

    const restarted = h.sink();
    await restarted.start();
    await h.caughtUp();
    const final = await snapshot(h);

    // The state a reader of the latest value per key expects, row for row.
    const latest = new Map<string, string | null>();
    users.forEach((u, i) => latest.set(u.key, u.value === null ? null : `v${i}`));
    expect(final.users).toEqual(
      [...latest]
        .filter(([, t]) => t !== null)
        .map(([id, title]) => ({ id, title }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(final.logins).toEqual(
      Array.from({ length: 25 }, (_, i) => ({ id: loginId(i), login_time: new Date(1_700_000_000_000 + i) })),
    );
    // Whatever the crashed sink had written is still there, unchanged or superseded, never doubled.
    for (const row of afterCrash.logins) expect(final.logins).toContainEqual(row);
  });
});

describe('PostgreSQL sink: a process killed between the database commit and the offset commit', () => {
  let h: SinkHarness;
  beforeEach(async () => (h = await new SinkHarness().setUp()));
  afterEach(() => h.close());

  it('after SIGKILL and a restart the tables are identical, with no duplicate login events', async () => {
    const users = Array.from({ length: 30 }, (_, i) => ({
      key: userId(i % 12),
      value: user(userId(i % 12), { title: `v${i}` }),
    }));
    const logins = Array.from({ length: 40 }, (_, i) => ({
      key: loginId(i % 20),
      value: login(loginId(i % 20), userId(i % 12), 1_700_000_000_000 + (i % 20)),
    }));
    await h.produce(h.topics.users, users);
    await h.produce(h.topics.logins, logins);

    const child = spawn(process.execPath, nodeEntry('test/integration/sinks/sink-process.ts'), {
      cwd: path.resolve(__dirname, '..', '..', '..'),
      env: {
        ...process.env,
        SINK_TEST_USERS: h.topics.users,
        SINK_TEST_LOGINS: h.topics.logins,
        SINK_TEST_DLQ: h.topics.deadLetter,
        SINK_TEST_USERS_TABLE: h.tables.users,
        SINK_TEST_LOGINS_TABLE: h.tables.logins,
        SINK_TEST_GROUP: h.groupId,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    expect({ code, signal, stderr }).toEqual({ code: null, signal: 'SIGKILL', stderr: '' });
    const afterKill = await snapshot(h);
    expect(afterKill.users.length + afterKill.logins.length).toBeGreaterThan(0); // its transaction committed
    expect(await committedOffsets(h)).toEqual({ users: ['-1'], logins: ['-1'] }); // its offsets did not

    const restarted = h.sink();
    await restarted.start();
    await h.caughtUp();
    const final = await snapshot(h);
    const latest = new Map(users.map((u, i) => [u.key, `v${i}`]));
    expect(final.users).toEqual(
      [...latest].map(([id, title]) => ({ id, title })).sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(final.logins).toEqual(
      Array.from({ length: 20 }, (_, i) => ({ id: loginId(i), login_time: new Date(1_700_000_000_000 + i) })),
    );
    for (const row of afterKill.logins) expect(final.logins).toContainEqual(row);
    await restarted.stop();
  });
});

async function snapshot(h: SinkHarness) {
  return { users: await h.rows('users', 'id, title'), logins: await h.rows('logins', 'id, login_time') };
}

async function committedOffsets(h: SinkHarness): Promise<{ users: string[]; logins: string[] }> {
  const admin = h.kafka.admin();
  await admin.connect();
  try {
    const [users] = await admin.fetchOffsets({ groupId: h.groupId, topics: [h.topics.users] });
    const [logins] = await admin.fetchOffsets({ groupId: h.groupId, topics: [h.topics.logins] });
    return { users: users.partitions.map((p) => p.offset), logins: logins.partitions.map((p) => p.offset) };
  } finally {
    await admin.disconnect();
  }
}

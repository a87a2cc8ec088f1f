import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { fromConfig, resolveSinkConfig, startEmbeddedPostgres, type PostgresSinkConfig } from '../../../sinks';
import { isAlive } from '../../../devstack/proc';
import { nodeEntry } from '../../support/node-entry';
import { services } from '../../support/services';
import { SinkHarness } from '../../support/sink-harness';
import { user, userId } from '../../support/sink-fixtures';

/** The configured sink: checked configuration, the embedded default, and the replay command. */
describe('PostgreSQL sink from configuration', () => {
  const base = (): PostgresSinkConfig => ({
    kafka: { brokers: [services().KAFKA_BROKERS], clientId: 'sink-test' },
    registry: { url: services().SCHEMA_REGISTRY_URL },
  });

  it('rejects bad options at once, naming the option and the fix', () => {
    expect(() => resolveSinkConfig({ ...base(), databaseUrl: 'mysql://x' })).toThrow(/databaseUrl: use postgres:\/\//);
    expect(() => resolveSinkConfig({ ...base(), kafka: { brokers: [], clientId: 'x' } })).toThrow(/kafka\.brokers/);
    expect(() => resolveSinkConfig({ ...base(), tables: { users: 'x'.repeat(64) } })).toThrow(/tables\.users/);
    expect(() => resolveSinkConfig({ ...base(), topics: { users: 'a', logins: 'a' } })).toThrow(
      /three different topics/,
    );
    expect(resolveSinkConfig(base())).toMatchObject({
      groupId: 'neurons-postgres-sink',
      tables: { users: { schema: 'public', name: 'neurons_users' } },
      database: { embedded: {} },
    });
  });

  it('without a database URL runs on an embedded PostgreSQL, started and stopped with the sink', async () => {
    const h = await new SinkHarness().setUp();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurons-sink-config-'));
    fs.chmodSync(root, 0o755);
    try {
      await h.produce(
        h.topics.users,
        [1, 2, 3].map((n) => ({ key: userId(n), value: user(userId(n)) })),
      );
      const sink = fromConfig({
        ...base(),
        embedded: { dataDir: path.join(root, 'pg') },
        topics: h.topics,
        tables: h.tables,
        groupId: h.groupId,
      });
      await sink.start();
      await h.caughtUp();
      const running = await startEmbeddedPostgres({ dataDir: path.join(root, 'pg') }); // reuses the sink's server
      expect(running.owned).toBe(false);
      const { Client } = await import('pg');
      const client = new Client({ connectionString: running.url });
      await client.connect();
      const { rows } = await client.query(`SELECT id FROM "${h.tables.users}" ORDER BY id`);
      await client.end();
      expect(rows.map((r) => r.id)).toEqual([1, 2, 3].map(userId));
      await sink.stop();
      expect(isAlive(running.pid)).toBe(false);
    } finally {
      await h.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('the replay command rebuilds the tables and shows its progress', async () => {
    const h = await new SinkHarness().setUp();
    try {
      await h.produce(
        h.topics.users,
        [1, 2, 3, 2].map((n) => ({ key: userId(n), value: user(userId(n)) })),
      );
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [...nodeEntry('sinks/cli.ts'), 'replay', '--only', 'users'],
        {
          cwd: path.resolve(__dirname, '..', '..', '..'),
          env: {
            ...process.env,
            SINK_USERS_TOPIC: h.topics.users,
            SINK_LOGINS_TOPIC: h.topics.logins,
            SINK_DEAD_LETTER_TOPIC: h.topics.deadLetter,
            SINK_USERS_TABLE: h.tables.users,
            SINK_LOGINS_TABLE: h.tables.logins,
            SINK_GROUP_ID: h.groupId,
            LOG_LEVEL: 'warn',
          },
        },
      );
      expect(stdout).toMatch(/replay done: 4 records, \d+ records\/s, lag 0/);
      expect(stdout).toContain(`replay swapped in ${h.tables.users}`);
      expect((await h.rows('users', 'id')).map((r) => r.id)).toEqual([1, 2, 3].map(userId));
    } finally {
      await h.close();
    }
  });
});

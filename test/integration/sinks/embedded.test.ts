import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../../sinks/postgres/embedded';
import { isAlive } from '../../../devstack/proc';

/**
 * The embedded default: with no database configured the sink runs its own PostgreSQL under a
 * data directory. The cluster is created once, keeps its data across restarts, and the server
 * process is gone after stop().
 */
describe('embedded PostgreSQL', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurons-sink-embedded-'));
  const dataDir = path.join(root, 'pg');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('initialises a data directory, serves the sink database, keeps data across a restart, and stops', async () => {
    fs.chmodSync(root, 0o755); // as root the server runs as the postgres user, who must reach it
    const first = await startEmbeddedPostgres({ dataDir });
    try {
      expect(first.owned).toBe(true);
      expect(first.url).toMatch(/^postgres:\/\/neurons:[^@]+@127\.0\.0\.1:\d+\/neurons$/);
      await query(first.url, 'CREATE TABLE kept (id text PRIMARY KEY)');
      await query(first.url, "INSERT INTO kept VALUES ('survives')");
    } finally {
      await first.stop();
    }
    expect(isAlive(first.pid)).toBe(false);

    const second = await startEmbeddedPostgres({ dataDir });
    try {
      expect(await query(second.url, 'SELECT id FROM kept')).toEqual([{ id: 'survives' }]);
      // A second start on a running data directory reuses the server and does not own it.
      const again = await startEmbeddedPostgres({ dataDir });
      expect(again).toMatchObject({ owned: false, pid: second.pid, port: second.port });
      await again.stop();
      expect(isAlive(second.pid)).toBe(true);
    } finally {
      await second.stop();
    }
    expect(isAlive(second.pid)).toBe(false);
  });
});

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

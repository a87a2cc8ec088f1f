/**
 * The bulk load's index builds sort the whole table: with the server's default
 * maintenance_work_mem (64 MB) the sorts of a ~1M-row table spill to disk. createIndexes raises it
 * for its own transaction only (SET LOCAL), never lowers a larger setting, and leaves the session
 * as it was after the transaction (ddl.ts INDEX_BUILD_MEMORY, 256 MB).
 */
import { Pool } from 'pg';
import { silentLogger } from '../../../kernel/logger';
import { createIndexes, ensureTable } from '../../../sinks/postgres/ddl';
import { SinkTable } from '../../../sinks/postgres/table';
import { services, uniqueName } from '../../support/services';

let pool: Pool;
beforeAll(() => {
  pool = new Pool({ connectionString: services().DATABASE_URL, max: 2 });
});
afterAll(async () => {
  await pool.end();
});

function table(name: string): SinkTable {
  const t = new SinkTable({ schema: 'public', name }, [['email']]);
  t.absorb({
    type: 'record',
    name: 'U',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'email', type: ['null', 'string'] },
    ],
  });
  return t;
}

const bytes = async (client: { query: Pool['query'] }, setting: string) =>
  Number((await client.query<{ b: string }>(`SELECT pg_size_bytes($1)::text AS b`, [setting])).rows[0].b);

it.each(['4MB', '64MB', '2GB'])(
  "builds the indexes with the larger of the session's %s and 256 MB; the session keeps its own setting after",
  async (session) => {
    const name = uniqueName('index_memory').replace(/-/g, '_');
    const t = table(name);
    await ensureTable(pool, t, silentLogger, { indexes: false });
    const client = await pool.connect();
    try {
      await client.query(`SET maintenance_work_mem = '${session}'`);
      await client.query('BEGIN');
      await createIndexes(client, t);
      const during = (await client.query<{ m: string }>(`SELECT current_setting('maintenance_work_mem') AS m`)).rows[0]
        .m;
      await client.query('COMMIT');
      const after = (await client.query<{ m: string }>(`SELECT current_setting('maintenance_work_mem') AS m`)).rows[0]
        .m;
      expect(await bytes(client, during)).toBe(Math.max(await bytes(client, session), 256 * 1024 * 1024));
      expect(await bytes(client, after)).toBe(await bytes(client, session));
      await client.query('RESET maintenance_work_mem');
    } finally {
      client.release();
      await pool.query(`DROP TABLE IF EXISTS ${name}`);
    }
  },
);

/**
 * The declared indexes of a bulk-loaded table are built on a full table (the load's end, or the
 * next start after a crash): as long as the table is large. The pool's per-statement cap
 * (statementTimeoutMs) must not refuse that build, or a large table's indexes would be refused on
 * every retry and every start; waiting for the table's locks stays capped (ddl.ts createIndexes).
 */
import { Pool } from 'pg';
import { silentLogger } from '../../../kernel/logger';
import { ensureTable } from '../../../sinks/postgres/ddl';
import { SinkTable } from '../../../sinks/postgres/table';
import { services, uniqueName } from '../../support/services';

const CAP_MS = 50;
const ROWS = 400_000;

let admin: Pool;
beforeAll(() => {
  admin = new Pool({ connectionString: services().DATABASE_URL, max: 2 });
});
afterAll(async () => {
  await admin.end();
});

function table(name: string): SinkTable {
  const t = new SinkTable({ schema: 'public', name }, [['email'], ['name', 'email']]);
  t.absorb({
    type: 'record',
    name: 'U',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'email', type: ['null', 'string'] },
      { name: 'name', type: ['null', 'string'] },
    ],
  });
  return t;
}

it(`builds the indexes of a ${ROWS}-row table under a ${CAP_MS} ms cap; a held lock still times out`, async () => {
  const name = uniqueName('bulk_index_build').replace(/-/g, '_');
  const t = table(name);
  const capped = new Pool({ connectionString: services().DATABASE_URL, max: 2, statement_timeout: CAP_MS });
  try {
    await ensureTable(admin, t, silentLogger, { indexes: false });
    await admin.query(
      `INSERT INTO ${name} (id, email, name, _kafka_partition, _kafka_offset) ` +
        `SELECT 'u' || g, md5(g::text) || '@x.test', md5((g * 7)::text), 0, g FROM generate_series(1, ${ROWS}) g`,
    );
    // the build is far longer than the cap here (about 0.5 s an index a million rows on this machine)
    await ensureTable(capped, t, silentLogger);
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = $1 AND indexname <> $2`,
      [name, `${name}_pkey`],
    );
    expect(rows[0].n).toBe(2);

    // a lock held elsewhere: waiting for it is capped (lock_timeout), not endless
    await admin.query(`DROP INDEX ${name}_email_idx`).catch(() => undefined);
    const holder = await admin.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${name} IN EXCLUSIVE MODE`);
      const t2 = table(name);
      await expect(ensureTable(capped, t2, silentLogger)).rejects.toMatchObject({
        code: expect.stringMatching(/^(DB_BUSY|DB_STATEMENT_TIMEOUT)$/),
        retriable: true,
      });
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  } finally {
    await capped.end();
    await admin.query(`DROP TABLE IF EXISTS ${name}`);
  }
}, 120_000);

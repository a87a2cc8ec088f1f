import type { Pool, PoolClient } from 'pg';
import { inTransaction, withClient } from './db';
import type { Logger } from '../../kernel/logger';
import { ID_CHECK_SUFFIX, META_COLUMNS, PKEY_SUFFIX, indexSuffix, type SinkTable } from './table';
import { ident, objectName, qualified } from './sql';

/** information_schema's data_type for each type the sink creates. */
const INFO_TYPE: Record<string, string> = {
  text: 'text',
  boolean: 'boolean',
  integer: 'integer',
  bigint: 'bigint',
  real: 'real',
  'double precision': 'double precision',
  timestamptz: 'timestamp with time zone',
  date: 'date',
  jsonb: 'jsonb',
  bytea: 'bytea',
};

/**
 * Makes the table match what `table` knows: creates it when missing, adds a nullable column for
 * each known field it lacks (a new optional field of a newer schema), and creates the lookup
 * indexes. Idempotent, and safe when several sink processes start at once: the DDL runs in one
 * transaction under an advisory lock per table. A column whose type differs from what the
 * schema now maps to is kept as it is (changing it could lose data) and reported in a warning.
 * Returns the columns it added. `indexes: false` leaves the declared secondary indexes out (a table
 * in its bulk load, bulk.ts: they are built when the load ends).
 */
export async function ensureTable(
  pool: Pool,
  table: SinkTable,
  logger: Logger,
  opts: { indexes?: boolean } = {},
): Promise<string[]> {
  const added = await withClient(pool, (client) =>
    inTransaction(client, async () => {
      await lockTableDdl(client, table);
      await client.query(createTableSql(table));
      const existing = await tableColumns(client, table);
      const added: string[] = [];
      for (const f of table.fields()) {
        const have = existing.get(f.column);
        if (have === undefined) {
          await client.query(
            `ALTER TABLE ${qualified(table.name)} ADD COLUMN IF NOT EXISTS ${ident(f.column)} ${f.pgType}`,
          );
          added.push(f.column);
        } else if (have !== INFO_TYPE[f.pgType]) {
          logger.warn('column type differs from the schema; kept as it is', {
            table: table.name.name,
            column: f.column,
            column_type: have,
            schema_type: f.pgType,
          });
        }
      }
      if (opts.indexes !== false) await createIndexes(client, table);
      return added;
    }),
  );
  if (added.length > 0) logger.info('added columns for new schema fields', { table: table.name.name, columns: added });
  return added;
}

/** The declared secondary indexes whose fields the table knows: name, CREATE … IF NOT EXISTS, DROP … IF EXISTS. */
export function secondaryIndexes(
  table: SinkTable,
): { name: string; columns: string[]; create: string; drop: string }[] {
  return table.indexes.flatMap((fields) => {
    const columns = fields.map((f) => table.field(f)?.column);
    if (columns.some((c) => c === undefined)) return [];
    const name = objectName(table.name.name, indexSuffix(columns as string[]));
    return [
      {
        name,
        columns: columns as string[],
        create:
          `CREATE INDEX IF NOT EXISTS ${ident(name)} ON ${qualified(table.name)} ` +
          `(${(columns as string[]).map(ident).join(', ')})`,
        drop: `DROP INDEX IF EXISTS ${ident(table.name.schema)}.${ident(name)}`,
      },
    ];
  });
}

/**
 * Creates the declared secondary indexes that are missing, inside the caller's transaction. Since
 * the bulk load (bulk.ts), that may be on a full table (its end, or the next start after a crash):
 * the build is as long as the table is large (~1 s a million rows an index here), so the pool's
 * per-statement cap (statementTimeoutMs) would refuse every build of a large table, on every retry
 * and every start. The build runs without it; waiting for the table's locks stays capped by it.
 */
export async function createIndexes(client: PoolClient, table: SinkTable): Promise<void> {
  const indexes = secondaryIndexes(table);
  if (indexes.length === 0) return;
  const { rows: present } = await client.query<{ name: string }>(
    'SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1 AND tablename = $2',
    [table.name.schema, table.name.name],
  );
  const have = new Set(present.map((r) => r.name));
  // A bulk load drops every declared index (bulk.ts beginBulk) and builds them all in this one
  // transaction: all missing marks a load, begun by this process or another, ended or crashed.
  // Some missing is not one (an upgrade that declares one more, one an operator dropped).
  const loading = indexes.every((i) => !have.has(i.name));
  const { rows } = await client.query<{ cap: string }>(`SELECT current_setting('statement_timeout') AS cap`);
  await client.query(`SELECT set_config('lock_timeout', $1, true)`, [rows[0].cap]);
  await client.query(`SET LOCAL statement_timeout = 0`);
  // The sorts of a large table's builds in memory: raised for this transaction only, never lowered.
  await client.query(
    `SELECT set_config('maintenance_work_mem', $1, true) ` +
      `WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes($1)`,
    [INDEX_BUILD_MEMORY],
  );
  for (const index of indexes) await client.query(index.create);
  if (loading) await resumeAutovacuum(client, table, indexes);
}

/**
 * The storage parameter a bulk load sets on its fresh table (bulk.ts pauseAutovacuum), as
 * PostgreSQL keeps it in pg_class.reloptions.
 */
export const AUTOVACUUM_PAUSED = 'autovacuum_enabled=false';

/**
 * The end of a bulk load that paused autovacuum on the table: its key and indexed columns are
 * ANALYZEd now (the statistics the sink's own statements and the declared lookups plan with), and
 * the table is given back to autovacuum (RESET: the server's setting), in the transaction that
 * builds its indexes. Only those columns: an ANALYZE of every column of the 188-column users table
 * was 62 % of PostgreSQL's samples in a 100k users + 100k logins bulk load (bench/sink.ts, ~8 of
 * its 13 s), and a load's end waited for it. An ANALYZE with a column list does not reset the
 * table's count of rows changed since its last ANALYZE (PostgreSQL's analyze.c: only a whole-table
 * one does), so autovacuum, given the table back, gathers the other columns' statistics at its
 * next round, in the background, as it would for any table that grew by that much (a server
 * with autovacuum off gets every column ANALYZEd here, as before). Every
 * declared index missing is what marks a load (begun by this process or another of the group, or
 * by one that crashed): a start after a crash in the middle of a load restores the table as the
 * load's own end would (createIndexes runs on every start, setup.ts). The mark is in the database,
 * not in a process: two processes that both began the load (both found the table empty) end it
 * the same way, whichever builds the indexes (test/integration/sinks/autovacuum-review-s16.test.ts).
 * A table with any declared index present is left as it is, autovacuum_enabled = false included
 * (the operator's). Known limits (docs/operations.md): an operator's own `false` on a table that
 * a load then takes (set before the sink's first start, or with every declared index dropped) is
 * reset at the load's end; a crash mid-load followed by a version that declares no secondary index
 * on the table leaves its autovacuum off until the operator RESETs it.
 */
async function resumeAutovacuum(
  client: PoolClient,
  table: SinkTable,
  indexes: ReturnType<typeof secondaryIndexes>,
): Promise<void> {
  const { rows } = await client.query<{ paused: boolean }>(
    'SELECT $1 = ANY (coalesce(reloptions, $2)) AS paused FROM pg_class WHERE oid = $3::regclass',
    [AUTOVACUUM_PAUSED, [], qualified(table.name)],
  );
  if (!rows[0]?.paused) return;
  // A server whose autovacuum never runs (autovacuum or track_counts off) would leave the other
  // columns without statistics for good: there, every column now.
  const { rows: server } = await client.query<{ autovacuums: boolean }>(
    "SELECT current_setting('autovacuum')::bool AND current_setting('track_counts')::bool AS autovacuums",
  );
  const columns = new Set([table.field('id')?.column ?? 'id', ...indexes.flatMap((i) => i.columns)]);
  await client.query(
    server[0]?.autovacuums
      ? `ANALYZE ${qualified(table.name)} (${[...columns].map(ident).join(', ')})`
      : `ANALYZE ${qualified(table.name)}`,
  );
  await client.query(`ALTER TABLE ${qualified(table.name)} RESET (autovacuum_enabled)`);
}

/**
 * maintenance_work_mem of the index builds (createIndexes). With PostgreSQL's default 64 MB the
 * sorts of a ~1M-row table's indexes spill to disk: the four declared builds of users and login
 * events took 2.08 s at 300k rows with 19 MB (the same spill as 1M rows with 64 MB) and 1.68 s
 * with 77 MB (256 MB at 1M), means of three rounds each, alternated (docs/performance-s12-sink.md).
 * Memory a sort only takes as it needs it (~80 MB for 1M rows), one build at a time per table.
 */
export const INDEX_BUILD_MEMORY = '256MB';

/** The advisory lock every DDL of one table runs under (several sink processes may start at once). */
export async function lockTableDdl(client: PoolClient, table: SinkTable): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
    `neurons-sink-ddl:${table.name.schema}.${table.name.name}`,
  ]);
}

/** CREATE TABLE IF NOT EXISTS with every known field, the Kafka position columns and named constraints. */
export function createTableSql(table: SinkTable): string {
  const name = table.name.name;
  const columns = table.fields().map((f) => `${ident(f.column)} ${f.pgType}${f.field === 'id' ? ' NOT NULL' : ''}`);
  for (const m of META_COLUMNS) columns.push(`${ident(m.column)} ${m.pgType} NOT NULL`);
  return [
    `CREATE TABLE IF NOT EXISTS ${qualified(table.name)} (`,
    `  ${columns.join(',\n  ')},`,
    `  CONSTRAINT ${ident(objectName(name, PKEY_SUFFIX))} PRIMARY KEY (id),`,
    // An empty Id is never a Salesforce record: refuse it as bad data (SQLSTATE 23514).
    `  CONSTRAINT ${ident(objectName(name, ID_CHECK_SUFFIX))} CHECK (id <> '')`,
    ')',
  ].join('\n');
}

/** Column name → information_schema data_type of the table as it is in the database. */
export async function tableColumns(client: Pool | PoolClient, table: SinkTable): Promise<Map<string, string>> {
  const { rows } = await client.query<{ column_name: string; data_type: string }>(
    'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
    [table.name.schema, table.name.name],
  );
  return new Map(rows.map((r) => [r.column_name, r.data_type]));
}

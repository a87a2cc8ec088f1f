import type { PoolClient } from 'pg';
import { ID_CHECK_SUFFIX, INDEXES, PKEY_SUFFIX, indexSuffix, type SinkTable } from './table';
import { ident, objectName, qualified, type TableName } from './sql';

/**
 * Puts a rebuilt table in place of the live one, inside the caller's transaction: the live
 * table is dropped, the rebuilt one takes its name, and its constraints and indexes take the
 * names the live table's had (so the next start-up's CREATE INDEX IF NOT EXISTS finds them).
 * Readers block on the caller's ACCESS EXCLUSIVE lock for the moment of the swap, then see the
 * complete new table: never a half-built one.
 */
export async function swapIn(client: PoolClient, rebuilt: SinkTable, live: TableName): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${qualified(live)}`);
  await client.query(`ALTER TABLE ${qualified(rebuilt.name)} RENAME TO ${ident(live.name)}`);
  const moved = { schema: live.schema, name: live.name };
  for (const suffix of [PKEY_SUFFIX, ID_CHECK_SUFFIX]) {
    await client.query(`ALTER TABLE ${qualified(moved)} RENAME CONSTRAINT ${ident(objectName(rebuilt.name.name, suffix))} TO ${ident(objectName(live.name, suffix))}`);
  }
  for (const fields of INDEXES[rebuilt.kind]) {
    const columns = fields.map((f) => rebuilt.field(f)?.column);
    if (columns.some((c) => c === undefined)) continue;
    const suffix = indexSuffix(columns as string[]);
    await client.query(`ALTER INDEX IF EXISTS ${ident(live.schema)}.${ident(objectName(rebuilt.name.name, suffix))} RENAME TO ${ident(objectName(live.name, suffix))}`);
  }
}

/**
 * Adds to `target` every column `source` has and it lacks, with the same type: columns of
 * schema versions older than the newest (fields since dropped) survive a rebuild.
 */
export async function copyMissingColumns(client: PoolClient, source: TableName, target: TableName): Promise<string[]> {
  const { rows } = await client.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attname NOT IN (SELECT b.attname FROM pg_attribute b WHERE b.attrelid = to_regclass($2) AND b.attnum > 0 AND NOT b.attisdropped)
      ORDER BY a.attnum`,
    [qualified(source), qualified(target)],
  );
  for (const r of rows) await client.query(`ALTER TABLE ${qualified(target)} ADD COLUMN ${ident(r.name)} ${r.type}`);
  return rows.map((r) => r.name);
}

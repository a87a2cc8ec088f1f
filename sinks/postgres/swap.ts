import type { PoolClient } from 'pg';
import { ID_CHECK_SUFFIX, PKEY_SUFFIX, indexSuffix, type SinkTable } from './table';
import { ident, objectName, qualified, type TableName } from './sql';

/**
 * Puts a rebuilt table in place of a live one that does NOT exist yet (a first backfill), inside
 * the caller's transaction: the rebuilt table takes the live name, and its constraints and
 * indexes the names the live table's would have (so the next start-up's CREATE INDEX IF NOT
 * EXISTS finds them). An existing live table is never dropped: see mergeInto.
 */
export async function swapIn(client: PoolClient, rebuilt: SinkTable, live: TableName): Promise<void> {
  await client.query(`ALTER TABLE ${qualified(rebuilt.name)} RENAME TO ${ident(live.name)}`);
  const moved = { schema: live.schema, name: live.name };
  for (const suffix of [PKEY_SUFFIX, ID_CHECK_SUFFIX]) {
    await client.query(
      `ALTER TABLE ${qualified(moved)} RENAME CONSTRAINT ${ident(objectName(rebuilt.name.name, suffix))} ` +
        `TO ${ident(objectName(live.name, suffix))}`,
    );
  }
  for (const fields of rebuilt.indexes) {
    const columns = fields.map((f) => rebuilt.field(f)?.column);
    if (columns.some((c) => c === undefined)) continue;
    const suffix = indexSuffix(columns as string[]);
    await client.query(
      `ALTER INDEX IF EXISTS ${ident(live.schema)}.${ident(objectName(rebuilt.name.name, suffix))} ` +
        `RENAME TO ${ident(objectName(live.name, suffix))}`,
    );
  }
}

/** What mergeInto changed in the live table. */
export interface MergeResult {
  /** Rows inserted or updated (changed values only). */
  written: number;
  /** Ids removed (users absent from the topic, within the connector scope). */
  removed: string[];
}

/**
 * Brings an existing live table to the rebuilt table's content, inside the caller's
 * transaction, keeping the table itself: its indexes, grants, comments, triggers and the views
 * on it are the operator's and stay. Readers see the old rows until COMMIT, then the new ones.
 *  - upsert streams, e.g. users (`removeAbsent`): rows absent from the rebuilt table are deleted, but only rows of
 *    the connectors whose records the topic holds (`connector_name`) or without one: another
 *    connector sinking into the same table keeps its rows. Changed rows are updated, new ones
 *    inserted; identical rows are not rewritten.
 *  - append streams, e.g. login events: rows are inserted when missing and never deleted, so events older than the
 *    topic's retention stay.
 * Columns the rebuilt table has and the live one lacks are added to the live table first.
 */
export async function mergeInto(
  client: PoolClient,
  rebuilt: SinkTable,
  live: TableName,
  opts: { removeAbsent: boolean; keep?: readonly string[] },
): Promise<MergeResult> {
  await copyMissingColumns(client, rebuilt.name, live);
  const { rows: cols } = await client.query<{ name: string }>(
    'SELECT attname AS name FROM pg_attribute ' +
      'WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
    [qualified(rebuilt.name)],
  );
  const names = cols.map((c) => ident(c.name));
  const from = qualified(rebuilt.name);
  const into = qualified(live);
  let removed: string[] = [];
  if (opts.removeAbsent) {
    const scoped = cols.some((c) => c.name === 'connector_name')
      ? ' AND (l.connector_name IS NULL OR l.connector_name IN ' +
        `(SELECT DISTINCT f.connector_name FROM ${from} AS f WHERE f.connector_name IS NOT NULL))`
      : '';
    // `keep`: ids absent from the rebuilt table only because their record was dead-lettered.
    const gone = await client.query<{ id: string }>(
      `DELETE FROM ${into} AS l WHERE NOT EXISTS (SELECT 1 FROM ${from} AS f WHERE f.id = l.id)${scoped} ` +
        'AND NOT (l.id = ANY($1::text[])) RETURNING l.id',
      [opts.keep ?? []],
    );
    removed = gone.rows.map((r) => r.id);
  }
  const others = names.filter((n) => n !== ident('id'));
  const conflict = opts.removeAbsent
    ? `ON CONFLICT (id) DO UPDATE SET ${others.map((n) => `${n} = EXCLUDED.${n}`).join(', ')} ` +
      `WHERE (${others.map((n) => `t.${n}`).join(', ')}) ` +
      `IS DISTINCT FROM (${others.map((n) => `EXCLUDED.${n}`).join(', ')})`
    : 'ON CONFLICT (id) DO NOTHING';
  const written = await client.query(
    `INSERT INTO ${into} AS t (${names.join(', ')}) SELECT ${names.join(', ')} FROM ${from} ${conflict}`,
  );
  return { written: written.rowCount ?? 0, removed };
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
        AND a.attname NOT IN (SELECT b.attname FROM pg_attribute b
                              WHERE b.attrelid = to_regclass($2) AND b.attnum > 0 AND NOT b.attisdropped)
      ORDER BY a.attnum`,
    [qualified(source), qualified(target)],
  );
  for (const r of rows) await client.query(`ALTER TABLE ${qualified(target)} ADD COLUMN ${ident(r.name)} ${r.type}`);
  return rows.map((r) => r.name);
}

import type { Pool, PoolClient } from 'pg';
import { RetriableError } from '../../kernel/errors';
import { inTransaction, withClient } from './db';
import { ident, type TableName } from './sql';

/**
 * Where each table's data is in Kafka, kept in PostgreSQL beside the rows: one row per
 * (table, topic, partition) with the offset of the next record to apply. It is written in the
 * same transaction as the batch's rows, so the two can never disagree; Kafka's committed
 * offsets are informational (lag metrics, tools) and the sink resumes from these.
 *
 * The row is locked (SELECT … FOR UPDATE) at the start of every batch transaction: two sink
 * processes holding the same partition for a moment (a zombie after a rebalance) take turns,
 * and the second sees what the first applied and skips it. Keyed by the table, not the consumer
 * group: a replay's fresh table carries its own positions, and they move with it at the swap.
 */
export const OFFSETS_TABLE = 'neurons_sink_offsets';

export function offsetsTable(schema: string): TableName {
  return { schema, name: OFFSETS_TABLE };
}

const q = (schema: string) => `${ident(schema)}.${ident(OFFSETS_TABLE)}`;

export function createOffsetsSql(schema: string): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${q(schema)} (`,
    '  table_name text NOT NULL,',
    '  topic text NOT NULL,',
    '  partition integer NOT NULL,',
    '  next_offset bigint NOT NULL,',
    '  updated_at timestamptz NOT NULL DEFAULT now(),',
    `  CONSTRAINT ${ident(`${OFFSETS_TABLE}_pkey`)} PRIMARY KEY (table_name, topic, partition)`,
    ')',
  ].join('\n');
}

/** Creates the offsets table of a schema when missing (idempotent, safe for concurrent starts). */
export async function ensureOffsetsTable(pool: Pool, schema: string): Promise<void> {
  await withClient(pool, (client) =>
    inTransaction(client, async () => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`neurons-sink-ddl:${schema}.${OFFSETS_TABLE}`]);
      await client.query(createOffsetsSql(schema));
    }),
  );
}

/**
 * Inside the caller's transaction: locks the partition's row (creating it at 0 when missing)
 * and returns the offset of the next record still to apply. Held until COMMIT or ROLLBACK.
 */
export async function lockOffset(
  client: PoolClient,
  table: TableName,
  topic: string,
  partition: number,
): Promise<bigint> {
  const key = [table.name, topic, partition];
  // A concurrent first insert waits for the other transaction, then does nothing.
  await client.query(
    `INSERT INTO ${q(table.schema)} (table_name, topic, partition, next_offset)
     VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING`,
    key,
  );
  const { rows } = await client.query<{ next_offset: string }>(
    `SELECT next_offset FROM ${q(table.schema)}
      WHERE table_name = $1 AND topic = $2 AND partition = $3 FOR UPDATE`,
    key,
  );
  // The row was replaced while this transaction waited for it (a replay moving its positions
  // in): start the batch again, from the new offset.
  if (rows.length === 0) {
    const what = `the stored offset of ${topic}[${partition}] was replaced concurrently (a replay); retrying`;
    throw new RetriableError('DB_OFFSET_MOVED', what);
  }
  return BigInt(rows[0].next_offset);
}

/** Inside the caller's transaction (after lockOffset): the batch is applied up to `next` - 1. */
export async function storeOffset(
  client: PoolClient,
  table: TableName,
  topic: string,
  partition: number,
  next: bigint,
): Promise<void> {
  await client.query(
    `UPDATE ${q(table.schema)} SET next_offset = GREATEST(next_offset, $4::bigint), updated_at = now()
      WHERE table_name = $1 AND topic = $2 AND partition = $3`,
    [table.name, topic, partition, next.toString()],
  );
}

/** The stored positions of one table and topic, partition → next offset (no lock). */
export async function readOffsets(
  db: Pool | PoolClient,
  table: TableName,
  topic: string,
): Promise<Map<number, bigint>> {
  const { rows } = await db.query<{ partition: number; next_offset: string }>(
    `SELECT partition, next_offset FROM ${q(table.schema)} WHERE table_name = $1 AND topic = $2`,
    [table.name, topic],
  );
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

/**
 * Inside a replay's swap transaction: the rebuilt table's positions become the live table's
 * (the live table's own are dropped with it).
 */
export async function moveOffsets(client: PoolClient, from: TableName, to: TableName): Promise<void> {
  await client.query(`DELETE FROM ${q(to.schema)} WHERE table_name = $1`, [to.name]);
  await client.query(`UPDATE ${q(to.schema)} SET table_name = $2 WHERE table_name = $1`, [from.name, to.name]);
}

/** Inside the caller's transaction: locks every stored position of these tables. */
export async function lockOffsetRows(client: PoolClient, tables: readonly TableName[]): Promise<void> {
  for (const t of tables) {
    const sql = `SELECT 1 FROM ${q(t.schema)} WHERE table_name = $1 ORDER BY topic, partition FOR UPDATE`;
    await client.query(sql, [t.name]);
  }
}

/** Drops a table's positions (a failed replay's fresh table). */
export async function dropOffsets(db: Pool | PoolClient, table: TableName): Promise<void> {
  await db.query(`DELETE FROM ${q(table.schema)} WHERE table_name = $1`, [table.name]);
}

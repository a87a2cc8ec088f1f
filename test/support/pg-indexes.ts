import type { Client, Pool } from 'pg';

/** The declared secondary indexes of the sink's tables (schemas/streams): users email, username,
 *  managerId; login events userId + loginTime. */
export const SECONDARY_INDEXES = { users: 3, logins: 1 } as const;

/** How many secondary indexes (all but the primary key's) `table` in `schema` has now. */
export async function secondaryIndexCount(db: Client | Pool, table: string, schema = 'public'): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    'SELECT count(*) AS n FROM pg_indexes ' + "WHERE schemaname = $1 AND tablename = $2 AND indexname NOT LIKE '%pkey'",
    [schema, table],
  );
  return Number(rows[0].n);
}

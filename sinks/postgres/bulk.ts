import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../../kernel/logger';
import { inTransaction, withClient } from './db';
import { createIndexes, ensureTable, lockTableDdl, secondaryIndexes } from './ddl';
import { offsetsTable, readOffsets } from './offsets';
import { qualified } from './sql';
import type { SinkTable } from './table';

/**
 * The bulk load of a table that holds nothing the sink must merge with: a live table that is
 * empty and has no stored offset (the sink's first start: the initial load), or a replay's fresh
 * table. Until the load ends, each batch goes by ONE COPY straight into the table (writer.ts,
 * `bulk`), without the per-batch key probe, and the declared secondary indexes do not exist:
 * PostgreSQL builds each once at the end (a sort) instead of inserting every row into it.
 *
 * The load ends once the stored offsets of every partition reached the end offsets the topic had
 * when the sink started (read from the database: other sink processes of the group move theirs
 * there too), or when the caller says so (a replay before its swap). Then the indexes are built
 * with `CREATE INDEX IF NOT EXISTS` under the table's DDL lock (ensureTable).
 *
 * A table deletions cascade to (the login events of a removed user) gets its indexes before the
 * first batch whose deletions cascade to it: the cascade looks its rows up by them, a scan of the
 * whole table without. Its rows still go by COPY until the load ends.
 *
 * A live load (session 14): the sink started before the first run (the compose stack's order),
 * its table empty with no stored offset and its topic empty: the run's records arrive while the
 * sink is up, with no end offsets to reach. The load then ends at the first of: nothing written to
 * any table of a live load for `liveLoadIdleMs` (the run is over, or paused: ending early costs
 * speed only), a batch whose COPY found a key the table holds already (the records are no longer a
 * first load: updates take the normal path), the caller's end (a replay before its swap). Its rows
 * go as a backlog's do; the same crash safety holds (below): it is a bulk load begun at start-up.
 *
 * Crash safety: the indexes are the only thing a bulk load leaves out, and the start-up DDL
 * (setup.ts prepareTable → ensureTable) creates them when missing on every start that does not
 * begin a bulk load itself, which is any start after a batch was stored (rows or an offset).
 * A start that finds the table empty with no offset drops them again (nothing to lose).
 * Autovacuum is off on the table for the load (pauseAutovacuum below) and comes back with the
 * indexes, on the same paths: the load's end, or the next start (ddl.ts createIndexes).
 */
export interface BulkLoad {
  /** Partition → the topic's end offset at start-up (partitions that held records only). */
  readonly ends: ReadonlyMap<number, bigint>;
  /** A live load (the topic was empty at start-up): ends by liveEnd below, not by offsets. */
  readonly live?: boolean;
  /** The declared secondary indexes are not built yet. */
  withoutIndexes: boolean;
  /** Their build in progress (one at a time; concurrent partitions wait for it). */
  indexing?: Promise<void>;
}

/**
 * Starts a bulk load when the table is empty and has no stored offset, under the table's DDL
 * lock: drops its declared secondary indexes. Undefined: not a bulk load. An empty topic (no end
 * offsets) begins a live load when `live` (the sink's own start, with an idle end), else none.
 */
export async function beginBulk(
  pool: Pool,
  table: SinkTable,
  ends: ReadonlyMap<number, bigint> | undefined,
  opts: { live?: boolean; siblings?: readonly SinkTable[] } = {},
): Promise<BulkLoad | undefined> {
  if (!ends || (ends.size === 0 && !opts.live)) return undefined;
  // A live load only on the sink's first start: no table of the sink holds an offset. A process
  // that joins a group whose load went on (or ended) must not drop the indexes of a table still
  // empty: its own idle end may never come (it stops, or owns none of the table's partitions),
  // and the process whose load it was has built them already.
  const names = [table, ...(ends.size === 0 ? (opts.siblings ?? []) : [])]
    .filter((t) => t.name.schema === table.name.schema)
    .map((t) => t.name.name);
  const begun = await withClient(pool, (client) =>
    inTransaction(client, async () => {
      await lockTableDdl(client, table);
      const { rows } = await client.query<{ bulk: boolean }>(
        `SELECT NOT EXISTS (SELECT 1 FROM ${qualified(table.name)}) AND NOT EXISTS ` +
          `(SELECT 1 FROM ${qualified(offsetsTable(table.name.schema))} WHERE table_name = ANY($1)) AS bulk`,
        [names],
      );
      // Not a bulk load: another process of the group may have begun one (and dropped the indexes)
      // between this start's DDL and this check; then nothing here would ever build them, since only
      // a process with a load checks its end. So a process that finds rows builds what is missing.
      if (!rows[0].bulk) {
        await createIndexes(client, table);
        return false;
      }
      for (const index of secondaryIndexes(table)) await client.query(index.drop);
      await pauseAutovacuum(client, table);
      return true;
    }),
  );
  return begun ? { ends, live: ends.size === 0, withoutIndexes: true } : undefined;
}

/**
 * Autovacuum off on a table beginning its bulk load (inside beginBulk's transaction). While a table
 * grows from nothing, PostgreSQL's autovacuum VACUUMs and ANALYZEs it again and again (an insert
 * threshold of 20 % of its rows, analyze at 10 %, checked every autovacuum_naptime): at 150k users
 * + 150k login events a run spent 0.8–6.5 s of PostgreSQL's 9.5–17.3 s of CPU there, 1.6 s of it
 * in one ANALYZE of the 188-column users table (30,000 rows sampled),
 * docs/performance-s15-pg.md. The load's end (ddl.ts createIndexes, with the indexes) ANALYZEs
 * its key and indexed columns (autovacuum gathers the rest) and resets the parameter; so does any
 * later start after a crash (the indexes are missing until then). Only a table with declared
 * secondary indexes (their absence marks the load). An autovacuum_enabled already set is left as
 * it is: an operator's true stays true; a false is the load's from now on (another process of the
 * group may have paused it a moment ago: both began the load), so the load's end resets it.
 * Anti-wraparound vacuums run regardless (PostgreSQL's own rule).
 */
async function pauseAutovacuum(client: PoolClient, table: SinkTable): Promise<void> {
  if (secondaryIndexes(table).length === 0) return;
  const { rows } = await client.query<{ set: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM unnest(reloptions) o WHERE o LIKE 'autovacuum\\_enabled=%') AS set " +
      'FROM pg_class WHERE oid = $1::regclass',
    [qualified(table.name)],
  );
  if (rows[0]?.set) return;
  await client.query(`ALTER TABLE ${qualified(table.name)} SET (autovacuum_enabled = false)`);
}

/**
 * True when the stored offset of every partition of `load.ends` is at its end offset, or one
 * short of it: a transactional producer's (the connector's) last offset is a commit marker, and
 * fetched on its own it yields no batch, so no stored offset ever covers it. Ending a load early
 * costs speed only, never rows: the normal path stores the same.
 */
export function atEnd(load: BulkLoad, partition: number, next: bigint): boolean {
  const end = load.ends.get(partition);
  return end === undefined || next >= end - 1n;
}

export async function bulkReached(pool: Pool, table: SinkTable, topic: string, load: BulkLoad): Promise<boolean> {
  const stored = await readOffsets(pool, table.name, topic);
  for (const partition of load.ends.keys()) if (!atEnd(load, partition, stored.get(partition) ?? -1n)) return false;
  return true;
}

/** Builds the declared secondary indexes that are missing (idempotent, under the table's DDL lock). */
export async function buildIndexes(pool: Pool, table: SinkTable, logger: Logger): Promise<void> {
  const started = Date.now();
  await ensureTable(pool, table, logger);
  logger.info('bulk load: secondary indexes built', {
    table: table.name.name,
    indexes: secondaryIndexes(table).map((i) => i.name),
    seconds: (Date.now() - started) / 1000,
  });
}

/**
 * The idle end of live loads: `end` runs once nothing was written to a table of a live load for
 * `idleMs` (begin/done around each such write; no write in progress), or `maxMs` after the first
 * write, whichever comes first. A failed end is tried again after another `idleMs`; the next
 * start builds what is missing anyway (setup.ts).
 */
export interface LiveEnd {
  begin(): void;
  done(): void;
  /** No end after this (the store closed) until open(). */
  close(): void;
  open(): void;
}

export function liveEnd(limits: { idleMs: number; maxMs: number }, end: () => Promise<void>, logger: Logger): LiveEnd {
  let writing = 0;
  let timer: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let closed = false;
  const endNow = () => {
    if (closed) return;
    end().catch((err: Error) => {
      logger.warn('bulk load: building the indexes failed; tried again', { error: err.message });
      arm();
    });
  };
  const arm = () => {
    clearTimeout(timer);
    if (closed || writing > 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed && writing === 0) endNow();
    }, limits.idleMs);
    timer.unref(); // the consumer keeps the process up; a stopped sink's next start builds them
  };
  return {
    begin() {
      writing++;
      clearTimeout(timer);
      // The bound from the first write: a trickle that never idles still ends the load. Writes in
      // flight meanwhile are safe: CREATE INDEX waits for their transactions, and a COPY into an
      // indexed table takes the staging path on a key it holds (writer.ts copyBulk).
      if (deadline === undefined && !closed) {
        deadline = setTimeout(endNow, limits.maxMs);
        deadline.unref();
      }
    },
    done() {
      writing--;
      arm();
    },
    close() {
      closed = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      deadline = undefined;
    },
    open() {
      closed = false;
    },
  };
}

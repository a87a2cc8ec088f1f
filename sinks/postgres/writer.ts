import type { Pool, PoolClient } from 'pg';
import type { RecordError } from '../../kernel/errors';
import { deletesFirst, unapplied, type WriteCounts, type WriteOp, type WriteOutcome } from '../port';
import { classifyDbError, isDataError, sqlstateOf } from './classify';
import { inTransaction, withClient } from './db';
import { lockOffset, storeOffset } from './offsets';
import { copyFrom } from './copy';
import { encodeRows } from './encode-rows';
import {
  anyKeySql,
  copySql,
  deleteCascade,
  deleteSql,
  directCopySql,
  mergeSql,
  stageSql,
  type CascadeTarget,
} from './statements';
import type { SinkTable } from './table';

export type { WriteCounts, WriteOutcome };

/** Where a batch is in Kafka, and what runs inside its transaction besides the rows. */
export interface BatchPosition {
  topic: string;
  partition: number;
  /** Offset of the record after the batch: stored with the rows. */
  nextOffset: bigint;
  /** false: SET LOCAL synchronous_commit = off. A commit lost in a crash loses its offsets with
   *  it, but the batch is read again only if the consumer seeks back to the stored offsets (it
   *  does on a rebalance, not when it rides out a quick crash): hence on by default. */
  synchronousCommit: boolean;
  /** SET LOCAL statement_timeout, in ms. */
  statementTimeoutMs: number;
  /** Rows of other tables deleted with a deleted key, in the same transaction (a removed user's
   *  login events under sink.onUserRemoved: delete-logins). */
  cascades?: readonly CascadeTarget[];
  /** The table is in its bulk load (bulk.ts): rows go by one COPY straight into it, no key probe. */
  bulk?: boolean;
  /** Called when the bulk COPY found a key the table holds already (its rows then took the staging
   *  path): a live load ends there (bulk.ts). */
  onBulkConflict?: () => void;
  /** Test seam: runs right after BEGIN. */
  inside?: () => Promise<void> | void;
  /**
   * Runs last before COMMIT, with the changes the database refused and the stored offset the
   * batch started from (records below it were applied by an earlier transaction): the caller
   * sends its dead letters here, so they are acknowledged before the offsets move past them.
   * Throwing rolls the transaction back.
   */
  beforeCommit?: (rejected: WriteOutcome['rejected'], stored: bigint) => Promise<void>;
}

/**
 * Applies one batch's changes (already collapsed: one per key) in ONE transaction that also
 * moves the partition's stored offset (offsets.ts): the offset row is locked first, changes of
 * records below the stored offset are left out (an earlier transaction, maybe another sink
 * process's, applied them or newer ones), and a batch entirely below it changes nothing.
 * Then a DELETE for the tombstoned keys; the rows COPYed into a temporary staging table (sent
 * `chunkRows` rows per CopyData message), merged into the table by one INSERT … SELECT … ON
 * CONFLICT.
 *
 * When PostgreSQL refuses the batch as bad data (SQLSTATE class 22 or 23), the transaction is
 * rolled back and the batch is applied again, still in one transaction, bisecting under
 * savepoints until each refused change stands alone: those are returned in `rejected`, all the
 * others are committed. Other failures reject, classified (RetriableError for a lost connection,
 * a restart or a serialization failure; FatalError otherwise), with nothing committed: a retry
 * starts again from the stored offset.
 */
export async function writeOps(
  pool: Pool,
  table: SinkTable,
  ops: readonly WriteOp[],
  chunkRows: number,
  at: BatchPosition,
): Promise<WriteOutcome> {
  const run = (body: (client: PoolClient, ops: readonly WriteOp[]) => Promise<WriteOutcome>) =>
    withClient(pool, (client) =>
      inTransaction(client, async () => {
        // One round trip (simple protocol, no parameters: both values are numbers we made).
        await client.query(
          `SET LOCAL statement_timeout = ${Math.floor(at.statementTimeoutMs)}; ` +
            `SET LOCAL synchronous_commit = ${at.synchronousCommit ? 'on' : 'off'}`,
        );
        await at.inside?.();
        const stored = await lockOffset(client, table.name, at.topic, at.partition);
        if (stored >= at.nextOffset) return { ...NOTHING, skipped: ops.length, rejected: [] };
        const fresh = unapplied(ops, stored);
        const out = await body(client, fresh);
        await storeOffset(client, table.name, at.topic, at.partition, at.nextOffset);
        await at.beforeCommit?.(out.rejected, stored);
        return { ...out, skipped: ops.length - fresh.length };
      }),
    );
  const how: HowToApply = {
    chunkRows,
    cascades: at.cascades ?? [],
    bulk: at.bulk === true,
    onBulkConflict: at.onBulkConflict,
  };
  const fast = await run(async (client, fresh) => ({
    ...(await apply(client, table, fresh, how)),
    skipped: 0,
    rejected: [],
  })).catch((err: unknown) => {
    if (isDataError(err)) return undefined;
    throw err;
  });
  if (fast) return fast;
  return run(async (client, fresh) => {
    const rejected: WriteOutcome['rejected'] = [];
    const counts = await isolate(client, table, fresh, how, rejected);
    return { ...counts, skipped: 0, rejected };
  });
}

const NOTHING: WriteCounts = { upserted: 0, inserted: 0, deleted: 0 };

let stages = 0;

interface HowToApply {
  chunkRows: number;
  cascades: readonly CascadeTarget[];
  bulk: boolean;
  onBulkConflict?: () => void;
}

async function apply(
  client: PoolClient,
  table: SinkTable,
  ops: readonly WriteOp[],
  how: HowToApply,
): Promise<WriteCounts> {
  const { chunkRows, cascades } = how;
  const counts: WriteCounts = { ...NOTHING };
  if (ops.length === 0) return counts;
  const deletes = ops.filter(deletesFirst).map((o) => o.key);
  if (deletes.length > 0) {
    counts.deleted += (await client.query(deleteSql(table), [deletes])).rowCount ?? 0;
    for (const target of cascades) await deleteCascade(client, target, deletes);
  }
  for (const mode of ['upsert', 'insert'] as const) {
    const rows = ops.filter((o): o is RowOp => o.kind === mode);
    if (rows.length === 0) continue;
    const n = how.bulk
      ? await copyBulk(client, table, rows, chunkRows, mode, how.onBulkConflict)
      : ((await copyDirect(client, table, rows, chunkRows)) ?? (await copyMerge(client, table, rows, chunkRows, mode)));
    if (mode === 'upsert') counts.upserted += n;
    else counts.inserted += n;
  }
  return counts;
}

type RowOp = Extract<WriteOp, { value: unknown }>;

/**
 * The bulk path: rows none of whose keys the table holds (an initial load, new users) are
 * COPYed straight into the table: one pass, where the staging path writes them twice (staging
 * table, then INSERT … SELECT with its conflict checks). Checked first with one index probe per
 * key, inside the batch's transaction. Returns the rows copied, or undefined when the batch must
 * take the staging path: some key is there already (an update, a replay into a filled table), or
 * a value only PostgreSQL can convert (columns.ts FieldColumn.direct). A key inserted meanwhile by
 * another transaction fails the COPY with a unique violation (a data error): the batch is then
 * applied again (writeOps), and its check finds the key.
 */
async function copyDirect(
  client: PoolClient,
  table: SinkTable,
  rows: readonly RowOp[],
  chunkRows: number,
): Promise<number | undefined> {
  const { rows: found } = await client.query<{ found: boolean }>(anyKeySql(table), [rows.map((r) => r.key)]);
  if (found[0].found) return undefined;
  const encoded = encodeRows(table, rows, chunkRows, 'direct');
  if (!encoded) return undefined;
  const copied = await copyFrom(client, directCopySql(table), encoded.chunks);
  encoded.release(); // only once COPY has sent it all; a failed COPY's buffer is left to the GC
  return copied;
}

/**
 * A table in its bulk load (bulk.ts) holds only what earlier batches of the load wrote: the rows
 * go by ONE COPY straight into it, without the probe of copyDirect. A key it holds already (a
 * compacted topic keeps several versions of a key until compaction; an event published twice)
 * fails the COPY on the primary key: the savepoint takes the COPY back, and the batch's rows go
 * the staging path, which upserts (or inserts once) as it always does. A value only PostgreSQL can
 * convert sends them there too.
 */
async function copyBulk(
  client: PoolClient,
  table: SinkTable,
  rows: readonly RowOp[],
  chunkRows: number,
  mode: 'upsert' | 'insert',
  onConflict?: () => void,
): Promise<number> {
  const encoded = encodeRows(table, rows, chunkRows, 'direct');
  if (!encoded) return copyMerge(client, table, rows, chunkRows, mode);
  await client.query('SAVEPOINT neurons_bulk');
  let copied: number;
  try {
    copied = await copyFrom(client, directCopySql(table), encoded.chunks);
  } catch (err) {
    if (sqlstateOf(err) !== UNIQUE_VIOLATION) throw err;
    onConflict?.();
    await client.query('ROLLBACK TO SAVEPOINT neurons_bulk');
    await client.query('RELEASE SAVEPOINT neurons_bulk');
    return copyMerge(client, table, rows, chunkRows, mode);
  }
  encoded.release(); // only once COPY has sent it all; a failed COPY's buffer is left to the GC
  await client.query('RELEASE SAVEPOINT neurons_bulk');
  return copied;
}

const UNIQUE_VIOLATION = '23505';

/** The staging path: COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT (mergeSql). */
async function copyMerge(
  client: PoolClient,
  table: SinkTable,
  rows: readonly RowOp[],
  chunkRows: number,
  mode: 'upsert' | 'insert',
): Promise<number> {
  // A fresh name each time: a staging table of a released savepoint lives until COMMIT.
  const stage = `neurons_stage_${++stages}`;
  await client.query(stageSql(table, stage));
  const encoded = encodeRows(table, rows, chunkRows, 'stage')!;
  await copyFrom(client, copySql(table, stage), encoded.chunks);
  encoded.release();
  return (await client.query(mergeSql(table, stage, mode))).rowCount ?? 0;
}

/** Applies `ops` under a savepoint; on a data error, splits them in two and tries each half. */
async function isolate(
  client: PoolClient,
  table: SinkTable,
  ops: readonly WriteOp[],
  how: HowToApply,
  rejected: WriteOutcome['rejected'],
): Promise<WriteCounts> {
  await client.query('SAVEPOINT neurons_bisect');
  try {
    const counts = await apply(client, table, ops, how);
    await client.query('RELEASE SAVEPOINT neurons_bisect');
    return counts;
  } catch (raw) {
    const err = classifyDbError(raw);
    if (!isDataError(err)) throw err;
    await client.query('ROLLBACK TO SAVEPOINT neurons_bisect');
    await client.query('RELEASE SAVEPOINT neurons_bisect');
    if (ops.length === 1) {
      rejected.push({ op: ops[0], error: err as RecordError });
      // A refused value after its key's tombstone: the tombstone still deletes (its own record is not refused).
      const op = ops[0];
      if (op.kind !== 'delete' && op.deletedAt !== undefined) {
        // the tombstone's own record (same key and partition, its offset): dead-lettered itself if refused
        const tombstone: WriteOp = {
          kind: 'delete',
          key: op.key,
          source: { ...op.source, offset: op.deletedAt, value: null, headers: undefined },
        };
        return isolate(client, table, [tombstone], how, rejected);
      }
      return { upserted: 0, inserted: 0, deleted: 0 };
    }
    const mid = ops.length >> 1;
    const a = await isolate(client, table, ops.slice(0, mid), how, rejected);
    const b = await isolate(client, table, ops.slice(mid), how, rejected);
    return { upserted: a.upserted + b.upserted, inserted: a.inserted + b.inserted, deleted: a.deleted + b.deleted };
  }
}

import type { Pool } from 'pg';
import type { AvroSchemaJson } from '../../schemas/avro';
import { FatalError } from '../../kernel/errors';
import { silentLogger, type Logger } from '../../kernel/logger';
import { deletesFirst, type BatchWrite, type Sink, type SinkStream, type WriterSchema } from '../port';
import { atEnd, beginBulk, buildIndexes, bulkReached, liveEnd, type BulkLoad } from './bulk';
import { classifyDbError, sqlstateOf } from './classify';
import { fieldColumns } from './columns';
import { ensureTable } from './ddl';
import { DEAD_LETTER_HEADERS } from '../../schemas/topics';
import { ensureOffsetsTable, readOffsets } from './offsets';
import { ensureView, prepareTable } from './setup';
import { checkTableName, columnName } from './sql';
import type { CascadeTarget } from './statements';
import { SinkTable } from './table';
import { writeOps } from './writer';

/** The PostgreSQL store's own knobs (the sink's tuning, postgres/sink.ts, documents each). */
export interface PostgresStoreOptions {
  pool: Pool;
  chunkRows: number;
  synchronousCommit: boolean;
  statementTimeoutMs: number;
  logger?: Logger;
  /** A table fresh at start-up whose topic is empty is loaded in bulk as the records arrive, ended
   *  after this many ms with nothing written (bulk.ts, a live load). Undefined: no live load. */
  liveLoadIdleMs?: number;
  /** The latest a live load ends after its first write, in ms (default: no bound but the idle end). */
  liveLoadMaxMs?: number;
}

/**
 * PostgreSQL as an implementation of the sink port: one table per stream (one column per Avro
 * field, `id` the primary key, the declared indexes), the stream's views, and the stored offsets
 * in `neurons_sink_offsets` written in the batch's own transaction (offsets.ts, writer.ts).
 * The pool is the caller's: close() only lets go of it.
 */
export function createPostgresStore(opts: PostgresStoreOptions): PostgresStore {
  const { pool } = opts;
  const logger = opts.logger ?? silentLogger;
  const tables = new Map<string, SinkTable>();
  /** Stream name → its table's bulk load in progress (bulk.ts). */
  const bulk = new Map<string, BulkLoad>();
  /** Builds a table's deferred indexes (once; a failure is tried again by the next call). */
  const index = (stream: string, load: BulkLoad): Promise<void> =>
    (load.indexing ??= buildIndexes(pool, tables.get(stream)!, logger).then(
      () => void (load.withoutIndexes = false),
      (err: unknown) => {
        load.indexing = undefined; // tried again by the partition's next batch, or built by the next start
        throw classifyDbError(err);
      },
    ));
  const finish = async (stream: string, load: BulkLoad) => {
    await index(stream, load);
    if (bulk.get(stream) === load) bulk.delete(stream);
  };
  const live =
    opts.liveLoadIdleMs === undefined
      ? undefined
      : liveEnd(
          { idleMs: opts.liveLoadIdleMs, maxMs: opts.liveLoadMaxMs ?? 2 ** 31 - 1 },
          async () => {
            for (const [stream, load] of [...bulk]) if (load.live) await finish(stream, load);
          },
          logger,
        );
  const onPoolError = (err: Error) => logger.warn('idle database connection lost', { error: err.message });
  let listening = false;
  const tableOf = (stream: SinkStream): SinkTable => {
    let t = tables.get(stream.name);
    if (!t) {
      t = new SinkTable(checkTableName(stream.table, `sink table of stream ${stream.name}`), stream.indexes);
      tables.set(stream.name, t);
    }
    return t;
  };
  const cascadesOf = (stream: SinkStream): CascadeTarget[] =>
    stream.deletesCascadeTo.flatMap((c) => {
      const target = tables.get(c.stream);
      return target ? [{ table: target.name, column: target.field(c.field)?.column ?? columnName(c.field) }] : [];
    });

  return {
    table: tableOf,
    async open(streams, ctx) {
      if (!listening) pool.on('error', onPoolError);
      listening = true;
      live?.open();
      for (const schema of new Set(streams.map((s) => s.table.schema))) await ensureOffsetsTable(pool, schema);
      for (const s of streams) {
        await prepareTable(pool, tableOf(s), s.baseSchema, await ctx.latestSchema(s), ctx.logger);
        bulk.delete(s.name);
        const load = await beginBulk(pool, tableOf(s), await ctx.endOffsets?.(s), {
          live: live !== undefined,
          siblings: streams.map(tableOf),
        });
        if (!load) continue;
        bulk.set(s.name, load);
        ctx.logger.info(
          load.live
            ? 'bulk load: the topic is empty; its first records go by COPY straight into the table, ' +
                'indexes built once they stop coming'
            : 'bulk load: COPY straight into the table, indexes built once the backlog is applied',
          { table: tableOf(s).name.name },
        );
      }
      // Views read the tables: created once all of them exist.
      const names = new Map([...tables].map(([stream, t]) => [stream, t.name]));
      for (const s of streams) for (const v of s.views) await ensureView(pool, v, names, ctx.logger);
    },
    acceptSchema(json: AvroSchemaJson) {
      fieldColumns(json);
    },
    evolve(stream: SinkStream, writer: WriterSchema) {
      const table = tableOf(stream);
      const fresh = table.absorb(writer.json); // throws (schema not storable) before changing anything
      if (fresh.length === 0) return undefined;
      logger.info('newer writer schema: adding columns', {
        table: table.name.name,
        schemaId: writer.id,
        fields: fresh.map((f) => f.field),
      });
      // A table in its bulk load gets its indexes at the end of the load, not with new columns.
      return () => ensureTable(pool, table, logger, { indexes: !bulk.get(stream.name)?.withoutIndexes });
    },
    async write(batch: BatchWrite) {
      const table = tables.get(batch.stream.name);
      if (!table) throw new FatalError('SINK_TOPIC_UNKNOWN', `stream ${batch.stream.name} was not opened`);
      const load = bulk.get(batch.stream.name);
      // A deletion cascading to a table whose indexes are deferred would scan it whole: build them first.
      if (batch.ops.some(deletesFirst))
        for (const c of batch.stream.deletesCascadeTo) {
          const target = bulk.get(c.stream);
          if (target?.withoutIndexes) await index(c.stream, target);
        }
      // A live load's idle end waits for this write (bulk.ts liveEnd).
      const idle = load?.live ? live : undefined;
      idle?.begin();
      let conflict = false;
      const out = await writeOps(pool, table, batch.ops, opts.chunkRows, {
        topic: batch.stream.topic,
        partition: batch.partition,
        nextOffset: batch.nextOffset,
        synchronousCommit: opts.synchronousCommit,
        statementTimeoutMs: opts.statementTimeoutMs,
        cascades: cascadesOf(batch.stream),
        bulk: load !== undefined,
        onBulkConflict: () => void (conflict = true),
        inside: batch.inside,
        beforeCommit: batch.beforeCommit,
      }).finally(() => idle?.done());
      // A live load whose records are no longer a first load (a key the table holds): it ends now.
      if (load?.live && conflict) await finish(batch.stream.name, load);
      // Committed. The partition at its start-up end: has every partition got there (bulk.ts)?
      // A failure here fails the batch: its retry finds it applied and comes back here.
      if (load && !load.live && atEnd(load, batch.partition, batch.nextOffset)) {
        const reached = await bulkReached(pool, table, batch.stream.topic, load).catch((err: unknown) => {
          throw classifyDbError(err);
        });
        if (reached) await finish(batch.stream.name, load);
      }
      return out;
    },
    async endBulkLoads() {
      for (const [stream, load] of [...bulk]) await finish(stream, load);
    },
    storedOffsets: (stream) => readOffsets(pool, tableOf(stream).name, stream.topic),
    probe: () => probeDatabase(pool),
    deadLetterHeaders(error) {
      const state = sqlstateOf(error);
      return state ? { [DEAD_LETTER_HEADERS.sqlstate]: state } : {};
    },
    async close() {
      live?.close();
      if (listening) pool.off('error', onPoolError);
      listening = false;
    },
  };
}

/** The PostgreSQL store: the sink port, and what a replay needs of it. */
export interface PostgresStore extends Sink {
  table(stream: SinkStream): SinkTable;
  /** Ends the bulk loads still in progress (bulk.ts): a replay's fresh tables before its swap. */
  endBulkLoads(): Promise<void>;
}

/** True when the database answers a trivial query within 3 s. */
async function probeDatabase(pool: Pool): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 3000)));
  try {
    return await Promise.race([
      pool.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

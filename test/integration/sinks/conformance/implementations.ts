import { Pool } from 'pg';
import type { Sink, SinkStream } from '../../../../sinks/port';
import { createMemorySink } from '../../../../sinks/memory/sink';
import { createPostgresStore } from '../../../../sinks/postgres/store';
import { services, uniqueName } from '../../../support/services';

type Row = Record<string, unknown>;

/** One sink implementation under test: the port, and a way to read back what it holds. */
export interface SinkUnderTest {
  sink: Sink;
  /** Table names of this run (unique), by stream name. */
  tables: Record<string, { schema: string; name: string }>;
  /** The stream's rows by key, fields by Avro name (a missing field reads as null). */
  rows(stream: SinkStream): Promise<Map<string, Row>>;
  close(): Promise<void>;
}

export interface Implementation {
  name: string;
  create(streams: readonly string[]): Promise<SinkUnderTest>;
}

/** Every sink implementation. Adding a sink to the conformance suite is adding one line here. */
export const IMPLEMENTATIONS: readonly Implementation[] = [
  { name: 'memory (reference)', create: memory },
  { name: 'PostgreSQL', create: (streams) => postgres(streams, false) },
  { name: 'PostgreSQL, bulk load', create: (streams) => postgres(streams, true) },
];

async function memory(streams: readonly string[]): Promise<SinkUnderTest> {
  const sink = createMemorySink();
  return {
    sink,
    tables: Object.fromEntries(streams.map((s) => [s, { schema: 'memory', name: s }])),
    rows: async (stream) => new Map(sink.rows(stream.name)),
    close: () => sink.close(),
  };
}

/**
 * `bulk`: every open() is told of a backlog no batch reaches, so each table that is empty at
 * start stays in its bulk load (postgres/bulk.ts: COPY straight in, the key conflicts of later
 * batches handled on the way) for the whole test.
 */
async function postgres(streams: readonly string[], bulk: boolean): Promise<SinkUnderTest> {
  const pool = new Pool({ connectionString: services().DATABASE_URL, max: 4 });
  pool.on('error', () => undefined);
  const tables = Object.fromEntries(
    streams.map((s) => [s, { schema: 'public', name: uniqueName(`conf_${s}`).replace(/-/g, '_') }]),
  );
  const store = createPostgresStore({ pool, chunkRows: 7, synchronousCommit: true, statementTimeoutMs: 30_000 });
  const endless = new Map([[0, 2n ** 62n]]);
  const sink: Sink = bulk
    ? { ...store, open: (s, ctx) => store.open(s, { ...ctx, endOffsets: async () => endless }) }
    : store;
  return {
    sink,
    tables,
    async rows(stream) {
      const { rows } = await pool.query(`SELECT * FROM "${stream.table.name}"`);
      const out = new Map<string, Row>();
      for (const r of rows) {
        const row: Row = {};
        for (const [column, value] of Object.entries(r)) if (!column.startsWith('_kafka_')) row[camel(column)] = value;
        out.set(r.id as string, row);
      }
      return out;
    },
    async close() {
      await sink.close();
      await pool.query(
        `DROP TABLE IF EXISTS ${Object.values(tables)
          .map((t) => `"${t.name}"`)
          .join(', ')}`,
      );
      await pool.query('DELETE FROM neurons_sink_offsets WHERE table_name = ANY($1)', [
        Object.values(tables).map((t) => t.name),
      ]);
      await pool.end();
    },
  };
}

function camel(column: string): string {
  return column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

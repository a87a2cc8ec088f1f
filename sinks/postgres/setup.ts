import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import type { AvroSchemaJson } from '../../schemas/avro';
import { FatalError } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import { classifyDbError } from './classify';
import { ensureTable } from './ddl';
import { inTransaction, withClient } from './db';
import { ident, qualified, type TableName } from './sql';
import type { SinkTable } from './table';

/**
 * Start-up DDL for one table: its columns are the union of the schema this build ships and the
 * newest version registered for the topic (a newer connector may have registered fields this
 * build does not know yet). Creates or alters the table and its indexes. Idempotent.
 */
export async function prepareTable(
  pool: Pool,
  table: SinkTable,
  shipped: AvroSchemaJson,
  latest: AvroSchemaJson | undefined,
  logger: Logger,
): Promise<void> {
  table.absorb(shipped);
  if (latest) table.absorb(latest);
  await ensureTable(pool, table, logger);
}

/**
 * Creates or replaces a declared view from its SQL file (CREATE OR REPLACE VIEW …), once the
 * tables exist, under the same advisory lock as the tables' DDL (several sinks may start
 * together). `{{table:<stream>}}` in the SQL becomes that stream's table, schema-qualified, and
 * `{{schema:<stream>}}` its schema (where the view itself goes), so a view follows tables renamed
 * or moved by configuration. A missing file, a placeholder naming a stream
 * not sunk here, or SQL PostgreSQL refuses stops the sink, naming the file.
 */
export async function ensureView(
  pool: Pool,
  file: string,
  tables: ReadonlyMap<string, TableName>,
  logger: Logger,
): Promise<void> {
  let sql: string;
  try {
    sql = readFileSync(file, 'utf8').replace(
      /\{\{\s*(table|schema):([A-Za-z0-9_-]+)\s*\}\}/g,
      (_, what: 'table' | 'schema', stream: string) => {
        const table = tables.get(stream);
        if (!table) {
          const sunk = [...tables.keys()].join(', ');
          throw new Error(`{{${what}:${stream}}} names no stream this sink writes (${sunk})`);
        }
        return what === 'table' ? qualified(table) : ident(table.schema);
      },
    );
  } catch (err) {
    throw new FatalError(
      'SINK_VIEW_INVALID',
      `view ${file}: ${(err as Error).message}; check the stream declaration's sink.views`,
      { cause: err },
    );
  }
  await withClient(pool, (client) =>
    inTransaction(client, async () => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`neurons-sink-ddl:view:${file}`]);
      await client.query(sql);
    }),
  ).catch((err: unknown) => {
    const e = classifyDbError(err);
    if (e.retriable) throw e;
    throw new FatalError(
      'SINK_VIEW_INVALID',
      `view ${file}: PostgreSQL refused it (${e.message}); fix the SQL or the tables it reads`,
      { cause: err },
    );
  });
  logger.info('view created or replaced', { file });
}

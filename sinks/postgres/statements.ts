import { META_COLUMNS, type SinkTable } from './table';
import type { WriteOp } from '../port';
import { copyValue } from './copy';
import type { PoolClient } from 'pg';
import { ident, qualified, type TableName } from './sql';

/**
 * The SQL the writer runs. Rows are COPYed into a temporary staging table (columns in their
 * wire types: timestamps as epoch numbers), then merged into the target with one
 * INSERT … SELECT … ON CONFLICT, which converts them (select expressions of columns.ts).
 */

type RowOp = Extract<WriteOp, { value: unknown }>;

function columns(table: SinkTable) {
  const fields = table.fields();
  return {
    names: [...fields.map((f) => f.column), ...META_COLUMNS.map((m) => m.column)],
    wire: [
      ...fields.map((f) => `${ident(f.column)} ${f.wireType}`),
      ...META_COLUMNS.map((m) => `${ident(m.column)} ${m.pgType}`),
    ],
    selects: [
      ...fields.map((f) => f.select(`x.${ident(f.column)}`)),
      ...META_COLUMNS.map((m) => `x.${ident(m.column)}`),
    ],
  };
}

/** A staging table for one batch, gone when the transaction ends (or its savepoint rolls back). */
export function stageSql(table: SinkTable, stage: string): string {
  return `CREATE TEMP TABLE ${ident(stage)} (${columns(table).wire.join(', ')}) ON COMMIT DROP`;
}

export function copySql(table: SinkTable, stage: string): string {
  return `COPY ${ident(stage)} (${columns(table).names.map(ident).join(', ')}) FROM STDIN`;
}

/** Upsert by id (users) or insert-or-nothing by id (login events), from the staging table. */
export function mergeSql(table: SinkTable, stage: string, mode: 'upsert' | 'insert'): string {
  const { names, selects } = columns(table);
  const conflict =
    mode === 'insert'
      ? 'ON CONFLICT (id) DO NOTHING'
      : `ON CONFLICT (id) DO UPDATE SET ${names
          .filter((c) => c !== 'id')
          .map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`)
          .join(', ')}`;
  return (
    `INSERT INTO ${qualified(table.name)} (${names.map(ident).join(', ')})\n` +
    `SELECT ${selects.join(', ')}\nFROM ${ident(stage)} AS x\n${conflict}`
  );
}

export function deleteSql(table: SinkTable): string {
  return `DELETE FROM ${qualified(table.name)} WHERE id = ANY($1::text[])`;
}

/**
 * One COPY line (with its newline) for an upsert or insert. A field the record's writer schema
 * lacks (an older writer) gets the field's Avro default, like a reader of the newer schema.
 */
export function copyLine(table: SinkTable, op: RowOp): string {
  const out: string[] = [];
  for (const f of table.fields()) {
    // The key is the identity (compaction and tombstones work by key), whatever the value says.
    if (f.field === 'id') {
      out.push(copyValue('text', op.key));
      continue;
    }
    const own = table.writerColumns(op.writer).get(f.field);
    out.push(copyValue(f.wireType, own ? own.toJson(op.value[f.field] ?? null) : f.defaultJson));
  }
  out.push(String(op.source.partition), op.source.offset);
  return out.join('\t') + '\n';
}

/** A deletion cascade: rows of `target` whose `column` holds a deleted key (e.g. a removed user's login events). */
export interface CascadeTarget {
  readonly table: TableName;
  readonly column: string;
}

export function deleteCascadeSql(target: CascadeTarget): string {
  return `DELETE FROM ${qualified(target.table)} WHERE ${ident(target.column)} = ANY($1::text[])`;
}

/** Runs deleteCascadeSql when the target table exists (it may not, before its first record). */
export async function deleteCascade(
  client: PoolClient,
  target: CascadeTarget,
  keys: readonly string[],
): Promise<number> {
  const { rows } = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
    qualified(target.table),
  ]);
  if (rows[0].t === null) return 0;
  return (await client.query(deleteCascadeSql(target), [keys])).rowCount ?? 0;
}

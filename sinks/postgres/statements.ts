import { META_COLUMNS, type SinkTable } from './table';
import type { WriteOp } from './collapse';
import { ident, qualified } from './sql';

/**
 * The SQL the writer runs. Rows travel as one JSON array parameter unpacked by
 * json_to_recordset: one statement per chunk whatever the column count (no 65535-parameter
 * limit), and maps/arrays land in jsonb as they are.
 */

/** Multi-row upsert by id (users) or idempotent insert (login events), for the table's known fields. */
export function rowsSql(table: SinkTable, mode: 'upsert' | 'insert'): string {
  const fields = table.fields();
  const cols = [...fields.map((f) => f.column), ...META_COLUMNS.map((m) => m.column)];
  const defs = [...fields.map((f) => `${ident(f.column)} ${f.wireType}`), ...META_COLUMNS.map((m) => `${ident(m.column)} ${m.pgType}`)];
  const selects = [...fields.map((f) => f.select(`x.${ident(f.column)}`)), ...META_COLUMNS.map((m) => `x.${ident(m.column)}`)];
  const conflict =
    mode === 'insert'
      ? 'ON CONFLICT (id) DO NOTHING'
      : `ON CONFLICT (id) DO UPDATE SET ${cols.filter((c) => c !== 'id').map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(', ')}`;
  return `INSERT INTO ${qualified(table.name)} (${cols.map(ident).join(', ')})\nSELECT ${selects.join(', ')}\nFROM json_to_recordset($1::json) AS x(${defs.join(', ')})\n${conflict}`;
}

export function deleteSql(table: SinkTable): string {
  return `DELETE FROM ${qualified(table.name)} WHERE id = ANY($1::text[])`;
}

/**
 * The JSON row of an upsert or insert, keyed by column. A field the record's writer schema
 * lacks (an older writer) gets the field's Avro default, like a reader of the newer schema.
 */
export function rowOf(table: SinkTable, op: Extract<WriteOp, { value: unknown }>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const f of table.fields()) {
    const own = op.writer.columns?.get(f.field);
    row[f.column] = own ? own.toJson(op.value[f.field] ?? null) : f.defaultJson;
  }
  // The key is the identity (compaction and tombstones work by key), whatever the value says.
  row.id = op.key;
  row._kafka_partition = op.source.partition;
  row._kafka_offset = op.source.offset;
  return row;
}

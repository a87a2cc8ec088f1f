import type { AvroSchemaJson } from '../../schemas/avro';
import { FatalError } from '../../kernel/errors';
import { fieldColumns, type FieldColumn } from './columns';
import type { WriterSchema } from '../port';
import { type TableName } from './sql';

/** Columns every table has besides the Avro fields: where in Kafka the row's record was. */
export const META_COLUMNS = [
  { column: '_kafka_partition', pgType: 'integer' },
  { column: '_kafka_offset', pgType: 'bigint' },
] as const;

/** Index and constraint name suffixes (see objectName), shared by live and replayed tables. */
export function indexSuffix(columns: readonly string[]): string {
  return `${columns.join('_')}_idx`;
}
export const PKEY_SUFFIX = 'pkey';
export const ID_CHECK_SUFFIX = 'id_check';

/**
 * The fields a sink table knows about: the union of every schema version seen so far (the one
 * shipped, the newest registered at start-up, and each writer schema met in a message). It only
 * grows: a field that a newer version drops keeps its column, and records without it write the
 * field's Avro default there (what a reader with the newer schema would see).
 * Not thread-safe across processes by itself: ensureTable (ddl.ts) serialises the DDL.
 */
export class SinkTable {
  private readonly known = new Map<string, FieldColumn>();
  private readonly writers = new WeakMap<WriterSchema, ReadonlyMap<string, FieldColumn>>();
  private record: string | undefined;

  constructor(
    readonly name: TableName,
    /**
     * Lookups the table is indexed for (Avro field names; the primary key is always id): the stream's declared
     * indexes.
     */
    readonly indexes: readonly (readonly string[])[] = [],
  ) {}

  /** Field name → how a writer schema's field becomes a column (computed once per writer). */
  writerColumns(writer: WriterSchema): ReadonlyMap<string, FieldColumn> {
    let columns = this.writers.get(writer);
    if (!columns) {
      columns = new Map(fieldColumns(writer.json).map((c) => [c.field, c]));
      this.writers.set(writer, columns);
    }
    return columns;
  }

  /** Known fields, in the order they were first seen (the id first). */
  fields(): FieldColumn[] {
    return [...this.known.values()];
  }

  field(name: string): FieldColumn | undefined {
    return this.known.get(name);
  }

  /** Adds the fields of `schema` that are new; returns those (empty: no DDL needed). */
  absorb(schema: AvroSchemaJson): FieldColumn[] {
    // A table holds one record type: a writer schema of another type (a login event on the
    // users topic) must not add its fields here.
    const name = recordName(schema);
    if (this.record === undefined) this.record = name;
    else if (name !== this.record)
      throw new FatalError('SCHEMA_UNSUPPORTED', `table ${this.name.name} holds ${this.record} records, not ${name}`);
    const columns = fieldColumns(schema);
    const idField = columns.find((c) => c.field === 'id');
    if (!idField || idField.pgType !== 'text')
      throw new FatalError(
        'SCHEMA_UNSUPPORTED',
        `table ${this.name.name}: the schema has no string field "id" to key rows by`,
      );
    // The id goes first, so it leads the table's columns whatever the schema's field order.
    const fresh = [idField, ...columns.filter((c) => c !== idField)].filter((f) => !this.known.has(f.field));
    for (const f of fresh) {
      const clash = [...this.known.values()].find((k) => k.column === f.column);
      if (clash)
        throw new FatalError(
          'SCHEMA_UNSUPPORTED',
          `fields ${clash.field} and ${f.field} would share column ${f.column}`,
        );
    }
    // Validated first, then added: a refused schema leaves the table's fields as they were.
    for (const f of fresh) this.known.set(f.field, f);
    return fresh;
  }
}

/** The full name (namespace.name) of a record schema. */
function recordName(schema: AvroSchemaJson): string {
  const s = schema as { name?: string; namespace?: string };
  if (typeof s.name !== 'string') return '(unnamed)';
  return s.name.includes('.') || !s.namespace ? s.name : `${s.namespace}.${s.name}`;
}

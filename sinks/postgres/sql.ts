import { createHash } from 'node:crypto';
import { FatalError } from '../../kernel/errors';

/** A table, with the PostgreSQL schema (namespace) it lives in. */
export interface TableName {
  readonly schema: string;
  readonly name: string;
}

/** PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER = 63;

/** Quotes an identifier, so reserved words (name, state, status…) and any case work as columns. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(table: TableName): string {
  return `${ident(table.schema)}.${ident(table.name)}`;
}

/** Throws a FatalError naming the setting when a table name would be truncated by PostgreSQL. */
export function checkTableName(table: TableName, setting: string): TableName {
  if (!table.name || Buffer.byteLength(table.name) > MAX_IDENTIFIER || !table.schema) {
    throw new FatalError(
      'CONFIG_INVALID',
      `${setting}: table name "${table.schema}.${table.name}" must be 1-${MAX_IDENTIFIER} bytes`,
    );
  }
  return table;
}

/**
 * Name of an index or constraint that belongs to `table`: "<table>_<suffix>", shortened with a
 * hash when it would pass 63 bytes (PostgreSQL would truncate it silently, and two long names
 * could then collide). Deterministic, so a replayed table's objects can be renamed to the live
 * table's names at swap time.
 */
export function objectName(table: string, suffix: string): string {
  const plain = `${table}_${suffix}`;
  if (Buffer.byteLength(plain) <= MAX_IDENTIFIER) return plain;
  const hash = createHash('sha1').update(plain).digest('hex').slice(0, 8);
  return `${table.slice(0, MAX_IDENTIFIER - suffix.length - hash.length - 2)}_${hash}_${suffix}`;
}

/** Avro field name (camelCase) to column name (snake_case): userRoleId → user_role_id. */
export function columnName(field: string): string {
  return field
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

import { parse } from 'csv-parse/sync';
import { FatalError } from '../kernel/errors';

/**
 * The mapping as data: which Salesforce source field becomes which Neurons target attribute,
 * with which type. It is the CSV the product documentation offers as a download, and the
 * transform stages read it, so adding an attribute means editing the CSV and the Avro schema,
 * not code.
 *
 * CSV columns (header row required, in this order):
 *   source_object  User | LoginHistory | Connector (see SourceObject)
 *   source_field   the Salesforce API name (dotted paths for parents, e.g. UserRole.Name);
 *                  for boolean-map a prefix ending in `*`; for user-status two fields joined by `+`;
 *                  for Connector the name of a StageContext property
 *   target         the Neurons attribute: the Avro field name (camelCase)
 *   type           a MappingType, which picks the conversion
 *   required       yes | no: an empty or missing required value makes the record a RecordError
 *   notes          what the attribute means (the Avro doc string says the same)
 */

/** Where a value comes from. */
export type SourceObject =
  /** A column of the raw User Bulk CSV row (parent paths such as Profile.Name included). */
  | 'User'
  /** A field of a LoginHistory event: in the user mapping, the user's latest login (merged later). */
  | 'LoginHistory'
  /** Run metadata from the stage context (org id, connector name, run id, extraction time). */
  | 'Connector'
  /** The object of a declared stream (schemas/streams): its own mapping names it. */
  | (string & NonNullable<unknown>);

export const SOURCE_OBJECTS: readonly SourceObject[] = ['User', 'LoginHistory', 'Connector'];

/** The conversions the transform knows. Each names the Avro type it produces (see checkMapping). */
export const MAPPING_TYPES = [
  'string', // text as is ('' -> null)
  'id', // 15- or 18-character alphanumeric Salesforce id, as a string
  'boolean', // 'true' | 'false'
  'int', // 32-bit integer
  'long', // integer up to 2^53 (JS safe integer)
  'double', // decimal number
  'timestamp-millis', // ISO-8601 datetime -> epoch milliseconds (Avro long, logicalType timestamp-millis)
  'date', // YYYY-MM-DD -> days since 1970-01-01 (Avro int, logicalType date)
  'boolean-map', // every column starting with a prefix -> map of the rest of the name to boolean
  'record-url', // `${instanceUrl}/${Id}`
  'user-status', // active | inactive | frozen from IsActive + UserLogin.IsFrozen
] as const;
export type MappingType = (typeof MAPPING_TYPES)[number];

/** One line of the mapping. Immutable. */
export interface MappingRow {
  readonly sourceObject: SourceObject;
  readonly sourceField: string;
  readonly target: string;
  readonly type: MappingType;
  readonly required: boolean;
  readonly notes: string;
}

/** A parsed mapping: rows in file order (the order is kept so export reproduces the file). */
export interface Mapping {
  readonly rows: readonly MappingRow[];
}

export const MAPPING_COLUMNS = ['source_object', 'source_field', 'target', 'type', 'required', 'notes'] as const;

/**
 * Parses mapping CSV text. Throws a FatalError naming the line and the problem when the text is
 * not a valid mapping (unknown type or source object, duplicate target, bad header): a broken
 * mapping must stop start-up, not produce wrong records.
 */
export function parseMappingCsv(
  text: string,
  origin = 'mapping CSV',
  objects: readonly string[] = SOURCE_OBJECTS,
): Mapping {
  let lines: string[][];
  try {
    lines = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false });
  } catch (err) {
    throw new FatalError('MAPPING_INVALID', `${origin}: not valid CSV: ${(err as Error).message}`, { cause: err });
  }
  const [header, ...body] = lines;
  if (!header || header.join(',') !== MAPPING_COLUMNS.join(',')) {
    throw new FatalError(
      'MAPPING_INVALID',
      `${origin}: header must be "${MAPPING_COLUMNS.join(',')}", got "${header?.join(',') ?? ''}"`,
    );
  }
  const seen = new Set<string>();
  const rows = body.map((cells, i) => {
    const row = toRow(cells, `${origin} line ${i + 2}`, objects);
    if (seen.has(row.target))
      throw new FatalError('MAPPING_INVALID', `${origin} line ${i + 2}: target "${row.target}" appears twice`);
    seen.add(row.target);
    return row;
  });
  return { rows };
}

function toRow(cells: string[], where: string, objects: readonly string[]): MappingRow {
  const [sourceObject, sourceField, target, type, required, notes] = cells.map((c) => c.trim());
  const fail = (why: string) => new FatalError('MAPPING_INVALID', `${where}: ${why}`);
  if (!objects.includes(sourceObject))
    throw fail(`source_object must be one of ${objects.join(', ')}, got "${sourceObject}"`);
  if (!MAPPING_TYPES.includes(type as MappingType))
    throw fail(`type must be one of ${MAPPING_TYPES.join(', ')}, got "${type}"`);
  if (required !== 'yes' && required !== 'no') throw fail(`required must be yes or no, got "${required}"`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(target)) throw fail(`target "${target}" is not a valid Avro field name`);
  if (!sourceField) throw fail('source_field is empty');
  if (type === 'boolean-map' && !sourceField.endsWith('*'))
    throw fail('a boolean-map source_field is a prefix ending in *');
  if (type === 'user-status' && sourceField.split('+').length !== 2)
    throw fail('a user-status source_field is ActiveField+FrozenField');
  return {
    sourceObject: sourceObject as SourceObject,
    sourceField,
    target,
    type: type as MappingType,
    required: required === 'yes',
    notes,
  };
}

/** Prints the mapping as CSV (LF line endings, RFC 4180 quoting); parseMappingCsv reads it back equal. */
export function exportMappingCsv(mapping: Mapping): string {
  const lines = [MAPPING_COLUMNS.join(',')];
  for (const r of mapping.rows) {
    lines.push(
      [r.sourceObject, r.sourceField, r.target, r.type, r.required ? 'yes' : 'no', r.notes].map(quote).join(','),
    );
  }
  return lines.join('\n') + '\n';
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/**
 * The source fields a mapping reads from rows of `object`, in mapping order, without duplicates:
 * what the extractor should ask Salesforce for. Entries use the extractor's field-list format
 * (connectors/salesforce/fields.ts): API names, parent paths (Profile.UserLicense.Name) and
 * prefix patterns ending in `*` (UserPreferences*). For User this includes the UserLogin.*
 * keys, which are not User fields: the extractor merges them into each row from UserLogin.
 */
export function sourceFields(mapping: Mapping, object: Exclude<SourceObject, 'Connector'>): string[] {
  const fields = mapping.rows
    .filter((r) => r.sourceObject === object)
    .flatMap((r) => (r.type === 'user-status' ? r.sourceField.split('+') : [r.sourceField]));
  return [...new Set(fields)];
}

import type { AvroSchemaJson } from './avro';
import type { Mapping, MappingType } from './mapping';

/**
 * Checks that a mapping and the Avro record schema it fills agree, so that a CSV edit without
 * the matching schema edit (or the reverse) stops start-up instead of producing records the
 * encoder rejects. Returns one sentence per problem; an empty list means they agree:
 *  - every mapping target is a field of the schema and every field has a mapping row;
 *  - the field's Avro type is the one the mapping type produces;
 *  - required rows are plain fields, optional rows are ["null", T] unions defaulting to null;
 *  - every field has a doc string.
 */
export function checkMapping(mapping: Mapping, schema: AvroSchemaJson): string[] {
  if (!isRecord(schema)) return ['schema is not an Avro record'];
  const problems: string[] = [];
  const fields = new Map(schema.fields.map((f) => [f.name, f]));
  for (const row of mapping.rows) {
    const field = fields.get(row.target);
    if (!field) {
      problems.push(`mapping target "${row.target}" is not a field of ${schema.name}`);
      continue;
    }
    const nullable = Array.isArray(field.type) && field.type.length === 2 && field.type[0] === 'null';
    const type = nullable ? (field.type as unknown[])[1] : field.type;
    if (row.required && nullable) problems.push(`${row.target}: required in the mapping but nullable in the schema`);
    if (!row.required && !nullable)
      problems.push(`${row.target}: optional in the mapping, so the schema type must be ["null", T]`);
    if (nullable && field.default !== null) problems.push(`${row.target}: a nullable field must default to null`);
    if (!producesType(row.type, type))
      problems.push(`${row.target}: mapping type ${row.type} cannot fill Avro type ${JSON.stringify(type)}`);
    if (!field.doc) problems.push(`${row.target}: the schema field has no doc string`);
  }
  const targets = new Set(mapping.rows.map((r) => r.target));
  for (const name of fields.keys()) if (!targets.has(name)) problems.push(`schema field "${name}" has no mapping row`);
  return problems;
}

interface RecordSchema {
  name: string;
  fields: { name: string; type: unknown; default?: unknown; doc?: string }[];
}

function isRecord(s: AvroSchemaJson): s is AvroSchemaJson & RecordSchema {
  return typeof s === 'object' && s !== null && !Array.isArray(s) && (s as { type?: unknown }).type === 'record';
}

/** Whether the conversion `type` yields values of the Avro type `avroType`. */
function producesType(type: MappingType, avroType: unknown): boolean {
  const t = avroType as { type?: string; logicalType?: string; values?: unknown; symbols?: string[] };
  switch (type) {
    case 'string':
    case 'id':
    case 'record-url':
      return avroType === 'string';
    case 'boolean':
    case 'int':
    case 'long':
    case 'double':
      return avroType === type;
    case 'timestamp-millis':
      return t.type === 'long' && t.logicalType === 'timestamp-millis';
    case 'date':
      return t.type === 'int' && t.logicalType === 'date';
    case 'boolean-map':
      return t.type === 'map' && t.values === 'boolean';
    case 'user-status':
      return (
        avroType === 'string' ||
        (t.type === 'enum' && ['active', 'inactive', 'frozen'].every((s) => t.symbols?.includes(s)))
      );
  }
}

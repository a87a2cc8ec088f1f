/**
 * Field choice: which User fields a connector imports beyond, or instead of, the shipped mapping.
 *
 *  - include: custom User fields (API names ending in __c) with the type they carry, each a new
 *    optional field of the user record (["null", T], default null). The user schema evolves
 *    BACKWARD-compatibly in the registry and the sink adds the column (sinks/postgres/ddl.ts).
 *  - exclude: fields that never leave Salesforce (PII such as AboutMe, Signature, phones): they
 *    are never queried, and their attribute is null in every record.
 *  - hash: text fields whose value is replaced by HMAC-SHA-256(salt, value), hex, before anything
 *    is published (the salt is a secret): joins across systems keep working, the value does not leak.
 *
 * Pure: the catalog (schemas) and the extractor (what to query, what to hash) both read it.
 */
import { FatalError } from '../kernel/errors';
import type { AvroSchemaJson } from './avro';
import type { Mapping, MappingRow, MappingType } from './mapping';

export const CUSTOM_FIELD_TYPES = ['string', 'boolean', 'int', 'long', 'double', 'date', 'timestamp-millis'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

export interface FieldChoice {
  include: { name: string; type: CustomFieldType }[];
  exclude: string[];
  hash: string[];
}

export const NO_FIELD_CHOICE: FieldChoice = { include: [], exclude: [], hash: [] };

/** Fields the connector itself needs: never excluded or hashed. */
export const PROTECTED_FIELDS = ['Id', 'IsActive'];

const CUSTOM = /^[A-Za-z][A-Za-z0-9_]*__c$/;
const FIELD = /^[A-Za-z][A-Za-z0-9_]*\*?$/;
const HASHABLE: readonly MappingType[] = ['string'];

const AVRO: Record<CustomFieldType, unknown> = {
  string: 'string',
  boolean: 'boolean',
  int: 'int',
  long: 'long',
  double: 'double',
  date: { type: 'int', logicalType: 'date' },
  'timestamp-millis': { type: 'long', logicalType: 'timestamp-millis' },
};

/** Salesforce describe types each declared type accepts (a wrong declaration fails at connect). */
export const DESCRIBE_TYPES: Record<CustomFieldType, readonly string[]> = {
  string: [
    'string',
    'picklist',
    'multipicklist',
    'combobox',
    'textarea',
    'email',
    'phone',
    'url',
    'id',
    'reference',
    'encryptedstring',
  ],
  boolean: ['boolean'],
  int: ['int'],
  long: ['int', 'long'],
  double: ['double', 'currency', 'percent', 'int'],
  date: ['date'],
  'timestamp-millis': ['datetime'],
};

function invalid(option: string, problem: string): never {
  throw new FatalError('CONFIG_INVALID', `fields.${option}: ${problem}`);
}

/** Validates a field choice against the shipped user mapping; throws CONFIG_INVALID naming the option. */
export function parseFieldChoice(value: unknown, userMapping: Mapping): FieldChoice {
  if (value === undefined) return NO_FIELD_CHOICE;
  const v = value as Partial<Record<keyof FieldChoice, unknown>>;
  const include = Object.entries((v.include ?? {}) as Record<string, unknown>).map(([name, type]) => {
    if (!CUSTOM.test(name))
      invalid(
        'include',
        `${JSON.stringify(name)} is not a custom field API name (Name__c); standard fields are in the mapping already`,
      );
    if (!(CUSTOM_FIELD_TYPES as readonly unknown[]).includes(type))
      invalid(`include.${name}`, `type must be one of ${CUSTOM_FIELD_TYPES.join(', ')} (got ${JSON.stringify(type)})`);
    return { name, type: type as CustomFieldType };
  });
  const list = (key: 'exclude' | 'hash'): string[] => {
    const l = v[key] ?? [];
    if (!Array.isArray(l) || l.some((x) => typeof x !== 'string' || !FIELD.test(x)))
      invalid(key, 'must be a list of User field API names');
    for (const f of l as string[])
      if (PROTECTED_FIELDS.includes(f))
        invalid(
          key,
          `${f} is needed by the connector itself and cannot be ${key === 'exclude' ? 'excluded' : 'hashed'}`,
        );
    return l as string[];
  };
  const exclude = list('exclude');
  const hash = list('hash');
  const known = new Set([
    ...userMapping.rows.filter((r) => r.sourceObject === 'User').map((r) => r.sourceField),
    ...include.map((i) => i.name),
  ]);
  for (const f of [...exclude, ...hash]) {
    if (!known.has(f))
      invalid(exclude.includes(f) ? 'exclude' : 'hash', `${f} is not a User field of the mapping or of fields.include`);
  }
  for (const f of hash) {
    if (exclude.includes(f))
      invalid('hash', `${f} is also excluded: an excluded field is never read, so there is nothing to hash`);
    const row = userMapping.rows.find((r) => r.sourceObject === 'User' && r.sourceField === f);
    const type = row?.type ?? include.find((i) => i.name === f)?.type;
    if (!HASHABLE.includes(type as MappingType))
      invalid('hash', `${f} is of type ${type}; only text (string) fields can be hashed`);
  }
  for (const f of exclude) {
    if (userMapping.rows.some((r) => r.sourceObject === 'User' && r.sourceField === f && r.required))
      invalid('exclude', `${f} fills a required attribute and cannot be excluded`);
  }
  return { include, exclude, hash };
}

/** The user mapping and schema after the choice: excluded and hashed rows noted, custom fields added. */
export function applyFieldChoice(
  mapping: Mapping,
  schema: AvroSchemaJson,
  choice: FieldChoice,
): { mapping: Mapping; schema: AvroSchemaJson } {
  if (choice.include.length === 0 && choice.exclude.length === 0 && choice.hash.length === 0)
    return { mapping, schema };
  // An excluded field keeps its (optional) attribute, always null: the schema stays the shipped one.
  const rows: MappingRow[] = mapping.rows.map((r) => {
    if (r.sourceObject !== 'User') return r;
    if (choice.exclude.includes(r.sourceField)) return { ...r, notes: `${r.notes} ${EXCLUDE_NOTE}` };
    if (choice.hash.includes(r.sourceField)) return { ...r, notes: `${r.notes} ${HASH_NOTE}` };
    return r;
  });
  const s = schema as { fields: { name: string; type: unknown; default?: unknown; doc?: string }[] };
  const fields = [...s.fields];
  for (const c of choice.include) {
    const hashed = choice.hash.includes(c.name);
    const doc = `Custom User field ${c.name} (fields.include)${hashed ? ` ${HASH_NOTE}` : ''}.`;
    rows.push({ sourceObject: 'User', sourceField: c.name, target: c.name, type: c.type, required: false, notes: doc });
    fields.push({ name: c.name, type: ['null', AVRO[c.type]], default: null, doc });
  }
  return { mapping: { rows }, schema: { ...(schema as object), fields } as AvroSchemaJson };
}

const EXCLUDE_NOTE = '(excluded: never read from Salesforce, always null; fields.exclude)';
const HASH_NOTE = '(hashed: HMAC-SHA-256 of the value with the configured salt, hex; fields.hash)';

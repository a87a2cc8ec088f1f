/**
 * Describe-driven field selection. Orgs differ (features, API versions, field-level security),
 * so the fields a mapping wants are checked against the org's describe before any query:
 *  - a wanted field the org lacks is returned in `missing` (the caller warns once) and skipped;
 *  - compound fields (type address/location) are never queried: their components are;
 *  - child-to-parent paths (UserRole.Name, Profile.UserLicense.Name) are validated by walking
 *    the relationship and describing each referenced object;
 *  - `Prefix*` selects every field of the object whose name starts with Prefix.
 * Names that reach SOQL are always spelled as describe spelled them: a config value never does.
 */
import { FatalError } from '../../kernel/errors';

export interface FieldDescribe {
  name: string;
  type: string;
  compoundFieldName?: string | null;
  relationshipName?: string | null;
  referenceTo?: string[];
  deprecatedAndHidden?: boolean;
}

export interface SObjectDescribe {
  name: string;
  queryable?: boolean;
  fields: FieldDescribe[];
}

/** Returns the describe of an object, or null when the org has no such object or it is not visible. */
export type Describer = (objectName: string) => Promise<SObjectDescribe | null>;

export interface FieldSelection {
  /** Fields to query, canonical names, in the wanted order, no duplicates. */
  fields: string[];
  /** Wanted entries this org cannot serve, with the reason. */
  missing: { field: string; reason: string }[];
}

const ENTRY = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*\*?$/;
const COMPOUND_TYPES = new Set(['address', 'location']);
/** SOQL allows at most five levels of child-to-parent relationship. */
const MAX_PATH_DEPTH = 5;

function index(d: SObjectDescribe): Map<string, FieldDescribe> {
  const m = new Map<string, FieldDescribe>();
  for (const f of d.fields) if (!f.deprecatedAndHidden) m.set(f.name.toLowerCase(), f);
  return m;
}

const isCompound = (f: FieldDescribe) => COMPOUND_TYPES.has(f.type.toLowerCase());

/**
 * Resolves `wanted` against `objectName`'s describe; `required` fields (the connector's own
 * needs) come first whether wanted or not. Throws FatalError when the object is not queryable, an
 * entry is not a field name at all (CONFIG_INVALID), or a required field is missing.
 */
export async function selectFields(
  objectName: string,
  wanted: readonly string[],
  describe: Describer,
  required: readonly string[] = [],
): Promise<FieldSelection> {
  const root = await describe(objectName);
  if (!root || root.queryable === false) {
    throw new FatalError(
      'SALESFORCE_OBJECT_UNAVAILABLE',
      `Salesforce object ${objectName} is not visible or not queryable for this user (check its ` +
        `permissions, e.g. Manage Users)`,
    );
  }
  const rootFields = index(root);
  const cache = new Map<string, Promise<Map<string, FieldDescribe> | null>>([
    [objectName.toLowerCase(), Promise.resolve(rootFields)],
  ]);
  const fieldsOf = (name: string) => {
    const key = name.toLowerCase();
    if (!cache.has(key))
      cache.set(
        key,
        describe(name).then((d) => (d && d.queryable !== false ? index(d) : null)),
      );
    return cache.get(key)!;
  };

  const out: string[] = [];
  const seen = new Set<string>();
  const add = (name: string) => {
    if (!seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      out.push(name);
    }
  };
  const missing: FieldSelection['missing'] = [];

  for (const entry of [...required, ...wanted]) {
    if (!ENTRY.test(entry))
      throw new FatalError(
        'CONFIG_INVALID',
        `salesforce field list: ${JSON.stringify(entry)} is not a field name or path`,
      );
    if (entry.endsWith('*')) {
      const prefix = entry.slice(0, -1).toLowerCase();
      if (prefix.includes('.'))
        throw new FatalError(
          'CONFIG_INVALID',
          `salesforce field list: patterns are only allowed on ${objectName}'s own fields (${entry})`,
        );
      const matches = root.fields.filter(
        (f) => !f.deprecatedAndHidden && !isCompound(f) && f.name.toLowerCase().startsWith(prefix),
      );
      if (matches.length === 0) missing.push({ field: entry, reason: 'no field of this org matches' });
      matches.forEach((f) => add(f.name));
      continue;
    }
    const path = entry.split('.');
    if (path.length - 1 > MAX_PATH_DEPTH)
      throw new FatalError(
        'CONFIG_INVALID',
        `salesforce field list: ${entry} goes deeper than ${MAX_PATH_DEPTH} relationships`,
      );
    const resolved = await resolvePath(path, rootFields, fieldsOf);
    if (typeof resolved === 'string') {
      missing.push({ field: entry, reason: resolved });
    } else if (path.length === 1 && isCompound(resolved.field)) {
      // Compound fields can't be queried in Bulk API: query their components instead.
      const compoundName = resolved.field.name;
      root.fields.filter((f) => f.compoundFieldName === compoundName && !isCompound(f)).forEach((f) => add(f.name));
    } else if (isCompound(resolved.field)) {
      missing.push({ field: entry, reason: 'compound fields cannot be queried in Bulk API' });
    } else {
      add(resolved.name);
    }
  }

  for (const r of required) {
    if (!seen.has(r.toLowerCase())) {
      throw new FatalError(
        'SALESFORCE_FIELD_UNAVAILABLE',
        `Salesforce field ${objectName}.${r} is required by the connector but is not visible in this org's describe`,
      );
    }
  }
  return { fields: out, missing };
}

async function resolvePath(
  path: string[],
  rootFields: Map<string, FieldDescribe>,
  fieldsOf: (objectName: string) => Promise<Map<string, FieldDescribe> | null>,
): Promise<{ name: string; field: FieldDescribe } | string> {
  let fields = rootFields;
  const canonical: string[] = [];
  for (let i = 0; i < path.length - 1; i++) {
    const rel = path[i].toLowerCase();
    const ref = [...fields.values()].find((f) => f.relationshipName?.toLowerCase() === rel);
    if (!ref || !ref.relationshipName) return `no relationship ${path[i]}`;
    if (!ref.referenceTo || ref.referenceTo.length !== 1)
      return `relationship ${path[i]} is polymorphic or has no target`;
    const next = await fieldsOf(ref.referenceTo[0]);
    if (!next) return `object ${ref.referenceTo[0]} is not visible or not queryable`;
    canonical.push(ref.relationshipName);
    fields = next;
  }
  const last = fields.get(path[path.length - 1].toLowerCase());
  if (!last) return "not in this org's describe";
  canonical.push(last.name);
  return { name: canonical.join('.'), field: last };
}

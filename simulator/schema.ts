/**
 * The shape of the simulated org: objects, their fields and relationships, as describe reports
 * them. Field definitions are data; describe.ts renders them and soql-compile.ts resolves
 * query paths against them. Everything is filtered by API version (fields have a minVersion).
 */

export type FieldType =
  | 'id'
  | 'reference'
  | 'string'
  | 'boolean'
  | 'datetime'
  | 'date'
  | 'double'
  | 'int'
  | 'picklist'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'url'
  | 'address';

export interface FieldDef {
  name: string;
  type: FieldType;
  label: string;
  /** Max characters for text types; 0 for others (as describe reports). */
  length: number;
  nillable: boolean;
  referenceTo: string[];
  /** Name to use in SOQL paths (UserRole.Name); null when the field has no usable relationship. */
  relationshipName: string | null;
  /** Set on components of a compound field (Street → Address, FirstName → Name). */
  compoundFieldName: string | null;
  picklistValues: string[];
  /** First API version that has the field. */
  minVersion: number;
  filterable: boolean;
  sortable: boolean;
  updateable: boolean;
  createable: boolean;
  unique: boolean;
  nameField: boolean;
  precision: number;
  scale: number;
  /** An org's own field (API name ending in __c). */
  custom: boolean;
}

export interface ObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  fields: FieldDef[];
  minVersion: number;
}

type FieldOpts = Partial<Omit<FieldDef, 'name' | 'type'>>;

/** "LastModifiedDate" → "Last Modified Date". */
export function labelOf(name: string): string {
  return name
    .replace(/Id$/, ' ID')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
    .trim();
}

const TEXT_TYPES: FieldType[] = ['string', 'textarea', 'email', 'phone', 'url', 'picklist', 'id', 'reference'];

/** Builds a FieldDef with describe's defaults for its type. */
export function field(name: string, type: FieldType, opts: FieldOpts = {}): FieldDef {
  const longText = type === 'textarea' && (opts.length ?? 255) > 255;
  const defaultLength = type === 'id' || type === 'reference' ? 18 : TEXT_TYPES.includes(type) ? 255 : 0;
  return {
    name,
    type,
    label: opts.label ?? labelOf(name),
    length: opts.length ?? defaultLength,
    nillable: opts.nillable ?? (type !== 'boolean' && type !== 'id'),
    referenceTo: opts.referenceTo ?? [],
    relationshipName: opts.relationshipName ?? null,
    compoundFieldName: opts.compoundFieldName ?? null,
    picklistValues: opts.picklistValues ?? [],
    minVersion: opts.minVersion ?? 0,
    filterable: opts.filterable ?? (!longText && type !== 'address'),
    sortable: opts.sortable ?? (!longText && type !== 'address'),
    updateable:
      opts.updateable ??
      (type !== 'id' &&
        !['CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById', 'SystemModstamp'].includes(name)),
    createable:
      opts.createable ??
      (type !== 'id' &&
        !['CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById', 'SystemModstamp'].includes(name)),
    unique: opts.unique ?? false,
    nameField: opts.nameField ?? false,
    precision: opts.precision ?? 0,
    scale: opts.scale ?? 0,
    custom: opts.custom ?? false,
  };
}

export const ref = (name: string, to: string, relationshipName: string | null, opts: FieldOpts = {}): FieldDef =>
  field(name, 'reference', { referenceTo: [to], relationshipName, ...opts });

/** Audit fields every object carries. */
export function auditFields(): FieldDef[] {
  return [
    field('CreatedDate', 'datetime', { nillable: false }),
    ref('CreatedById', 'User', 'CreatedBy', { nillable: false }),
    field('LastModifiedDate', 'datetime', { nillable: false }),
    ref('LastModifiedById', 'User', 'LastModifiedBy', { nillable: false }),
    field('SystemModstamp', 'datetime', { nillable: false }),
  ];
}

/** Fields of an object visible at an API version, minus the org's missing fields. */
export function fieldsAt(obj: ObjectDef, version: number, missing: ReadonlySet<string>): FieldDef[] {
  return obj.fields.filter((f) => f.minVersion <= version && !missing.has(f.name));
}

/** The schema the org exposes: objects by name, filtered by version and missing fields. */
export class Schema {
  private readonly byName = new Map<string, ObjectDef>();

  /**
   * @param readable the objects the logged-in user may read (all when absent): any other is
   *   invisible, as Salesforce hides an object the user has no permission for (describe 404,
   *   SOQL INVALID_TYPE, absent from describeGlobal).
   */
  constructor(
    objects: ObjectDef[],
    private readonly missingByObject: Map<string, Set<string>>,
    readable?: ReadonlySet<string>,
  ) {
    for (const o of objects) if (!readable || readable.has(o.name)) this.byName.set(o.name.toLowerCase(), o);
  }

  objectNames(): string[] {
    return [...this.byName.values()].map((o) => o.name);
  }

  /** Case-insensitive object lookup (SOQL and REST paths are case-insensitive). */
  object(name: string, version: number): ObjectDef | undefined {
    const o = this.byName.get(name.toLowerCase());
    return o && o.minVersion <= version ? o : undefined;
  }

  fields(obj: ObjectDef, version: number): FieldDef[] {
    return fieldsAt(obj, version, this.missingByObject.get(obj.name) ?? new Set());
  }

  /**
   * An admin changes the integration user's field-level security: the field disappears from (or
   * appears in) describe and SOQL, as Salesforce's does. The data is kept either way.
   */
  setFieldHidden(object: string, field: string, hidden: boolean): void {
    const o = this.byName.get(object.toLowerCase());
    if (!o || !o.fields.some((f) => f.name === field)) throw new Error(`simulator: unknown field ${object}.${field}`);
    const set = this.missingByObject.get(o.name) ?? new Set<string>();
    if (hidden) set.add(field);
    else set.delete(field);
    this.missingByObject.set(o.name, set);
  }

  /** Case-insensitive field lookup at a version; undefined when absent. */
  field(obj: ObjectDef, name: string, version: number): FieldDef | undefined {
    const lower = name.toLowerCase();
    return this.fields(obj, version).find((f) => f.name.toLowerCase() === lower);
  }

  /** The reference field whose relationshipName is `rel` (case-insensitive). */
  relationship(obj: ObjectDef, rel: string, version: number): FieldDef | undefined {
    const lower = rel.toLowerCase();
    return this.fields(obj, version).find((f) => f.relationshipName?.toLowerCase() === lower);
  }
}

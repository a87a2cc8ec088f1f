import { FatalError } from '../../kernel/errors';
import { shapeBuilder } from '../../kernel/fixed-shape';
import type { Mapping, MappingRow, SourceObject } from '../../schemas/mapping';
import { CONTEXT_FIELDS, type StageContext } from './context';
import { Refusal, scalarValue, type ScalarType } from './convert';
import { invalid, ok, type AvroRecord, type AvroValue, type StageResult } from './result';

/** A raw Bulk CSV row: column name (as requested, dotted for parents) -> string, '' for null. */
export type RawRow = Readonly<Record<string, string>>;

/** Turns one raw row into one record, or a RecordError. Pure: reads `row` and `ctx`, never changes them. */
export type RowMapper = (row: RawRow, ctx: StageContext) => StageResult<AvroRecord>;

/** Why a mapping row has no value for a row. */
type FieldError = { field: string; raw: string | undefined; reason: string };
/**
 * One mapping row compiled: writes the value for its target into `out[i]` and returns null, or returns
 * the reason there is none. Hot path (~175 calls a user): a result object per call fed the garbage
 * collector, so the value goes straight into the record's value list (docs/performance-s7-cpu.md).
 * `raw` is the row's value of the one column the mapping row reads (`row[column]`, read by the
 * mapper's generated reader, see columnReader), undefined for the rows that read none or several.
 */
type FieldFn = (
  raw: string | undefined,
  row: RawRow,
  ctx: StageContext,
  out: AvroValue[],
  i: number,
) => FieldError | null;

/** A compiled mapping row and the one column it reads as `raw` (null: none, or several it reads itself). */
type Compiled = { fn: FieldFn; column: string | null };

/**
 * Compiles a mapping into a RowMapper. `rowObject` says which source_object the row's columns
 * belong to; Connector rows read the StageContext; rows of any other object (the user's latest
 * LoginHistory event, in the user mapping) start as null and are filled by a later stage.
 *
 * Semantics, per mapping row:
 *  - a column that is empty or absent (a field this org lacks) gives null;
 *  - a null in a required row, or a value the type cannot convert, makes the whole row a
 *    RecordError naming the source field, the raw value and the reason.
 * Throws a FatalError at compile time when the mapping asks for something no row can satisfy.
 */
export function createRowMapper(mapping: Mapping, rowObject: Exclude<SourceObject, 'Connector'>): RowMapper {
  // Columns that have their own row: a prefix map (boolean-map) leaves them to it.
  const claimed = new Set(
    mapping.rows.filter((r) => r.type !== 'boolean-map').flatMap((r) => r.sourceField.split('+')),
  );
  const targets = mapping.rows.map((r) => r.target);
  const compiled = mapping.rows.map((r) => compile(r, rowObject, claimed));
  const fns = compiled.map((c) => c.fn);
  const read = columnReader(compiled.map((c) => c.column));
  // The record as one hidden class (kernel/fixed-shape.ts) instead of ~175 keys added to {}:
  // a dictionary-mode record made avsc's check and write and the device merge's spread slow
  // (bench/hot-path.ts, docs/performance-s5-cpu.md). Same keys, order and values.
  const build = shapeBuilder<AvroRecord>(targets);
  const n = fns.length;
  // The values are collected in one array per mapper, reused row after row (a ~175-slot array a user
  // before): `build` copies them into the record, and the mapper is synchronous and never re-entered
  // (a field function calls no mapper). Each field function writes its slot or returns an error, so a
  // record is built only from this row's values; the slots are cleared after each row, so the array
  // keeps nothing of a row alive.
  const values: AvroValue[] = new Array<AvroValue>(n).fill(null);
  // The row's values, one per mapping row, read by `read` into one array reused the same way.
  const raws: (string | undefined)[] = new Array<string | undefined>(n).fill(undefined);
  return (row, ctx) => {
    try {
      read(row, raws);
      for (let i = 0; i < n; i++) {
        const error = fns[i](raws[i], row, ctx, values, i);
        if (error !== null) return invalid(error.field, error.raw, error.reason, targets[i]);
      }
      return ok(build(values));
    } finally {
      values.fill(null);
      raws.fill(undefined);
    }
  };
}

/**
 * `read(row, raws)` sets `raws[i] = row[columns[i]]` for each column that is not null: one function
 * compiled per mapper whose reads are property loads of constant names (`row["Title"]`), instead of
 * ~175 keyed loads `row[field]` of a variable name in as many closures. Those were megamorphic (one
 * load site for every column); each constant load here sees the rows' one hidden class
 * (kernel/fixed-shape.ts): 3.8 -> 0.4 µs a simulator user row for the reads alone, in one process
 * (docs/performance-s12-cpu.md). A row's values are strings: anything else is absent, so a column the
 * row lacks whose name is an Object.prototype member ('toString', '__proto__') reads as missing, not
 * as the inherited function or object (a TypeError in a date's conversion, or `{}` in a string
 * field: map-row-s12.test.ts, MAP_ROW_SEED=1027055068). The names are only ever string literals in
 * the code (JSON-quoted), never code, as in kernel/fixed-shape.ts.
 */
function columnReader(columns: readonly (string | null)[]): (row: RawRow, raws: (string | undefined)[]) => void {
  const body = columns
    .map((c, i) =>
      c === null ? '' : `v = row[${JSON.stringify(c)}]; raws[${i}] = typeof v === 'string' ? v : undefined;`,
    )
    .join('\n');
  return new Function('row', 'raws', `let v;\n${body}`) as (row: RawRow, raws: (string | undefined)[]) => void;
}

/** The stages rely on a few targets (record keys, merge join); a mapping without them is unusable. */
export function requireTarget(mapping: Mapping, target: string, what: string): void {
  if (!mapping.rows.some((r) => r.target === target && r.required)) {
    throw new FatalError('MAPPING_INVALID', `the ${what} mapping needs a required "${target}" target`);
  }
}

function compile(r: MappingRow, rowObject: SourceObject, claimed: ReadonlySet<string>): Compiled {
  const bad = (why: string) =>
    new FatalError('MAPPING_INVALID', `mapping row ${r.sourceObject}.${r.sourceField} -> ${r.target}: ${why}`);
  if (r.sourceObject === 'Connector') return { fn: required(r, fromContext(r, bad)), column: null };
  if (r.sourceObject !== rowObject) {
    // Filled later (e.g. by the latest-login merge), so it cannot be required here.
    if (r.required) throw bad(`a ${r.sourceObject} field cannot be required in a ${rowObject} mapping`);
    const fn: FieldFn = (_raw, _row, _ctx, out, i) => {
      out[i] = null;
      return null;
    };
    return { fn, column: null };
  }
  switch (r.type) {
    case 'boolean-map':
      return { fn: booleanMap(r.sourceField.slice(0, -1), claimed), column: null };
    case 'record-url':
      return { fn: required(r, recordUrl()), column: r.sourceField };
    case 'user-status':
      return { fn: userStatus(r.sourceField.split('+') as [string, string]), column: null };
    default:
      return { fn: required(r, scalar(r.sourceField, r.type)), column: r.sourceField };
  }
}

/** Turns a null into an error when the row is required. */
function required(r: MappingRow, fn: FieldFn): FieldFn {
  if (!r.required) return fn;
  return (raw, row, ctx, out, i) => {
    const error = fn(raw, row, ctx, out, i);
    if (error === null && out[i] === null) {
      if (r.sourceObject === 'Connector')
        return { field: r.sourceField, raw: undefined, reason: 'missing from the run context' };
      // `raw` is row[r.sourceField]: every required row but a Connector one reads its one column as `raw`
      return {
        field: r.sourceField,
        raw,
        reason: raw === undefined ? 'required column is missing' : 'required value is empty',
      };
    }
    return error;
  };
}

function scalar(field: string, type: ScalarType): FieldFn {
  return (raw, _row, _ctx, out, i) => {
    if (raw === undefined || raw === '') {
      out[i] = null;
      return null;
    }
    const v = scalarValue(type, raw);
    if (v instanceof Refusal) return { field, raw, reason: v.reason };
    out[i] = v;
    return null;
  };
}

function fromContext(r: MappingRow, bad: (why: string) => FatalError): FieldFn {
  const key = r.sourceField as keyof StageContext;
  const jsType = CONTEXT_FIELDS[key];
  if (!jsType) throw bad(`Connector fields are ${Object.keys(CONTEXT_FIELDS).join(', ')}`);
  const numeric = ['timestamp-millis', 'long', 'int', 'double', 'date'].includes(r.type);
  if ((jsType === 'number') !== numeric) throw bad(`context property ${key} holds a ${jsType}, not a ${r.type}`);
  return (_raw, _row, ctx, out, i) => {
    out[i] = ctx[key] ?? null;
    return null;
  };
}

/**
 * Every column named prefix+X that no other mapping row reads becomes X -> boolean, keys sorted
 * (stable bytes); null if there is none. With typed fields for the known flags this is the
 * fallback that keeps a flag of a newer Salesforce release until the schema gives it a field.
 */
function booleanMap(prefix: string, claimed: ReadonlySet<string>): FieldFn {
  // Hot path: every row of an extraction has the same columns, so the matching columns (sorted)
  // and their map keys are computed once per column list and reused while it repeats. A memo
  // only: the output depends on the row alone. The row's columns are compared with the last list
  // by for-in, which allocates nothing for a row of a known shape; Object.keys made a ~175-slot array
  // per row and map (docs/performance-s10-cpu.md). for-in lists the own keys in Object.keys's order,
  // then inherited enumerable ones: when the last key it lists is the row's own, it listed no
  // inherited one, and the row's keys are Object.keys's.
  let lastColumns: string[] = [];
  let names: { column: string; key: string }[] = [];
  const sameColumns = (row: RawRow) => {
    let n = 0;
    for (const k in row) if (lastColumns[n++] !== k) return false;
    return n === lastColumns.length && (n === 0 || Object.hasOwn(row, lastColumns[n - 1]));
  };
  const matching = (row: RawRow) => {
    if (!sameColumns(row)) {
      const columns = Object.keys(row);
      names = columns
        .filter((k) => k.startsWith(prefix) && k.length > prefix.length && !claimed.has(k))
        .sort()
        .map((column) => ({ column, key: column.slice(prefix.length) }));
      lastColumns = columns;
    }
    return names;
  };
  return (_raw, row, _ctx, out, i) => {
    const names = matching(row);
    if (names.length === 0) {
      out[i] = null;
      return null;
    }
    const map: Record<string, boolean> = {};
    for (const { column: name, key } of names) {
      const raw = row[name];
      if (raw === '') continue;
      const v = scalarValue('boolean', raw);
      if (v instanceof Refusal) return { field: name, raw, reason: v.reason };
      map[key] = v as boolean;
    }
    out[i] = map;
    return null;
  };
}

/** The record's URL from the row's value of the Id column (`raw`). */
function recordUrl(): FieldFn {
  return (id, _row, ctx, out, i) => {
    out[i] = id ? `${ctx.instanceUrl.replace(/\/+$/, '')}/${id}` : null;
    return null;
  };
}

/** inactive beats frozen: a deactivated user cannot log in whatever UserLogin says. */
function userStatus([activeField, frozenField]: [string, string]): FieldFn {
  return (_raw, row, _ctx, out, i) => {
    const active = row[activeField];
    if (active !== 'true' && active !== 'false')
      return { field: activeField, raw: active, reason: 'status needs a boolean (true or false)' };
    const frozen = row[frozenField];
    if (frozen !== undefined && frozen !== '' && frozen !== 'true' && frozen !== 'false') {
      return { field: frozenField, raw: frozen, reason: 'not a boolean (true or false)' };
    }
    out[i] = active === 'false' ? 'inactive' : frozen === 'true' ? 'frozen' : 'active';
    return null;
  };
}

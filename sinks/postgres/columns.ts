import type { AvroSchemaJson } from '../../schemas/avro';
import { FatalError } from '../../kernel/errors';
import { columnName } from './sql';

/** The PostgreSQL types an Avro field can become. */
export type PgType =
  'text' | 'boolean' | 'integer' | 'bigint' | 'real' | 'double precision' | 'timestamptz' | 'date' | 'jsonb' | 'bytea';

/**
 * One Avro field as a table column. The writer sends `toJson(value)` inside a JSON array that
 * PostgreSQL unpacks with json_to_recordset, declared as `wireType`, and `select(ref)` turns
 * that into the column's value (timestamps travel as epoch numbers and become timestamptz in
 * SQL, so an out-of-range instant is PostgreSQL's data error, SQLSTATE 22008, not a JS crash).
 */
export interface FieldColumn {
  readonly field: string;
  readonly column: string;
  readonly pgType: PgType;
  readonly wireType: string;
  /** The field's Avro default as JSON: what a record written without this field gets. */
  readonly defaultJson: unknown;
  toJson(value: unknown): unknown;
  select(ref: string): string;
  /**
   * For a column whose wire type differs from its type (timestamps, dates): the wire value as
   * the column type's text, for a COPY straight into the table; undefined when only PostgreSQL
   * can say (an instant outside years 1–9999: PostgreSQL's own conversion then refuses or keeps it).
   */
  direct?(wire: number): string | undefined;
  /** `direct` is the ISO text of epoch milliseconds (isoInto writes the same bytes). */
  readonly directMillis?: boolean;
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
type Json = Record<string, unknown>;

/**
 * The columns of a record schema, in field order: string/enum → text, boolean, int → integer,
 * long → bigint, timestamp-millis/-micros → timestamptz, date → date, float/double, bytes/fixed
 * → bytea, map/array/record/multi-type union → jsonb; ["null", X] is X, nullable.
 * Throws a FatalError for a schema that is not a record, or whose fields collide as columns.
 */
export function fieldColumns(schema: AvroSchemaJson): FieldColumn[] {
  const named = new Map<string, Json>();
  const root = schema as Json;
  if (typeof root !== 'object' || root === null || root.type !== 'record')
    throw new FatalError('SCHEMA_UNSUPPORTED', 'the sink writes record schemas only');
  collectNames(root, (root.namespace as string | undefined) ?? '', named);
  const seen = new Map<string, string>();
  return (root.fields as Json[]).map((f) => {
    const field = f.name as string;
    const column = columnName(field);
    const other = seen.get(column);
    if (other !== undefined)
      throw new FatalError('SCHEMA_UNSUPPORTED', `fields ${other} and ${field} both become column ${column}`);
    seen.set(column, field);
    return columnOf(field, column, resolveRef(f.type, named), f.default === undefined ? null : f.default, named);
  });
}

function columnOf(
  field: string,
  column: string,
  type: unknown,
  defaultJson: unknown,
  named: Map<string, Json>,
): FieldColumn {
  const base = { field, column, defaultJson };
  if (Array.isArray(type)) {
    const branches = type.map((t) => resolveRef(t, named)).filter((t) => t !== 'null' && (t as Json).type !== 'null');
    if (branches.length === 1) return columnOf(field, column, branches[0], defaultJson, named);
    return { ...base, ...asIs('jsonb') };
  }
  const t = typeof type === 'string' ? { type } : (type as Json);
  const logical = t.logicalType as string | undefined;
  switch (t.type) {
    case 'string':
    case 'enum':
      return { ...base, ...asIs('text') };
    case 'boolean':
      return { ...base, ...asIs('boolean') };
    case 'int':
      if (logical === 'date')
        return {
          ...base,
          pgType: 'date',
          wireType: 'integer',
          toJson: id,
          select: (r) => `(date '1970-01-01' + ${r})`,
          direct: (days) => iso(days * 86_400_000)?.slice(0, 10),
        };
      return { ...base, ...asIs('integer') };
    case 'long':
      if (logical === 'timestamp-millis' || logical === 'local-timestamp-millis')
        return { ...base, ...epoch('1 millisecond') };
      if (logical === 'timestamp-micros' || logical === 'local-timestamp-micros')
        return { ...base, ...epoch('1 microsecond') };
      return { ...base, ...asIs('bigint') };
    case 'float':
      return { ...base, pgType: 'real', wireType: 'real', toJson: finite, select: (r) => r };
    case 'double':
      return { ...base, pgType: 'double precision', wireType: 'double precision', toJson: finite, select: (r) => r };
    case 'bytes':
    case 'fixed':
      return { ...base, pgType: 'bytea', wireType: 'bytea', toJson: hex, select: (r) => r };
    default:
      return { ...base, ...asIs('jsonb') };
  }
}

const id = (v: unknown) => v;
/** JSON has no NaN or Infinity: they travel as the strings PostgreSQL's float input reads. */
const finite = (v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
const hex = (v: unknown) => (Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : v);

function asIs(pgType: PgType): Pick<FieldColumn, 'pgType' | 'wireType' | 'toJson' | 'select'> {
  return { pgType, wireType: pgType, toJson: id, select: (r) => r };
}

function epoch(
  unit: '1 millisecond' | '1 microsecond',
): Pick<FieldColumn, 'pgType' | 'wireType' | 'toJson' | 'select' | 'direct' | 'directMillis'> {
  return {
    directMillis: unit === '1 millisecond',
    pgType: 'timestamptz',
    wireType: 'bigint',
    toJson: id,
    // Whole days, then the rest, on a timestamp without time zone read as UTC: exact. The plain
    // `'epoch' + n * interval` multiplies in float8 and is off by microseconds beyond ~285 years
    // from 1970 (Salesforce's 4000-12-31 "never" dates), and days would follow the session's DST.
    select: (r) =>
      `((timestamp 'epoch' + (${r} / ${PER_DAY[unit]}) * interval '1 day' + ` +
      `(${r} % ${PER_DAY[unit]}) * interval '${unit}') AT TIME ZONE 'UTC')`,
    direct:
      unit === '1 millisecond'
        ? lastOf(iso)
        : (us) => {
            // Beyond 2^53 µs (±285 years) a JS number is not an exact integer: PostgreSQL converts.
            if (!Number.isSafeInteger(us)) return undefined;
            const ms = Math.floor(us / 1000);
            const text = iso(ms);
            return text && `${text.slice(0, 23)}${String(us - ms * 1000).padStart(3, '0')}Z`;
          },
  };
}

/**
 * The last answer kept: a column's instants repeat from one row to the next (extractedAt is one
 * value per run, system timestamps come in bursts), and iso was 5 % of an initial load's CPU.
 */
function lastOf(fn: (n: number) => string | undefined): (n: number) => string | undefined {
  let input = Number.NaN;
  let output: string | undefined;
  return (n) => (n === input ? output : ((input = n), (output = fn(n))));
}

const PER_DAY = { '1 millisecond': '86400000', '1 microsecond': '86400000000' } as const;

/** Years 1–9999 in ISO 8601 (UTC), which PostgreSQL reads; undefined outside, or for a non-integer. */
const MIN_MS = new Date('0001-01-01T00:00:00.000Z').getTime();
const MAX_MS = new Date('9999-12-31T23:59:59.999Z').getTime();
function iso(ms: number): string | undefined {
  if (!Number.isSafeInteger(ms) || ms < MIN_MS || ms > MAX_MS) return undefined;
  // Date#toISOString was a visible cost per row; instants of a batch mostly share their day.
  const day = Math.floor(ms / 86_400_000);
  if (day !== lastDay) {
    lastDay = day;
    lastDate = new Date(day * 86_400_000).toISOString().slice(0, 11);
  }
  const t = ms - day * 86_400_000;
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor((t % 3_600_000) / 60_000);
  const sec = Math.floor((t % 60_000) / 1000);
  return `${lastDate}${pad2(h)}:${pad2(m)}:${pad2(sec)}.${String(t % 1000).padStart(3, '0')}Z`;
}
let lastDay = Number.NaN;
let lastDate = '';
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * iso(ms)'s bytes written at buf[n] (24 of them; the caller makes the room), without a string:
 * returns the end, or -1 where iso gives undefined. The instants of a user were ~5 % of the bytes
 * the sink allocated (heap sample, session 11).
 */
export function isoInto(ms: number, buf: Buffer, n: number): number {
  if (!Number.isSafeInteger(ms) || ms < MIN_MS || ms > MAX_MS) return -1;
  const day = Math.floor(ms / 86_400_000);
  // The civil date of a day number (H. Hinnant's days_from_civil inverse; proleptic Gregorian, as
  // Date): no Date and no string, and no day cache for the columns of a row to take turns evicting.
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const mo = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (mo <= 2 ? 1 : 0);
  buf[n++] = 48 + Math.floor(y / 1000);
  buf[n++] = 48 + (Math.floor(y / 100) % 10);
  buf[n++] = 48 + (Math.floor(y / 10) % 10);
  buf[n++] = 48 + (y % 10);
  buf[n++] = 45;
  buf[n++] = 48 + Math.floor(mo / 10);
  buf[n++] = 48 + (mo % 10);
  buf[n++] = 45;
  buf[n++] = 48 + Math.floor(d / 10);
  buf[n++] = 48 + (d % 10);
  buf[n++] = 84;
  let t = ms - day * 86_400_000;
  const h = Math.floor(t / 3_600_000);
  t -= h * 3_600_000;
  const m = Math.floor(t / 60_000);
  t -= m * 60_000;
  const sec = Math.floor(t / 1000);
  t -= sec * 1000;
  buf[n++] = 48 + Math.floor(h / 10);
  buf[n++] = 48 + (h % 10);
  buf[n++] = 58;
  buf[n++] = 48 + Math.floor(m / 10);
  buf[n++] = 48 + (m % 10);
  buf[n++] = 58;
  buf[n++] = 48 + Math.floor(sec / 10);
  buf[n++] = 48 + (sec % 10);
  buf[n++] = 46;
  buf[n++] = 48 + Math.floor(t / 100);
  buf[n++] = 48 + (Math.floor(t / 10) % 10);
  buf[n++] = 48 + (t % 10);
  buf[n++] = 90;
  return n;
}

/** Named types (records, enums, fixed) may be referenced by name after their definition. */
function collectNames(type: unknown, namespace: string, out: Map<string, Json>): void {
  if (Array.isArray(type)) return type.forEach((t) => collectNames(t, namespace, out));
  if (typeof type !== 'object' || type === null) return;
  const t = type as Json;
  const ns = (t.namespace as string | undefined) ?? namespace;
  if (typeof t.name === 'string' && (t.type === 'record' || t.type === 'enum' || t.type === 'fixed')) {
    out.set(t.name, t);
    out.set(t.name.includes('.') ? t.name : ns ? `${ns}.${t.name}` : t.name, t);
  }
  if (t.type === 'record') for (const f of t.fields as Json[]) collectNames(f.type, ns, out);
  if (t.type === 'array') collectNames(t.items, ns, out);
  if (t.type === 'map') collectNames(t.values, ns, out);
}

function resolveRef(type: unknown, named: Map<string, Json>): unknown {
  if (typeof type === 'string' && !PRIMITIVES.has(type)) return named.get(type) ?? { type: 'record' };
  return type;
}

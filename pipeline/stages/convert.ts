import { readBulkDatetime } from '../../kernel/bulk-datetime';
import type { MappingType } from '../../schemas/mapping';

/** The mapping types that turn one non-empty CSV string into one value. */
export type ScalarType = Exclude<MappingType, 'boolean-map' | 'record-url' | 'user-status'>;

export type Converted =
  { readonly ok: true; readonly value: string | number | boolean } | { readonly ok: false; readonly reason: string };

/** Why a value was refused. One instance per reason (the reasons are fixed): a refusal allocates nothing. */
export class Refusal {
  constructor(readonly reason: string) {
    Object.freeze(this); // shared by every row: no caller may change what the next one is told
  }
}

const NOT_ID = new Refusal('not a 15- or 18-character Salesforce id');
const NOT_BOOLEAN = new Refusal('not a boolean (true or false)');
const NOT_INT = new Refusal('not a 32-bit integer');
const NOT_LONG = new Refusal('not an integer within +/-2^53');
const NOT_DOUBLE = new Refusal('not a decimal number');
const NOT_DATETIME = new Refusal('not an ISO-8601 datetime with a zone (e.g. 2024-05-01T10:20:30.000Z)');
const NOT_CALENDAR_DATETIME = new Refusal('not a valid calendar datetime');
const NOT_DATE = new Refusal('not a date (YYYY-MM-DD)');
const NOT_CALENDAR_DATE = new Refusal('not a valid calendar date');

const ID = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/**
 * Converts one non-empty Bulk CSV value (empty values are null before they get here). Pure.
 * Strict on purpose: Salesforce's formats are fixed (true/false, ISO-8601 UTC, plain decimals),
 * so anything else means a broken row or a changed field, which the dead-letter topic should show.
 */
export function convertScalar(type: ScalarType, raw: string): Converted {
  const v = scalarValue(type, raw);
  return v instanceof Refusal ? { ok: false, reason: v.reason } : { ok: true, value: v };
}

/**
 * convertScalar without a result object: the value, or the Refusal. The user stage calls it ~175 times a
 * row; a result object per call fed the garbage collector (docs/performance-s7-cpu.md).
 */
export function scalarValue(type: ScalarType, raw: string): string | number | boolean | Refusal {
  switch (type) {
    case 'string':
      return raw;
    case 'id':
      return ID.test(raw) ? raw : NOT_ID;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : NOT_BOOLEAN;
    case 'int': {
      const n = Number(raw);
      return INTEGER.test(raw) && n >= -(2 ** 31) && n < 2 ** 31 ? n : NOT_INT;
    }
    case 'long': {
      const n = Number(raw);
      return INTEGER.test(raw) && Number.isSafeInteger(n) ? n : NOT_LONG;
    }
    case 'double': {
      const n = Number(raw);
      return DECIMAL.test(raw) && Number.isFinite(n) ? n : NOT_DOUBLE;
    }
    case 'timestamp-millis':
      return parseDatetime(raw);
    case 'date':
      return parseDate(raw);
  }
}

/** ISO-8601 datetime with an explicit zone (Salesforce sends Z) -> epoch ms; sub-ms digits dropped. */
function parseDatetime(raw: string): number | Refusal {
  const t = bulkDatetime(raw);
  if (t !== undefined) return t;
  const m = DATETIME.exec(raw);
  if (!m) return NOT_DATETIME;
  const y = +m[1];
  const mo = +m[2];
  const d = +m[3];
  const h = +m[4];
  const mi = +m[5];
  const s = +m[6];
  if (!validCalendar(y, mo, d) || h > 23 || mi > 59 || s > 59) return NOT_CALENDAR_DATETIME;
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMinutes(m[8]) * 60_000;
}

/** The Bulk form (kernel/bulk-datetime.ts), undefined when `raw` is not exactly that form (the regex
 *  decides then); the result is what the regex path gives for it (test/unit/pipeline/convert-calendar.test.ts). */
function bulkDatetime(raw: string): number | Refusal | undefined {
  if (!readBulkDatetime(raw, PARTS)) return undefined;
  const y = PARTS[0];
  const mo = PARTS[1];
  const d = PARTS[2];
  if (!validCalendar(y, mo, d) || PARTS[3] > 23 || PARTS[4] > 59 || PARTS[5] > 59) return NOT_CALENDAR_DATETIME;
  return Date.UTC(y, mo - 1, d, PARTS[3], PARTS[4], PARTS[5], PARTS[6]);
}

const PARTS = new Int32Array(7);

/** YYYY-MM-DD -> days since 1970-01-01 (the Avro date logical type). */
function parseDate(raw: string): number | Refusal {
  const m = DATE.exec(raw);
  if (!m) return NOT_DATE;
  const y = +m[1];
  const mo = +m[2];
  const d = +m[3];
  return validCalendar(y, mo, d) ? Date.UTC(y, mo - 1, d) / DAY_MS : NOT_CALENDAR_DATE;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A day that exists, as a Date.UTC round trip decides it (what this did before, with a Date per
 * value on the hot path): Date.UTC reads years 0-99 as 1900-1999, so those never round-trip;
 * month 1-12; day 1 to the month's length in the proleptic Gregorian calendar.
 * Equivalence with the round trip: test/unit/pipeline/convert-calendar.test.ts.
 */
function validCalendar(y: number, mo: number, d: number): boolean {
  if (y < 100 || mo < 1 || mo > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (mo === 2 && leap ? 29 : MONTH_DAYS[mo - 1]);
}

function offsetMinutes(zone: string): number {
  if (zone === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return zone[0] === '-' ? -minutes : minutes;
}

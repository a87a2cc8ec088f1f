import type { MappingType } from '../../schemas/mapping';

/** The mapping types that turn one non-empty CSV string into one value. */
export type ScalarType = Exclude<MappingType, 'boolean-map' | 'record-url' | 'user-status'>;

export type Converted =
  { readonly ok: true; readonly value: string | number | boolean } | { readonly ok: false; readonly reason: string };

const fail = (reason: string): Converted => ({ ok: false, reason });
const done = (value: string | number | boolean): Converted => ({ ok: true, value });

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
  switch (type) {
    case 'string':
      return done(raw);
    case 'id':
      return ID.test(raw) ? done(raw) : fail('not a 15- or 18-character Salesforce id');
    case 'boolean':
      return raw === 'true' ? done(true) : raw === 'false' ? done(false) : fail('not a boolean (true or false)');
    case 'int': {
      const n = Number(raw);
      return INTEGER.test(raw) && n >= -(2 ** 31) && n < 2 ** 31 ? done(n) : fail('not a 32-bit integer');
    }
    case 'long': {
      const n = Number(raw);
      return INTEGER.test(raw) && Number.isSafeInteger(n) ? done(n) : fail('not an integer within +/-2^53');
    }
    case 'double': {
      const n = Number(raw);
      return DECIMAL.test(raw) && Number.isFinite(n) ? done(n) : fail('not a decimal number');
    }
    case 'timestamp-millis':
      return parseDatetime(raw);
    case 'date':
      return parseDate(raw);
  }
}

/** ISO-8601 datetime with an explicit zone (Salesforce sends Z) -> epoch ms; sub-ms digits dropped. */
function parseDatetime(raw: string): Converted {
  const m = DATETIME.exec(raw);
  if (!m) return fail('not an ISO-8601 datetime with a zone (e.g. 2024-05-01T10:20:30.000Z)');
  const y = +m[1];
  const mo = +m[2];
  const d = +m[3];
  const h = +m[4];
  const mi = +m[5];
  const s = +m[6];
  if (!validCalendar(y, mo, d) || h > 23 || mi > 59 || s > 59) return fail('not a valid calendar datetime');
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  return done(Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMinutes(m[8]) * 60_000);
}

/** YYYY-MM-DD -> days since 1970-01-01 (the Avro date logical type). */
function parseDate(raw: string): Converted {
  const m = DATE.exec(raw);
  if (!m) return fail('not a date (YYYY-MM-DD)');
  const y = +m[1];
  const mo = +m[2];
  const d = +m[3];
  return validCalendar(y, mo, d) ? done(Date.UTC(y, mo - 1, d) / DAY_MS) : fail('not a valid calendar date');
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
